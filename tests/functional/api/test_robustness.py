"""Methods, unknown paths, the Server header and stalled bodies (§9 robustness)."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from tests.functional.api.raw_http import SUBMIT_PATH, exchange, request_head
from tests.functional.conftest import Api, assert_error, file_entry, submission
from tests.functional.server import ServerProcess
from tests.functional.world import World


@pytest.mark.parametrize("endpoint", ["submitForCase", "submitForDamageNotification"])
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_unsupported_method_on_a_submit_path_is_405_envelope(
    server: ServerProcess, endpoint: str, method: str
) -> None:
    """§9: unsupported methods → 405 with the JSON envelope (and Allow: POST, RFC 9110)."""
    response = httpx.request(method, server.url + SUBMIT_PATH.format(endpoint=endpoint))
    assert_error(response, 405, "GenericError")
    assert "POST" in response.headers.get("allow", "")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/healthz"),
        ("POST", "/ecx/host/api/integration/v1/file/limits"),
        ("DELETE", "/ecx/host/api/integration/v1/file/contentTypes"),
    ],
)
def test_unsupported_method_elsewhere_is_405_envelope(
    server: ServerProcess, method: str, path: str
) -> None:
    """§9: the 405 envelope on every path, not only the submit ones."""
    assert_error(httpx.request(method, server.url + path), 405, "GenericError")


@pytest.mark.parametrize(
    "path",
    [
        "/nothing-here",
        "/ecx/host/api/integration/v1/file/submitForClaim",
        "/ecx/host/api/integration/v1/file/",
        "/ecx/host/api/integration/v2/file/submitForCase",
    ],
)
def test_unknown_path_is_404_envelope(server: ServerProcess, path: str) -> None:
    """§3.3: every error, an unknown path too, is the JSON envelope."""
    for method in ("GET", "POST"):
        assert_error(httpx.request(method, server.url + path), 404, "GenericError")


def test_no_server_header_names_a_version(api: Api, server: ServerProcess, world: World) -> None:
    """§9: no Server header naming versions (on success, refusal and unknown path)."""
    answers = [
        api.case(submission(world, world.open_case, [file_entry()])),
        api.case(b"{"),
        api.case(b"{}", token="x"),
        httpx.get(server.url + "/nothing-here"),
        httpx.get(server.url + "/healthz"),
    ]
    for response in answers:
        server_header = response.headers.get("server", "")
        assert not any(c.isdigit() for c in server_header), server_header


def test_stalled_body_is_cut_off_with_408_and_nothing_is_stored(
    small_server: ServerProcess, small_token: str, small_api: Api, world: World
) -> None:
    """§9: a body with no byte for ECB_FILES_BODY_IDLE_TIMEOUT (2 s here) → 408 GenericError;
    nothing of it stays (no row, no blob)."""
    rows_before = small_api.files(case=world.open_case)
    blobs_before = small_server.blob_files()
    files = [file_entry("first.jpg", b"f" * 900), file_entry("second.jpg", b"s" * 900)]
    body = json.dumps(submission(world, world.open_case, files)).encode()
    head = request_head(
        small_server,
        {
            "Authorization": f"Bearer {small_token}",
            "Content-Type": "application/json",
            "Content-Length": str(len(body)),
        },
    )
    # Past the first file's content, into the second's.
    sent = body[: body.index(b"second.jpg") + 200]
    answer = exchange(small_server, head + sent, timeout=15)
    assert_error(answer.response, 408, "GenericError")
    assert 1.5 <= answer.seconds <= 10, answer.seconds
    deadline = time.monotonic() + 5
    while small_server.blob_files() != blobs_before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert small_server.blob_files() == blobs_before
    assert small_api.files(case=world.open_case) == rows_before
