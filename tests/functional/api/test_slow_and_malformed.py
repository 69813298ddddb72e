"""Slow and malformed clients (§9 Robustness; docs/behaviour.md §9 "Slow bodies" and
"Malformed requests"): a body under the minimum rate is cut off with 408, malformed HTTP
is answered in the envelope, and no shape of request gets a 5xx other than 503/507."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.functional.api.raw_http import SUBMIT_PATH
from tests.functional.conftest import (
    Api,
    _start,
    assert_error,
    file_entry,
    secret_token,
    submission,
)
from tests.functional.server import ServerProcess
from tests.functional.world import World

# 240 bytes/s (Kestrel's rate) after a 1 s grace, so a trickle is cut off in seconds; an
# idle bound of 3 s for the shapes whose body never comes.
SLOW_LIMITS = {
    "ECB_FILES_MIN_BODY_RATE": "240",
    "ECB_FILES_MIN_BODY_RATE_GRACE": "1",
    "ECB_FILES_BODY_IDLE_TIMEOUT": "3",
}


@pytest.fixture(scope="module")
def slow_server(tmp_path_factory: pytest.TempPathFactory, world: World) -> Iterator[ServerProcess]:
    process = _start(tmp_path_factory.mktemp("slow"), world, SLOW_LIMITS)
    yield process
    process.stop()


@pytest.fixture(scope="module")
def slow_token(slow_server: ServerProcess, world: World) -> str:
    return secret_token(slow_server, "secret-client", world.secret)


# --- reading answers off a bare socket ----------------------------------------------------


def connect(server: ServerProcess) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=10)


def answers(sock: socket.socket, *, within: float = 10.0) -> list[httpx.Response]:
    """Every answer on the connection until the server closes it (or ``within`` passes
    without one more byte); a reset after the answers counts as a close."""
    deadline = time.monotonic() + within
    buffer = b""
    closed = False
    while not closed and time.monotonic() < deadline:
        sock.settimeout(max(deadline - time.monotonic(), 0.01))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        except ConnectionResetError:
            chunk = b""
        closed = not chunk
        buffer += chunk
    found = []
    while b"\r\n\r\n" in buffer:
        head, _, rest = buffer.partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        pairs = [(n.strip(), v.strip()) for n, _, v in (line.partition(":") for line in lines)]
        length = next((int(v) for n, v in pairs if n.lower() == "content-length"), 0)
        status = int(status_line.split()[1])
        if status == 100:
            buffer = rest
            continue
        found.append(httpx.Response(status, headers=pairs, content=rest[:length]))
        buffer = rest[length:]
    return found


def head(server: ServerProcess, method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def json_submission(world: World, size: int = 900) -> bytes:
    files = [file_entry("slow.txt", b"s" * size, contentType="text/plain")]
    return json.dumps(submission(world, world.open_case, files)).encode()


def send_paced(sock: socket.socket, data: bytes, piece: int, gap: float) -> None:
    """``data`` in pieces of ``piece`` bytes, one every ``gap`` seconds, until it is all
    sent or the server stops taking it."""
    for start in range(0, len(data), piece):
        try:
            sock.sendall(data[start : start + piece])
        except (BrokenPipeError, ConnectionResetError):
            return
        time.sleep(gap)


# --- the minimum body rate ----------------------------------------------------------------


def test_a_trickling_body_is_cut_off_with_408_and_nothing_is_stored(
    slow_server: ServerProcess, slow_token: str, world: World
) -> None:
    """§9: a body arriving at 10 bytes/s, never idle, is cut off once the grace (1 s
    here) has passed and its rate is under the minimum (240 bytes/s): 408 GenericError
    in the envelope, the connection closed, and nothing of it stored (§3.4)."""
    api = Api(slow_server, slow_token)
    rows_before = api.files(case=world.open_case)
    blobs_before = slow_server.blob_files()
    body = json_submission(world)
    headers = {
        "Authorization": f"Bearer {slow_token}",
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
    }
    with connect(slow_server) as sock:
        sock.sendall(
            head(slow_server, "POST", SUBMIT_PATH.format(endpoint="submitForCase"), headers)
        )
        started = time.monotonic()
        # 10 bytes/s for up to 6 s: the answer must come before the body could end.
        send_paced(sock, body[:60], 1, 0.1)
        found = answers(sock, within=10)
        seconds = time.monotonic() - started
    assert len(found) == 1, found
    assert_error(found[0], 408, "GenericError", "too slowly")
    assert found[0].headers.get("connection") == "close"
    assert 1.0 <= seconds <= 8.0, seconds
    assert slow_server.blob_files() == blobs_before
    assert api.files(case=world.open_case) == rows_before


def test_a_trickle_cut_off_is_not_remembered_by_its_idempotency_key(
    slow_server: ServerProcess, slow_token: str, world: World
) -> None:
    """§3.4, §9: the 408 of a too-slow body is not remembered: a retry with the same
    Idempotency-Key, sent at speed, is served as new (200, not a replayed 408)."""
    body = json_submission(world)
    key = f"slow-{time.time_ns()}"
    headers = {
        "Authorization": f"Bearer {slow_token}",
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
        "Idempotency-Key": key,
    }
    with connect(slow_server) as sock:
        sock.sendall(
            head(slow_server, "POST", SUBMIT_PATH.format(endpoint="submitForCase"), headers)
        )
        send_paced(sock, body[:40], 1, 0.1)
        found = answers(sock, within=10)
    assert_error(found[0], 408, "GenericError", "too slowly")
    retried = Api(slow_server, slow_token).case(json.loads(body), headers={"Idempotency-Key": key})
    assert retried.status_code == 200, retried.text
    assert "idempotent-replayed" not in retried.headers


def test_a_body_above_the_minimum_rate_is_not_cut_off(
    slow_server: ServerProcess, slow_token: str, world: World
) -> None:
    """§9: a body sent at about 600 bytes/s over several grace periods, above the
    minimum of 240, is read to its end and stored (200)."""
    body = json_submission(world, size=1200)
    headers = {
        "Authorization": f"Bearer {slow_token}",
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
    }
    with connect(slow_server) as sock:
        sock.sendall(
            head(slow_server, "POST", SUBMIT_PATH.format(endpoint="submitForCase"), headers)
        )
        started = time.monotonic()
        send_paced(sock, body, 60, 0.1)
        assert time.monotonic() - started > 2.5  # several grace periods
        found = answers(sock, within=10)
    assert len(found) == 1, found
    assert found[0].status_code == 200, found[0].text
    assert found[0].json()["success"] is True


@pytest.mark.parametrize(
    "path",
    [
        SUBMIT_PATH.format(endpoint="submitForDamageNotification"),
        "/ecx/host/api/integration/v1/damageNotification",
    ],
)
def test_a_trickling_multipart_body_is_cut_off_with_408(
    slow_server: ServerProcess, slow_token: str, path: str
) -> None:
    """§9, §10: a multipart body (a binary submission, FNoL) trickled at 10 bytes/s is
    cut off with 408 GenericError like a JSON one."""
    part = b'--x\r\nContent-Disposition: form-data; name="submission"\r\n\r\n{"a": ' + b" " * 80
    headers = {
        "Authorization": f"Bearer {slow_token}",
        "Content-Type": "multipart/form-data; boundary=x",
        "Content-Length": str(len(part) + 1000),
    }
    with connect(slow_server) as sock:
        sock.sendall(head(slow_server, "POST", path, headers))
        send_paced(sock, part, 1, 0.1)
        found = answers(sock, within=10)
    assert len(found) == 1, found
    assert_error(found[0], 408, "GenericError", "too slowly")


def test_a_trickling_token_request_is_cut_off_with_408(slow_server: ServerProcess) -> None:
    """§9: the minimum rate bounds every body, the token endpoint's form too (answered in
    RFC 6749's error form there, as every token error)."""
    form = b"grant_type=client_credentials&client_id=secret-client&client_secret=" + b"x" * 60
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Content-Length": str(len(form)),
    }
    with connect(slow_server) as sock:
        sock.sendall(head(slow_server, "POST", "/connect/token", headers))
        send_paced(sock, form[:50], 1, 0.1)
        found = answers(sock, within=10)
    assert len(found) == 1, found
    assert found[0].status_code == 408, found[0].text
    assert found[0].json()["error"] == "invalid_request"
    assert "too slowly" in found[0].json()["error_description"]


def test_a_trickling_page_form_is_cut_off_with_408(slow_server: ServerProcess) -> None:
    """§9: the claims-handler page's forms are bounded too: a sign-in form trickled at
    10 bytes/s is cut off with 408 GenericError."""
    form = b"email=someone%40example.com&password=" + b"p" * 60
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Content-Length": str(len(form)),
    }
    with connect(slow_server) as sock:
        sock.sendall(head(slow_server, "POST", "/ui/sign-in", headers))
        send_paced(sock, form[:50], 1, 0.1)
        found = answers(sock, within=10)
    assert len(found) == 1, found
    assert_error(found[0], 408, "GenericError", "too slowly")


# --- malformed HTTP -----------------------------------------------------------------------


def test_a_content_length_shorter_than_the_body_answers_then_400_envelope(
    slow_server: ServerProcess,
) -> None:
    """§9 (docs/behaviour.md "Malformed requests"): what follows a Content-Length's bytes
    is parsed as a next request; when that is malformed, the request that was whole is
    answered first, then a 400 InvalidRequest envelope with an X-Request-Id, and the
    connection is closed."""
    data = head(slow_server, "POST", "/healthz", {"Content-Length": "3"}) + b"abcdef\x01ghi\r\n\r\n"
    with connect(slow_server) as sock:
        sock.sendall(data)
        found = answers(sock)
    assert [r.status_code for r in found] == [405, 400], found
    assert_error(found[0], 405, "GenericError")
    assert_error(found[1], 400, "InvalidRequest", "malformed HTTP request")
    assert found[1].headers.get("connection") == "close"


def test_a_malformed_request_after_a_slow_whole_one_waits_for_its_answer(
    slow_server: ServerProcess, slow_token: str, world: World
) -> None:
    """§9, §3.4: a whole submission followed, in the same packet, by bytes that are not
    HTTP gets its own answer (200, stored) before the 400 for the rest."""
    body = json_submission(world)
    headers = {
        "Authorization": f"Bearer {slow_token}",
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
    }
    submit = head(slow_server, "POST", SUBMIT_PATH.format(endpoint="submitForCase"), headers)
    with connect(slow_server) as sock:
        sock.sendall(submit + body + b"\x00\x01 not http\r\n\r\n")
        found = answers(sock)
    assert [r.status_code for r in found] == [200, 400], [r.text for r in found]
    assert found[0].json()["success"] is True
    assert_error(found[1], 400, "InvalidRequest")


def test_a_bad_chunk_mid_body_is_answered_400_and_nothing_is_stored(
    slow_server: ServerProcess, slow_token: str, world: World
) -> None:
    """§9, §3.4: a chunked body whose framing breaks while the submission is being read
    is answered with the 400 envelope; the request never came whole, so nothing of it
    is stored, and the server logs no traceback."""
    api = Api(slow_server, slow_token)
    rows_before = api.files(case=world.open_case)
    blobs_before = slow_server.blob_files()
    log_before = slow_server.log_path.read_bytes()
    body = json_submission(world)
    headers = {
        "Authorization": f"Bearer {slow_token}",
        "Content-Type": "application/json",
        "Transfer-Encoding": "chunked",
    }
    half = body[: len(body) // 2]
    with connect(slow_server) as sock:
        sock.sendall(
            head(slow_server, "POST", SUBMIT_PATH.format(endpoint="submitForCase"), headers)
        )
        sock.sendall(b"%x\r\n%s\r\n" % (len(half), half))
        time.sleep(0.5)  # the service is reading the body now
        sock.sendall(b"not-a-size\r\n" + body[len(half) :])
        found = answers(sock)
    assert len(found) == 1, [r.text for r in found]
    assert_error(found[0], 400, "InvalidRequest", "malformed HTTP request")
    time.sleep(0.5)
    assert slow_server.blob_files() == blobs_before
    assert api.files(case=world.open_case) == rows_before
    new_log = slow_server.log_path.read_bytes()[len(log_before) :]
    assert b"Traceback" not in new_log, new_log.decode(errors="replace")[-3000:]


# --- the sweep: no request of any shape gets a 5xx other than 503/507 ----------------------


def shapes(port: int) -> dict[str, bytes]:
    host = f"Host: 127.0.0.1:{port}\r\n"
    form = b"grant_type=client_credentials"
    token = b"POST /connect/token HTTP/1.1\r\n" + host.encode()
    form_type = b"Content-Type: application/x-www-form-urlencoded\r\n"
    submit = f"POST {SUBMIT_PATH.format(endpoint='submitForCase')} HTTP/1.1\r\n{host}"
    return {
        "content-length-shorter": token + form_type + b"Content-Length: 5\r\n\r\n" + form,
        "content-length-longer": token + form_type + b"Content-Length: 500\r\n\r\n" + form,
        "content-length-conflicting": token
        + form_type
        + b"Content-Length: 5\r\nContent-Length: 29\r\n\r\n"
        + form,
        "content-length-repeated": token
        + form_type
        + b"Content-Length: 29\r\nContent-Length: 29\r\n\r\n"
        + form,
        "content-length-negative": token + b"Content-Length: -1\r\n\r\n" + form,
        "content-length-not-a-number": token + b"Content-Length: abc\r\n\r\n" + form,
        "content-length-huge": token + form_type + b"Content-Length: 99999999999999999999\r\n\r\n",
        "chunked-bad-size": token + form_type + b"Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n",
        "chunked-size-too-big": token
        + form_type
        + b"Transfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\nabc\r\n",
        "chunked-no-crlf": token + form_type + b"Transfer-Encoding: chunked\r\n\r\n3\r\nabcdef",
        "chunked-and-content-length": token
        + form_type
        + b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
        "transfer-encoding-unknown": token + form_type + b"Transfer-Encoding: gzip\r\n\r\nabc",
        "chunked-submit-bad-mid-body": submit.encode()
        + b"Authorization: Bearer x\r\nContent-Type: application/json\r\n"
        + b'Transfer-Encoding: chunked\r\n\r\n5\r\n{"a":\r\nxyz\r\n',
        "huge-header-line": b"GET /healthz HTTP/1.1\r\n"
        + host.encode()
        + b"X-Big: "
        + b"a" * 200_000
        + b"\r\n\r\n",
        "many-headers": b"GET /healthz HTTP/1.1\r\n"
        + host.encode()
        + b"".join(b"X-H%d: v\r\n" % i for i in range(5000))
        + b"\r\n",
        "huge-url": b"GET /" + b"a" * 200_000 + b" HTTP/1.1\r\n" + host.encode() + b"\r\n",
        "header-control-byte": b"GET /healthz HTTP/1.1\r\n"
        + host.encode()
        + b"X-Bad: a\x01b\r\n\r\n",
        "header-name-space": b"GET /healthz HTTP/1.1\r\n" + host.encode() + b"X Bad: v\r\n\r\n",
        "header-obs-fold": b"GET /healthz HTTP/1.1\r\n"
        + host.encode()
        + b"X-A: v\r\n folded\r\n\r\n",
        "header-no-colon": b"GET /healthz HTTP/1.1\r\n" + host.encode() + b"NoColon\r\n\r\n",
        "header-latin1-value": b"GET /healthz HTTP/1.1\r\n"
        + host.encode()
        + b"X-Request-Id: \xe9\xff\r\nAuthorization: Bearer \xe9\r\n\r\n",
        "bad-method-token": b"G@T /healthz HTTP/1.1\r\n" + host.encode() + b"\r\n",
        "lowercase-method": b"get /healthz HTTP/1.1\r\n" + host.encode() + b"\r\n",
        "unknown-method": b"BREW /healthz HTTP/1.1\r\n" + host.encode() + b"\r\n",
        "connect-method": b"CONNECT 127.0.0.1:443 HTTP/1.1\r\n" + host.encode() + b"\r\n",
        "options-star": b"OPTIONS * HTTP/1.1\r\n" + host.encode() + b"\r\n",
        "absolute-form-uri": f"GET http://127.0.0.1:{port}/healthz HTTP/1.1\r\n{host}\r\n".encode(),
        "path-non-ascii": b"GET /h\xffz HTTP/1.1\r\n" + host.encode() + b"\r\n",
        "path-bad-percent": b"GET /%zz%00%ff HTTP/1.1\r\n" + host.encode() + b"\r\n",
        "path-bad-percent-submit": b"POST /ecx/host/api/integration/v1/file/%ff%fe HTTP/1.1\r\n"
        + host.encode()
        + b"Content-Length: 0\r\n\r\n",
        "query-bad-percent": b"GET /healthz?a=%ff%zz&b HTTP/1.1\r\n" + host.encode() + b"\r\n",
        "http-1.0-no-host": b"GET /healthz HTTP/1.0\r\n\r\n",
        "http-0.9": b"GET /healthz\r\n\r\n",
        "http-version-unknown": b"GET /healthz HTTP/3.7\r\n" + host.encode() + b"\r\n",
        "no-host": b"GET /healthz HTTP/1.1\r\n\r\n",
        "two-hosts": b"GET /healthz HTTP/1.1\r\n" + host.encode() + b"Host: other\r\n\r\n",
        "pipelined": (b"GET /healthz HTTP/1.1\r\n" + host.encode() + b"\r\n") * 3,
        "pipelined-then-garbage": b"GET /healthz HTTP/1.1\r\n"
        + host.encode()
        + b"\r\n"
        + b"\x16\x03\x01\r\n\r\n",
        "get-with-body": b"GET /healthz HTTP/1.1\r\n"
        + host.encode()
        + b"Content-Length: 5\r\n\r\nhello",
        "expect-100-continue": token
        + form_type
        + b"Expect: 100-continue\r\nContent-Length: 29\r\n\r\n"
        + form,
        "expect-unknown": token
        + form_type
        + b"Expect: 42-wait\r\nContent-Length: 29\r\n\r\n"
        + form,
        "upgrade-h2c": b"GET /healthz HTTP/1.1\r\n"
        + host.encode()
        + b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
        + b"HTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n",
        "upgrade-websocket": b"GET /healthz HTTP/1.1\r\n"
        + host.encode()
        + b"Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
        + b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        "upgrade-with-body": token
        + form_type
        + b"Connection: Upgrade\r\nUpgrade: foo\r\nContent-Length: 29\r\n\r\n"
        + form,
        "http2-preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        "tls-hello": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 40,
        "only-crlf": b"\r\n\r\n\r\n",
        "bare-lf": b"GET /healthz HTTP/1.1\n" + host.encode().replace(b"\r\n", b"\n") + b"\n",
        "form-not-utf8": token + form_type + b"Content-Length: 4\r\n\r\n\xff\xfe=\xff",
        "multipart-no-boundary": submit.encode()
        + b"Authorization: Bearer x\r\nContent-Type: multipart/form-data\r\n"
        + b"Content-Length: 3\r\n\r\nabc",
        "submit-content-type-garbage": submit.encode()
        + b"Authorization: Bearer x\r\nContent-Type: \xff/\x01;;==\r\nContent-Length: 2\r\n\r\n{}",
        "submit-latin1-headers": submit.encode()
        + b"Authorization: Bearer \xe9\xff.\x80\r\nIdempotency-Key: \xff\xfe\r\n"
        + b"X-Request-Id: \xc3\r\nContent-Type: application/json; charset=\xff\r\n"
        + b"Content-Length: 2\r\n\r\n{}",
        "fnol-bad-boundary": b"POST /ecx/host/api/integration/v1/damageNotification HTTP/1.1\r\n"
        + host.encode()
        + b'Authorization: Bearer x\r\nContent-Type: multipart/form-data; boundary="\xff\x00\r\n'
        + b"Content-Length: 5\r\n\r\n--\xff\x00",
        "ui-sign-in-garbage-form": b"POST /ui/sign-in HTTP/1.1\r\n"
        + host.encode()
        + b"Content-Type: multipart/form-data; boundary=x\r\n"
        + b"Content-Length: 10\r\n\r\n--x\r\nbroke",
    }


SHAPES = sorted(shapes(0))


@pytest.mark.parametrize("shape", SHAPES)
def test_no_shape_of_request_gets_a_5xx(slow_server: ServerProcess, shape: str) -> None:
    """§3.2, §9: whatever bytes arrive, no answer is a 5xx other than 503/507; every answer
    is the JSON envelope or a service answer with an X-Request-Id; the server logs no
    traceback."""
    log_before = slow_server.log_path.read_bytes()
    with connect(slow_server) as sock:
        # Refused before all of it went out: what came back is still checked.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(shapes(slow_server.port)[shape])
        found = answers(sock, within=6)
    for response in found:
        assert response.status_code < 500 or response.status_code in (503, 507), response.text
        assert response.headers.get("x-request-id"), (response.status_code, response.text)
        if response.status_code >= 400 and response.headers.get("content-type", "").startswith(
            "application/json"
        ):
            body = response.json()
            assert body.get("success") is False or "error" in body, body
        elif response.status_code >= 400:
            assert response.headers.get("content-type", "").startswith("text/html"), response
    new_log = slow_server.log_path.read_bytes()[len(log_before) :]
    assert b"Traceback" not in new_log, new_log.decode(errors="replace")[-3000:]
    assert httpx.get(slow_server.url + "/healthz").status_code == 200
