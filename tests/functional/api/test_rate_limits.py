"""§12.2 rate limits over HTTP: the token endpoint's lockout by address, and the
per-client limits of the submit endpoints (requests and declared bytes) and of the read
API, each answered 429 with ``Retry-After`` (docs/behaviour.md §12.2)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.functional.api.raw_http import exchange, request_head
from tests.functional.conftest import Api, assert_error, file_entry, submission
from tests.functional.server import ServerProcess
from tests.functional.tokens import access_token, assertion_form, vendor_style_assertion
from tests.functional.world import World

API = "/ecx/host/api/integration/v1"
FNOL_URL = f"{API}/damageNotification"

GATE_LIMITS = {
    "ECB_FILES_AUTH_FAILURES_PER_CLIENT": "3",
    "ECB_FILES_AUTH_FAILURES_PER_ADDRESS": "5",
    "ECB_FILES_AUTH_FAILURE_WINDOW": "300",
    "ECB_FILES_TRUSTED_PROXIES": "127.0.0.1, ::1",
}
DIRECT_LIMITS = {
    "ECB_FILES_AUTH_FAILURES_PER_CLIENT": "3",
    "ECB_FILES_AUTH_FAILURES_PER_ADDRESS": "1000",
    "ECB_FILES_AUTH_FAILURE_WINDOW": "6",
    "ECB_FILES_TRUSTED_PROXIES": "10.0.0.0/8",
}
CLIENT_LIMITS = {
    "ECB_FILES_RATE_LIMIT": "3/minute",
    "ECB_FILES_BYTE_RATE_LIMIT": "10KiB/minute",
    "ECB_FILES_READ_RATE_LIMIT": "3/minute",
}


def _start(tmp: Path, world: World, env: dict[str, str]) -> ServerProcess:
    server = ServerProcess(tmp / "data", env)
    server.cli("load", str(world.write_fixture(tmp / "fixture.json")))
    server.start()
    return server


@pytest.fixture(scope="module")
def gate(tmp_path_factory: pytest.TempPathFactory, world: World) -> Iterator[ServerProcess]:
    """Small lockout limits, behind a trusted proxy: each test is its own address."""
    server = _start(tmp_path_factory.mktemp("gate"), world, GATE_LIMITS)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def direct(tmp_path_factory: pytest.TempPathFactory, world: World) -> Iterator[ServerProcess]:
    """Small lockout limits and a 6 s window; 127.0.0.1 is not a trusted proxy."""
    server = _start(tmp_path_factory.mktemp("direct"), world, DIRECT_LIMITS)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory, world: World) -> Iterator[ServerProcess]:
    """3 submissions, 10 KiB of declared bodies and 3 reads per client per minute."""
    server = _start(tmp_path_factory.mktemp("limited"), world, CLIENT_LIMITS)
    yield server
    server.stop()


def _address() -> str:
    return f"198.51.100.{uuid.uuid4().int % 250 + 1}, 10.0.0.{uuid.uuid4().int % 250 + 1}"


def _token_request(
    server: ServerProcess, client_id: str, secret: str, address: str | None = None
) -> httpx.Response:
    headers = {"X-Forwarded-For": address} if address else {}
    return httpx.post(
        f"{server.url}/connect/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
        headers=headers,
    )


def _assert_locked(response: httpx.Response, window: int) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"] == "temporarily_unavailable"
    assert set(response.json()) == {"error", "error_description"}
    assert response.headers["cache-control"] == "no-store"
    assert 1 <= int(response.headers["retry-after"]) <= window


def test_failures_for_one_client_lock_it_out_from_that_address_even_with_the_right_secret(
    gate: ServerProcess, world: World
) -> None:
    """§12.2: N failed authentications for one client id from one address → 429 for it
    there, the right secret included; the same client elsewhere is not affected."""
    here, elsewhere = "203.0.113.7", "203.0.113.8"
    for _ in range(3):
        assert _token_request(gate, "secret-client", "wrong", here).status_code == 401
    _assert_locked(_token_request(gate, "secret-client", world.secret, here), 300)
    assert _token_request(gate, "secret-client", world.secret, elsewhere).status_code == 200


def test_a_client_lockout_leaves_other_clients_of_the_address_alone(
    gate: ServerProcess, world: World
) -> None:
    """§12.2: the per-client lockout is for that client id only."""
    here = "203.0.113.20"
    for _ in range(3):
        assert _token_request(gate, "secret-client", "wrong", here).status_code == 401
    assert _token_request(gate, "other-client", world.secret, here).status_code == 200


def test_failures_across_client_ids_lock_the_whole_address(
    gate: ServerProcess, world: World
) -> None:
    """§12.2: N failures from one address, whatever the client ids → 429 for every
    client from it; other addresses are not affected."""
    here = "2001:db8::31"
    for n in range(5):
        assert _token_request(gate, f"nobody-{n}", "wrong", here).status_code == 401
    _assert_locked(_token_request(gate, "other-client", world.secret, here), 300)
    assert _token_request(gate, "other-client", world.secret, "2001:db8::32").status_code == 200


def test_failed_assertions_count_and_a_good_assertion_is_refused_during_the_lockout(
    gate: ServerProcess, world: World
) -> None:
    """§12.2: private_key_jwt failures count like secrets; the lockout refuses a good
    assertion too."""
    headers = {"X-Forwarded-For": "203.0.113.40"}
    url = f"{gate.url}/connect/token"
    key, x5t = world.cert_key.private_pem, world.cert_key.x5t
    for _ in range(3):
        bad = vendor_style_assertion(gate, "jwt-client", key, x5t, exp_in=-600)
        assert httpx.post(url, data=assertion_form(bad), headers=headers).status_code == 401
    good = vendor_style_assertion(gate, "jwt-client", key, x5t)
    _assert_locked(httpx.post(url, data=assertion_form(good), headers=headers), 300)


def test_successes_do_not_count(gate: ServerProcess, world: World) -> None:
    """§12.2: only failed client authentications count towards the lockout."""
    here = "203.0.113.50"
    for _ in range(8):
        assert _token_request(gate, "secret-client", world.secret, here).status_code == 200


def test_x_forwarded_for_from_an_untrusted_peer_is_ignored(
    direct: ServerProcess, world: World
) -> None:
    """§12.2: the address is the peer's unless the peer is a trusted proxy: a changing
    X-Forwarded-For from an untrusted peer does not escape the lockout."""
    for _ in range(3):
        response = _token_request(direct, "secret-client", "wrong", _address())
        assert response.status_code == 401
    _assert_locked(_token_request(direct, "secret-client", world.secret, _address()), 6)


def test_the_lockout_lifts_when_retry_after_has_passed(direct: ServerProcess, world: World) -> None:
    """§12.2: locked until the window passes; Retry-After says when."""
    for _ in range(3):
        assert _token_request(direct, "other-client", "wrong").status_code == 401
    locked = _token_request(direct, "other-client", world.secret)
    _assert_locked(locked, 6)
    time.sleep(int(locked.headers["retry-after"]) + 0.5)
    assert _token_request(direct, "other-client", world.secret).status_code == 200


# Submissions: every test is a client of its own (a token minted for a new client id),
# so the module's one server serves them all. Such a client has no partner: a submission
# it may make is answered 401 InvalidSecurityToken, after the limits.


def _client_token(server: ServerProcess) -> str:
    return access_token(server, sub=(client := f"rl-{uuid.uuid4()}"), client_id=client)


def _submit(server: ServerProcess, world: World, token: str, **headers: str) -> httpx.Response:
    body = submission(world, world.open_case, [file_entry()])
    return Api(server, token).case(body, headers=headers)


def _assert_too_many(response: httpx.Response, limit: int = 60) -> None:
    assert_error(response, 429, "TooManyRequests")
    assert 1 <= int(response.headers["retry-after"]) <= limit


def test_submissions_past_the_rate_are_429_with_retry_after(
    limited: ServerProcess, world: World
) -> None:
    """§12.2: ECB_FILES_RATE_LIMIT requests per client → then 429 TooManyRequests."""
    token = _client_token(limited)
    for _ in range(3):
        assert _submit(limited, world, token).status_code != 429
    _assert_too_many(_submit(limited, world, token))


def test_both_submit_endpoints_and_fnol_share_one_budget(
    limited: ServerProcess, world: World
) -> None:
    """§12.2: the two submit endpoints and the FNoL one count together."""
    token = _client_token(limited)
    api = Api(limited, token)
    assert api.case(submission(world, world.open_case, [file_entry()])).status_code != 429
    assert api.dn(submission(world, world.open_dn, [file_entry()])).status_code != 429
    fnol = httpx.post(
        f"{limited.url}{FNOL_URL}",
        files=[("fnol", (None, b"{}", "application/vnd.casecreation+json"))],
        headers={"Authorization": f"Bearer {token}"},
    )
    assert fnol.status_code != 429
    _assert_too_many(api.dn(submission(world, world.open_dn, [file_entry()])))


def test_the_429_is_decided_from_the_headers_before_the_body(
    limited: ServerProcess, world: World
) -> None:
    """§12.2/§9: the refusal comes without a byte of the body sent."""
    token = _client_token(limited)
    for _ in range(3):
        _submit(limited, world, token)
    head = request_head(
        limited,
        {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Content-Length": "1000",
        },
    )
    _assert_too_many(exchange(limited, head, timeout=10).response)


def test_the_429_comes_after_the_token_and_before_content_type_and_length(
    limited: ServerProcess, world: World
) -> None:
    """§9: within step 1, token, then the §12.2 limits, then Content-Type, then
    Content-Length."""
    token = _client_token(limited)
    for _ in range(3):
        _submit(limited, world, token)
    wrong_type = httpx.post(
        f"{limited.url}{API}/file/submitForCase",
        content=b"x",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "text/plain"},
    )
    _assert_too_many(wrong_type)
    no_token = httpx.post(f"{limited.url}{API}/file/submitForCase", content=b"{}")
    assert_error(no_token, 401, "Unauthorized")


def test_a_429_is_not_remembered_and_retry_after_is_enough_to_wait(
    limited: ServerProcess, world: World
) -> None:
    """§9/§12.2: a 429 is decided from the headers and not remembered by its
    Idempotency-Key: retried after Retry-After, the same key gets a real answer."""
    token = _client_token(limited)
    for _ in range(3):
        _submit(limited, world, token)
    key = {"Idempotency-Key": f"rl-{uuid.uuid4()}"}
    refused = _submit(limited, world, token, **key)
    _assert_too_many(refused, limit=20)  # 3/minute: one more every 20 s
    time.sleep(int(refused.headers["retry-after"]) + 0.5)
    retried = _submit(limited, world, token, **key)
    assert retried.status_code != 429, retried.text
    assert retried.headers.get("idempotent-replayed") is None


def test_the_byte_budget_admits_only_what_fits(limited: ServerProcess, world: World) -> None:
    """§12.2: a request is admitted only if its declared size fits what is left of the
    byte budget; a smaller one that fits still is."""
    token = _client_token(limited)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    url = f"{limited.url}{API}/file/submitForCase"
    assert httpx.post(url, content=b" " * 6000, headers=headers).status_code != 429
    _assert_too_many(httpx.post(url, content=b" " * 6000, headers=headers))
    assert httpx.post(url, content=b" " * 3000, headers=headers).status_code != 429


def test_a_body_larger_than_the_whole_byte_budget_is_429(
    limited: ServerProcess, world: World
) -> None:
    """§12.2: one request larger than the whole byte budget gets 429 too, before its
    body is read."""
    token = _client_token(limited)
    head = request_head(
        limited,
        {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Content-Length": str(11 * 1024),
        },
    )
    response = exchange(limited, head).response
    _assert_too_many(response)
    assert "whole rate limit" in response.json()["errorDescription"]


def test_reads_past_the_read_rate_are_429(limited: ServerProcess, world: World) -> None:
    """§12.2: ECB_FILES_READ_RATE_LIMIT per client on the read API (§11.2)."""
    form = {"grant_type": "client_credentials"}
    issued = httpx.post(
        f"{limited.url}/connect/token", data=form, auth=("read-only-client", world.secret)
    )
    headers = {"Authorization": f"Bearer {issued.json()['access_token']}"}
    paths = [f"/case/{world.open_case}", f"/case/{world.open_case}/files", f"/file/{uuid.uuid4()}"]
    for path in paths:
        assert httpx.get(f"{limited.url}{API}{path}", headers=headers).status_code != 429
    _assert_too_many(httpx.get(f"{limited.url}{API}/case/{world.open_case}", headers=headers))


def test_openapi_documents_the_429s(limited: ServerProcess) -> None:
    """§12.2, §9: /openapi.json lists the 429 with Retry-After wherever a limit applies."""
    paths = httpx.get(f"{limited.url}/openapi.json").json()["paths"]
    limited_operations = [
        ("post", "/connect/token"),
        ("post", f"{API}/file/submitForCase"),
        ("post", f"{API}/file/submitForDamageNotification"),
        ("post", FNOL_URL),
        ("get", f"{API}/case/{{caseId}}"),
        ("get", f"{API}/file/{{fileId}}/content"),
        ("post", f"{API}/case/{{caseId}}/close"),
    ]
    for method, path in limited_operations:
        answer = paths[path][method]["responses"]["429"]
        assert "Retry-After" in answer["headers"], path
