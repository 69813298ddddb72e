"""Bearer checks on the submit endpoints, decided before the body (§2, §9)."""

from __future__ import annotations

import socket

import httpx
import pytest

from tests.functional.conftest import Api, assert_error, file_entry, secret_token, submission
from tests.functional.server import ServerProcess
from tests.functional.tokens import FromNow, access_token
from tests.functional.world import World


def body(world: World) -> dict[str, object]:
    return submission(world, world.open_case, [file_entry()])


def test_missing_header_is_401_without_error_attribute(api: Api, world: World) -> None:
    """§2: no Authorization header → 401, WWW-Authenticate: Bearer without error."""
    response = api.case(body(world), headers={"Authorization": ""})
    assert_error(response, 401, "Unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"


def test_other_scheme_is_treated_as_no_header(api: Api, world: World) -> None:
    """§9: any scheme other than Bearer is treated as no header."""
    response = api.case(body(world), headers={"Authorization": f"Basic {api.token}"})
    assert_error(response, 401, "Unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"


def test_bearer_scheme_is_case_insensitive(api: Api, world: World) -> None:
    """§9: the Bearer scheme is case-insensitive."""
    response = api.case(body(world), headers={"Authorization": f"bEaReR {api.token}"})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": FromNow(-120)},
        {"nbf": FromNow(300), "iat": FromNow(300)},
        {"iss": "https://someone-else.example"},
        {"aud": "another-audience"},
        {"header": {"kid": "unknown-kid"}},
    ],
    ids=["expired", "not-yet-valid", "other-issuer", "other-audience", "unknown-kid"],
)
def test_invalid_tokens_are_401_invalid_token(
    api: Api, server: ServerProcess, world: World, overrides: dict[str, object]
) -> None:
    """§2: malformed, badly signed, expired, not yet valid, other issuer or audience → 401."""
    forged = access_token(server, **overrides)
    response = api.case(body(world), token=forged)
    assert_error(response, 401, "Unauthorized")
    assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_tampered_and_malformed_tokens_are_401(api: Api, world: World) -> None:
    """§2: a token whose signature does not verify, or that is not a JWT, is invalid."""
    head, payload, signature = api.token.split(".")
    tampered = f"{head}.{payload}.{signature[:-4]}AAAA"
    for token in (tampered, "not-a-jwt", f"{head}.{payload}."):
        response = api.case(body(world), token=token)
        assert_error(response, 401, "Unauthorized")
        assert response.headers["www-authenticate"] == 'Bearer error="invalid_token"'


def test_token_without_write_scope_is_403(api: Api, server: ServerProcess, world: World) -> None:
    """§2: a valid token lacking platform-service-provider:write → 403 insufficient_scope."""
    read_only = secret_token(server, "read-only-client", world.secret)
    response = api.case(body(world), token=read_only)
    assert_error(response, 403, "Forbidden")
    assert 'error="insufficient_scope"' in response.headers["www-authenticate"]


def test_unauthorised_request_is_answered_before_the_body_arrives(server: ServerProcess) -> None:
    """§2: decided from the headers alone — the answer comes while the body is unsent."""
    request = (
        "POST /ecx/host/api/integration/v1/file/submitForCase HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.port}\r\n"
        "Content-Type: application/json\r\n"
        "Content-Length: 500000000\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request.encode() + b'{"securityToken": ')
        answer = sock.recv(65536).decode(errors="replace")
    assert answer.startswith("HTTP/1.1 401"), answer
    assert "Unauthorized" in answer


def test_whoami_names_the_client_of_a_valid_token(api: Api, server: ServerProcess) -> None:
    """§2: a partner can check a token without submitting anything."""
    response = httpx.get(
        f"{server.url}/ecx/host/api/integration/v1/whoami",
        headers={"Authorization": f"Bearer {api.token}"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["clientId"] == "secret-client"
    assert body["scopes"] == ["platform-service-provider:write"]
    assert body["expiresAt"].endswith("Z")


def test_whoami_accepts_a_token_without_the_write_scope(
    server: ServerProcess, world: World
) -> None:
    """§2: whoami needs a valid token, not a particular scope."""
    read_only = secret_token(server, "read-only-client", world.secret)
    response = httpx.get(
        f"{server.url}/ecx/host/api/integration/v1/whoami",
        headers={"Authorization": f"Bearer {read_only}"},
    )
    assert response.json()["scopes"] == ["platform-service-provider:read"]


def test_whoami_without_a_token_is_401(server: ServerProcess) -> None:
    """§2: the same 401 envelope and challenge as the submit endpoints."""
    response = httpx.get(f"{server.url}/ecx/host/api/integration/v1/whoami")
    assert_error(response, 401, "Unauthorized")
    assert response.headers["www-authenticate"] == "Bearer"
