"""The access log of a real server: one line per request, with the X-Request-Id it
answered with (§3.3, §9); none at all with ``ECB_FILES_ACCESS_LOG=off``."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

import httpx

from tests.functional.conftest import Api, file_entry, submission
from tests.functional.server import ServerProcess
from tests.functional.world import World

# 2026-11-28T22:41:07.123Z 127.0.0.1:51234 "POST /ecx/… HTTP/1.1" 200 8.4ms <request id>
CASE_PATH = "/ecx/host/api/integration/v1/file/submitForCase"
ACCESS_LINE = re.compile(
    r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z \S+:\d+ "(?P<method>[A-Z]+) (?P<target>\S+) '
    r'HTTP/[\d.]+" (?P<status>\d{1,3}) \d+\.\dms (?P<request_id>\S+)'
)


def access_lines(log_path: Path) -> list[re.Match[str]]:
    lines = log_path.read_text(errors="replace").splitlines()
    return [m for m in map(ACCESS_LINE.fullmatch, lines) if m is not None]


def line_for(server: ServerProcess, request_id: str, timeout: float = 10.0) -> re.Match[str]:
    """The one access line of ``request_id``; lines are written within a fraction of a second."""
    deadline = time.monotonic() + timeout
    while True:
        found = [m for m in access_lines(server.log_path) if m["request_id"] == request_id]
        if found or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert len(found) == 1, f"{len(found)} access lines for {request_id}"
    return found[0]


def test_a_request_gets_a_line_with_the_request_id_it_was_answered_with(
    server: ServerProcess,
) -> None:
    request_id = f"access-log-{uuid.uuid4().hex}"
    response = httpx.get(f"{server.url}/healthz?probe=1", headers={"X-Request-Id": request_id})
    assert response.headers["x-request-id"] == request_id
    line = line_for(server, request_id)
    assert (line["method"], line["target"], line["status"]) == ("GET", "/healthz?probe=1", "200")


def test_a_refusal_gets_a_line_with_its_status_and_the_id_the_server_made(
    server: ServerProcess,
) -> None:
    """§9: no (sane) X-Request-Id sent, so the server made one; the log names that one."""
    response = httpx.post(f"{server.url}{CASE_PATH}", content=b"{}")
    assert response.status_code == 401
    line = line_for(server, response.headers["x-request-id"])
    assert (line["method"], line["target"], line["status"]) == ("POST", CASE_PATH, "401")


def test_an_accepted_submission_gets_a_line(api: Api, world: World) -> None:
    response = api.case(submission(world, world.open_case, [file_entry()]))
    assert response.status_code == 200, response.text
    line = line_for(api.server, response.headers["x-request-id"])
    assert (line["method"], line["status"]) == ("POST", "200")


def test_with_access_log_off_no_line_is_written(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", {"ECB_FILES_ACCESS_LOG": "off"})
    server.start()
    request_id = f"quiet-{uuid.uuid4().hex}"
    try:
        response = httpx.get(f"{server.url}/healthz", headers={"X-Request-Id": request_id})
        assert response.headers["x-request-id"] == request_id
        assert httpx.post(f"{server.url}{CASE_PATH}", content=b"{}").status_code == 401
        time.sleep(0.5)  # longer than the writer's interval, were it running
    finally:
        server.stop()  # a running log is flushed at shutdown: nothing is left to come
    log = server.log_path.read_text(errors="replace")
    assert access_lines(server.log_path) == []
    assert request_id not in log
    assert '"GET /healthz' not in log  # nor uvicorn's own access log
