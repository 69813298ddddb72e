"""The access log (one line per answered request, §3.3 ``X-Request-Id``) and the
middleware that feeds it, driven as plain ASGI without a server."""

from __future__ import annotations

import asyncio
import calendar
import io
import json
import re
import threading
import time
from collections.abc import Iterator

import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ecb_files.api.access_log import AccessLog, Entry
from ecb_files.api.middleware import RequestIdMiddleware

ENDED = calendar.timegm((2026, 11, 28, 22, 41, 7, 0, 0, 0)) + 0.123
ENTRY = Entry(
    ENDED,
    "127.0.0.1:51234",
    "POST",
    "/ecx/x/submitForCase",
    "1.1",
    200,
    0.0084,
    "3f2a",
)
LINE = re.compile(
    r"(?P<stamp>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) (?P<client>\S+) "
    r'"(?P<method>\S+) (?P<target>\S+) HTTP/(?P<version>\S+)" '
    r"(?P<status>\d+) (?P<ms>\d+\.\d)ms (?P<request_id>\S+)"
)
WRITER_THREAD = "ecb-files access log"


class CountingStream(io.StringIO):
    """A stream that counts its ``write`` calls."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


class StalledStream(io.StringIO):
    """A stream whose ``write`` waits until released (a slow terminal, a full pipe)."""

    def __init__(self) -> None:
        super().__init__()
        self.writing = threading.Event()
        self.release = threading.Event()

    def write(self, text: str) -> int:
        self.writing.set()
        assert self.release.wait(10)
        return super().write(text)


def entry(status: int = 200, request_id: str = "rid") -> Entry:
    return (ENDED, "10.0.0.1:1", "GET", "/healthz", "1.1", status, 0.001, request_id)


def writer_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == WRITER_THREAD]


@pytest.fixture
def stream() -> CountingStream:
    return CountingStream()


@pytest.fixture
def log(stream: CountingStream) -> Iterator[AccessLog]:
    access_log = AccessLog(stream, interval=0.02)
    yield access_log
    access_log.close()


# --- the line ----------------------------------------------------------------------------


def test_line_format(log: AccessLog, stream: CountingStream) -> None:
    """UTC time with milliseconds and Z, client, quoted request line, status, ms, id."""
    log.record(ENTRY)
    log.flush()
    assert stream.getvalue() == (
        '2026-11-28T22:41:07.123Z 127.0.0.1:51234 "POST /ecx/x/submitForCase HTTP/1.1" '
        "200 8.4ms 3f2a\n"
    )


def test_line_time_is_utc_whatever_the_local_zone(
    log: AccessLog, stream: CountingStream, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        log.record(ENTRY)
        log.flush()
    finally:
        monkeypatch.undo()
        time.tzset()
    assert stream.getvalue().startswith("2026-11-28T22:41:07.123Z ")


def test_line_of_a_request_nobody_answered(log: AccessLog, stream: CountingStream) -> None:
    """Status 0: the client left before any answer."""
    log.record((ENDED, "-", "GET", "/x?a=1", "2", 0, 12.34567, "id-0"))
    log.flush()
    assert stream.getvalue() == '2026-11-28T22:41:07.123Z - "GET /x?a=1 HTTP/2" 0 12345.7ms id-0\n'


# --- buffering ---------------------------------------------------------------------------


def test_flush_writes_everything_pending_in_one_write(
    log: AccessLog, stream: CountingStream
) -> None:
    for number in range(50):
        log.record(entry(request_id=f"r{number}"))
    log.flush()
    assert stream.writes == 1
    lines = stream.getvalue().splitlines()
    assert [line.rsplit(" ", 1)[1] for line in lines] == [f"r{n}" for n in range(50)]


def test_flush_with_nothing_pending_writes_nothing(log: AccessLog, stream: CountingStream) -> None:
    log.flush()
    assert stream.writes == 0


def test_the_writer_thread_writes_within_its_interval(
    log: AccessLog, stream: CountingStream
) -> None:
    log.start()
    log.record(entry(request_id="background"))
    deadline = time.monotonic() + 5
    while "background" not in stream.getvalue() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert stream.getvalue().endswith(" background\n")


def test_close_writes_what_is_pending_and_stops_the_thread(stream: CountingStream) -> None:
    log = AccessLog(stream, interval=3600)  # the thread would never flush by itself
    log.start()
    assert len(writer_threads()) == 1
    log.record(entry(request_id="last-words"))
    log.close()
    assert stream.getvalue().endswith(" last-words\n")
    assert writer_threads() == []


def test_close_without_start_still_writes_what_is_pending(stream: CountingStream) -> None:
    log = AccessLog(stream)
    log.record(entry(request_id="never-started"))
    log.close()
    assert stream.getvalue().endswith(" never-started\n")


def test_record_never_waits_for_a_slow_write() -> None:
    stream = StalledStream()
    log = AccessLog(stream, interval=0.01)
    log.start()
    try:
        log.record(entry(request_id="first"))
        assert stream.writing.wait(5)  # the writer is stuck inside write()
        began = time.monotonic()
        for number in range(1000):
            log.record(entry(request_id=f"r{number}"))
        assert time.monotonic() - began < 1.0
    finally:
        stream.release.set()
        log.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1001


def test_a_stream_that_went_away_drops_lines_and_the_writer_carries_on() -> None:
    stream = io.StringIO()
    stream.close()
    log = AccessLog(stream, interval=0.01)
    log.start()
    try:
        log.record(entry())
        deadline = time.monotonic() + 5
        while log._pending and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not log._pending
        assert len(writer_threads()) == 1
    finally:
        log.close()
    assert writer_threads() == []


# --- RequestIdMiddleware -----------------------------------------------------------------


def http_scope(
    *,
    path: str = "/ecx/x",
    query: bytes = b"",
    request_id: bytes | None = b"client-id-1",
    client: tuple[str, int] | None = ("192.0.2.7", 40000),
) -> Scope:
    headers = [] if request_id is None else [(b"x-request-id", request_id)]
    scope: Scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "http_version": "1.1",
        "headers": headers,
        "client": client,
    }
    return scope


def call(app: RequestIdMiddleware, scope: Scope, *, swallow: bool = False) -> list[Message]:
    """Run one request through ``app``; the messages it sent."""
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    async def run() -> None:
        try:
            await app(scope, receive, send)
        except Exception:
            if not swallow:
                raise

    asyncio.run(run())
    return sent


def answering(status: int) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    return app


def logged(log: AccessLog, stream: io.StringIO) -> list[dict[str, str]]:
    log.flush()
    found = []
    for line in stream.getvalue().splitlines():
        match = LINE.fullmatch(line)
        assert match is not None, line
        found.append(match.groupdict())
    return found


def sent_request_id(messages: list[Message]) -> str:
    start = next(m for m in messages if m["type"] == "http.response.start")
    headers: dict[bytes, bytes] = dict(start["headers"])
    return headers[b"x-request-id"].decode()


@pytest.mark.parametrize("status", [200, 401, 413, 503])
def test_middleware_logs_each_request_with_the_status_sent(
    log: AccessLog, stream: CountingStream, status: int
) -> None:
    app = RequestIdMiddleware(answering(status), access_log=log)
    messages = call(app, http_scope(query=b"a=1&b=2"))
    [line] = logged(log, stream)
    assert line["status"] == str(status)
    assert line["request_id"] == sent_request_id(messages) == "client-id-1"
    assert (line["method"], line["target"], line["version"]) == ("POST", "/ecx/x?a=1&b=2", "1.1")
    assert line["client"] == "192.0.2.7:40000"


def test_middleware_logs_one_line_per_request(log: AccessLog, stream: CountingStream) -> None:
    app = RequestIdMiddleware(answering(200), access_log=log)
    ids = [call(app, http_scope(request_id=None)) for _ in range(3)]
    lines = logged(log, stream)
    assert [line["request_id"] for line in lines] == [sent_request_id(m) for m in ids]
    assert len({line["request_id"] for line in lines}) == 3


def test_middleware_logs_the_request_id_it_made_for_an_insane_one(
    log: AccessLog, stream: CountingStream
) -> None:
    """§9: an X-Request-Id outside [A-Za-z0-9._:-]{1,128} is replaced; the log says which."""
    app = RequestIdMiddleware(answering(200), access_log=log)
    messages = call(app, http_scope(request_id=b"bad id"))
    [line] = logged(log, stream)
    assert line["request_id"] == sent_request_id(messages) != "bad id"


def test_middleware_logs_the_last_resort_500(log: AccessLog, stream: CountingStream) -> None:
    """§3.2: anything unexpected is a 500 with the request id; the log has it as 500."""

    async def crashing(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    app = RequestIdMiddleware(crashing, access_log=log)
    messages = call(app, http_scope())
    assert messages[0]["status"] == 500
    [line] = logged(log, stream)
    assert (line["status"], line["request_id"]) == ("500", "client-id-1")


def test_middleware_logs_the_status_already_sent_when_the_app_fails_later(
    log: AccessLog, stream: CountingStream
) -> None:
    async def fails_mid_body(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        raise RuntimeError("connection trouble mid-body")

    app = RequestIdMiddleware(fails_mid_body, access_log=log)
    with pytest.raises(RuntimeError):
        call(app, http_scope())
    [line] = logged(log, stream)
    assert line["status"] == "200"


def test_middleware_logs_status_0_when_nothing_was_sent(
    log: AccessLog, stream: CountingStream
) -> None:
    async def silent(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    app = RequestIdMiddleware(silent, access_log=log)
    assert call(app, http_scope()) == []
    [line] = logged(log, stream)
    assert line["status"] == "0"


def test_middleware_logs_a_cancelled_request_as_status_0(
    log: AccessLog, stream: CountingStream
) -> None:
    """The client left: the request's task is cancelled before any answer."""

    async def waits_forever(scope: Scope, receive: Receive, send: Send) -> None:
        await asyncio.Event().wait()

    app = RequestIdMiddleware(waits_forever, access_log=log)

    async def run() -> None:
        async def receive() -> Message:
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            raise AssertionError("nothing is sent")

        task = asyncio.ensure_future(app(http_scope(), receive, send))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run())
    [line] = logged(log, stream)
    assert line["status"] == "0"


def test_middleware_without_client_or_raw_path(log: AccessLog, stream: CountingStream) -> None:
    scope = http_scope(client=None)
    del scope["raw_path"]
    call(RequestIdMiddleware(answering(204), access_log=log), scope)
    [line] = logged(log, stream)
    assert (line["client"], line["target"]) == ("-", "/ecx/x")


def test_middleware_logs_the_path_as_sent(log: AccessLog, stream: CountingStream) -> None:
    scope = http_scope(path="/ecx/æ")
    scope["raw_path"] = b"/ecx/%C3%A6"
    call(RequestIdMiddleware(answering(404), access_log=log), scope)
    [line] = logged(log, stream)
    assert line["target"] == "/ecx/%C3%A6"


def test_middleware_without_access_log_still_answers() -> None:
    messages = call(RequestIdMiddleware(answering(200)), http_scope())
    assert messages[0]["status"] == 200
    assert sent_request_id(messages) == "client-id-1"


def test_middleware_does_not_log_lifespan_or_websocket_scopes(
    log: AccessLog, stream: CountingStream
) -> None:
    async def lifespan(scope: Scope, receive: Receive, send: Send) -> None:
        return None

    app = RequestIdMiddleware(lifespan, access_log=log)
    call(app, {"type": "lifespan"})
    assert logged(log, stream) == []


# --- JSON lines (ECB_FILES_LOG_FORMAT=json, §12.3) -----------------------------------------


def json_lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_json_line_has_every_member() -> None:
    """§12.3: time, level, message, request id, route, status, duration, client,
    partner, tenant, errorType, files and bytes — null where the request had none."""
    stream = io.StringIO()
    log = AccessLog(stream, json_lines=True)
    context = {"client_id": "aage", "partner": "p-1", "files": 2, "request_id": "3f2a"}
    log.record(ENTRY._replace(route="/ecx/{x}", context=context, received=1234))
    log.close()
    [line] = json_lines(stream)
    assert line == {
        "time": "2026-11-28T22:41:07.123Z",
        "level": "info",
        "message": "POST /ecx/x/submitForCase 200",
        "requestId": "3f2a",
        "route": "/ecx/{x}",
        "method": "POST",
        "path": "/ecx/x/submitForCase",
        "status": 200,
        "durationMs": 8.4,
        "address": "127.0.0.1:51234",
        "clientId": "aage",
        "partner": "p-1",
        "tenant": None,
        "user": None,
        "errorType": None,
        "files": 2,
        "bytes": 1234,
    }


LEVELS = [(200, "info"), (304, "info"), (404, "warning"), (0, "warning"), (503, "error")]


@pytest.mark.parametrize(("status", "level"), LEVELS)
def test_json_line_level_follows_the_status(status: int, level: str) -> None:
    """§12.3: 5xx error, 4xx or no answer warning, else info."""
    stream = io.StringIO()
    log = AccessLog(stream, json_lines=True)
    log.record(ENTRY._replace(status=status))
    log.close()
    assert json_lines(stream)[0]["level"] == level


def test_middleware_names_the_route_template_and_the_error_type() -> None:
    """§12.3: the route's template (convertor left out), and the envelope's errorType."""
    stream = io.StringIO()
    log = AccessLog(stream, json_lines=True)

    class Route:
        path = "/ecx/file/{fileId:guid}/content"

    async def refusing(scope: Scope, receive: Receive, send: Send) -> None:
        scope["route"] = Route()
        body = b'{"success": false, "errorDescription": "no", "errorType": "FileNotFound"}'
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": body})

    call(RequestIdMiddleware(refusing, access_log=log), http_scope())
    log.close()
    [line] = json_lines(stream)
    assert (line["route"], line["errorType"]) == ("/ecx/file/{fileId}/content", "FileNotFound")


def test_middleware_counts_the_body_bytes_received() -> None:
    """§12.3: ``bytes`` is what the request's body brought, over every message."""
    stream = io.StringIO()
    log = AccessLog(stream, json_lines=True)

    async def reading(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await receive()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})

    bodies = iter([b"abc", b"defgh"])

    async def receive() -> Message:
        return {"type": "http.request", "body": next(bodies), "more_body": True}

    async def send(message: Message) -> None:
        pass

    asyncio.run(RequestIdMiddleware(reading, access_log=log)(http_scope(), receive, send))
    log.close()
    [line] = json_lines(stream)
    assert (line["bytes"], line["route"]) == (8, "unmatched")
