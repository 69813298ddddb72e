"""Real server processes, loaded with the test world, and clients to talk to them."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.functional.server import ServerProcess
from tests.functional.stack import STACK
from tests.functional.world import World

SMALL_LIMITS = {
    "ECB_FILES_MAX_FILE_BYTES": "1000",
    "ECB_FILES_MAX_FILES_PER_REQUEST": "3",
    "ECB_FILES_MAX_REQUEST_BYTES": "20000",
    "ECB_FILES_BODY_IDLE_TIMEOUT": "2",
}


@pytest.fixture(scope="session", autouse=True)
def _stack() -> Iterator[None]:
    """Drop the databases and buckets this run made, and stop its S3 server."""
    yield
    STACK.close()


@pytest.fixture(scope="session")
def world() -> World:
    return World()


def _start(tmp: Path, world: World, env: dict[str, str] | None = None) -> ServerProcess:
    server = ServerProcess(tmp / "data", env)
    server.cli("load", str(world.write_fixture(tmp / "fixture.json")))
    server.start()
    return server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, world: World) -> Iterator[ServerProcess]:
    """The service on its defaults (100 MiB files, 100 files, 1 GiB bodies)."""
    process = _start(tmp_path_factory.mktemp("server"), world)
    yield process
    process.stop()


@pytest.fixture(scope="session")
def small_server(tmp_path_factory: pytest.TempPathFactory, world: World) -> Iterator[ServerProcess]:
    """The service with tiny limits, to test the edges of each."""
    process = _start(tmp_path_factory.mktemp("small"), world, SMALL_LIMITS)
    yield process
    process.stop()


def secret_token(server: ServerProcess, client_id: str, secret: str, scope: str = "") -> str:
    form = {"grant_type": "client_credentials"}
    if scope:
        form["scope"] = scope
    response = httpx.post(f"{server.url}/connect/token", data=form, auth=(client_id, secret))
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@pytest.fixture(scope="session")
def token(server: ServerProcess, world: World) -> str:
    return secret_token(server, "secret-client", world.secret)


@pytest.fixture(scope="session")
def small_token(small_server: ServerProcess, world: World) -> str:
    return secret_token(small_server, "secret-client", world.secret)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# The first bytes of a JPEG: a file named photo.jpg must start as one (§12.1).
PHOTO = b"\xff\xd8\xff\xe0hello"


def file_entry(name: str = "photo.jpg", data: bytes = PHOTO, **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "fileName": name,
        "contentType": extra.pop("contentType", "image/jpeg"),
        "content": b64(data),
    }
    entry.update(extra)
    return entry


def submission(
    world: World, target: str, files: list[dict[str, Any]], **payload: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "securityToken": payload.pop("securityToken", world.security_token),
        "payload": {
            "id": target,
            "insuranceCompanyAlias": payload.pop("insuranceCompanyAlias", "company"),
            "userEmail": payload.pop("userEmail", world.email),
            "files": files,
        },
    }
    body["payload"].update(payload)
    return body


class Api:
    """A thin client for the submit endpoints of one server."""

    def __init__(self, server: ServerProcess, token: str) -> None:
        self.server = server
        self.token = token

    def post(
        self,
        endpoint: str,
        body: bytes | dict[str, Any],
        headers: dict[str, str] | None = None,
        token: str | None = None,
    ) -> httpx.Response:
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        all_headers = {
            "Authorization": f"Bearer {token or self.token}",
            "Content-Type": "application/json",
            **(headers or {}),
        }
        path = f"/ecx/host/api/integration/v1/file/{endpoint}"
        return httpx.post(
            f"{self.server.url}{path}", content=content, headers=all_headers, timeout=60
        )

    def case(self, body: bytes | dict[str, Any], **kwargs: Any) -> httpx.Response:
        return self.post("submitForCase", body, **kwargs)

    def dn(self, body: bytes | dict[str, Any], **kwargs: Any) -> httpx.Response:
        return self.post("submitForDamageNotification", body, **kwargs)

    def files(self, *, case: str | None = None, dn: str | None = None) -> list[dict[str, Any]]:
        args = ["files", "list", "--json"] + (["--case", case] if case else ["--dn", str(dn)])
        return list(json.loads(self.server.cli(*args).stdout))


@pytest.fixture
def api(server: ServerProcess, token: str) -> Api:
    return Api(server, token)


@pytest.fixture
def small_api(small_server: ServerProcess, small_token: str) -> Api:
    return Api(small_server, small_token)


def assert_error(response: httpx.Response, status: int, error_type: str, *fragments: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"success", "errorDescription", "errorType"}, body
    assert body["success"] is False
    assert body["errorType"] == error_type, body
    for fragment in fragments:
        assert fragment in body["errorDescription"], body
    assert response.headers["content-type"].startswith("application/json")
    assert response.headers.get("x-request-id")
