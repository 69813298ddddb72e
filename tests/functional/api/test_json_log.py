"""``ECB_FILES_LOG_FORMAT=json`` (§12.3): every line the server writes is one JSON object;
a request's line names its route, status, duration, client, partner, errorType, files
and bytes."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.functional.conftest import Api, file_entry, secret_token, submission
from tests.functional.server import ServerProcess
from tests.functional.world import World

API = "/ecx/host/api/integration/v1"
CASE_PATH = f"{API}/file/submitForCase"


@pytest.fixture(scope="module")
def json_server(tmp_path_factory: pytest.TempPathFactory, world: World) -> Iterator[ServerProcess]:
    tmp = tmp_path_factory.mktemp("json-log")
    server = ServerProcess(tmp / "data", {"ECB_FILES_LOG_FORMAT": "json"})
    server.cli("load", str(world.write_fixture(tmp / "fixture.json")))
    server.start()
    yield server
    server.stop()


def log_objects(server: ServerProcess) -> list[dict[str, Any]]:
    """The server's stderr, each line parsed as JSON (a line that is not: the test fails)."""
    lines = server.log_path.read_text(errors="replace").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def line_for(server: ServerProcess, request_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while True:
        found = [o for o in log_objects(server) if o.get("requestId") == request_id]
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(found) == 1, f"{len(found)} lines for {request_id}"
    return found[0]


def test_a_submission_line_names_route_client_partner_files_and_bytes(
    json_server: ServerProcess, world: World
) -> None:
    """§12.3: a submission line names route client partner files and bytes."""
    api = Api(json_server, secret_token(json_server, "secret-client", world.secret))
    body = json.dumps(
        submission(
            world, world.open_case, [file_entry("a.txt", b"a" * 500, contentType="text/plain")]
        )
    )
    response = api.case(body.encode())
    assert response.status_code == 200, response.text
    line = line_for(json_server, response.headers["x-request-id"])
    assert line["level"] == "info"
    assert line["route"] == CASE_PATH
    assert (line["method"], line["path"], line["status"]) == ("POST", CASE_PATH, 200)
    assert isinstance(line["durationMs"], float)
    assert line["time"].endswith("Z")
    assert line["message"] == f"POST {CASE_PATH} 200"
    assert (line["clientId"], line["partner"], line["files"]) == (
        "secret-client",
        world.partner_id,
        1,
    )
    assert line["bytes"] == len(body.encode())
    assert line["errorType"] is None


def test_a_refusal_line_names_its_error_type(json_server: ServerProcess) -> None:
    """§12.3: a refusal line names its error type."""
    response = httpx.post(f"{json_server.url}{CASE_PATH}", content=b"{}")
    assert response.status_code == 401
    line = line_for(json_server, response.headers["x-request-id"])
    assert (line["status"], line["level"], line["errorType"]) == (401, "warning", "Unauthorized")


def test_an_insurer_read_line_names_the_client_and_tenant(
    json_server: ServerProcess, world: World
) -> None:
    """§12.3: an insurer read line names the client and tenant."""
    token = secret_token(json_server, "insurer-client", world.secret)
    request_id = f"json-read-{uuid.uuid4().hex}"
    response = httpx.get(
        f"{json_server.url}{API}/case/{world.open_case}",
        headers={"Authorization": f"Bearer {token}", "X-Request-Id": request_id},
    )
    assert response.status_code == 200, response.text
    line = line_for(json_server, request_id)
    assert line["route"] == f"{API}/case/{{caseId}}"
    assert line["clientId"] == "insurer-client"
    assert isinstance(line["tenant"], int)
    assert line["partner"] is None


def test_every_line_is_json_the_server_start_included(json_server: ServerProcess) -> None:
    """§12.3: uvicorn's own records (start-up) are JSON objects too."""
    objects = log_objects(json_server)
    assert any(o.get("logger", "").startswith("uvicorn") for o in objects)
    assert all({"time", "level", "message"} <= o.keys() for o in objects)


def test_an_unknown_log_format_is_refused_at_start(tmp_path: Path) -> None:
    """§12.3: an unknown log format is refused at start."""
    server = ServerProcess(tmp_path / "data", {"ECB_FILES_LOG_FORMAT": "xml"})
    result = server.cli("serve", "--port", str(server.port), check=False)
    assert result.returncode == 2, result.stderr
    assert "ECB_FILES_LOG_FORMAT" in result.stderr
