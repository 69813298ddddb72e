"""All or nothing, durable before 200 (§3.4, §9 storage area)."""

from __future__ import annotations

import hashlib
import json
import socket
import time
import uuid

from tests.functional.conftest import Api, assert_error, b64, file_entry, submission
from tests.functional.server import ServerProcess
from tests.functional.world import World


def wait_until_storage_is(server: ServerProcess, expected: list[str], seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while server.blob_files() != expected and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.blob_files() == expected


def test_success_stores_exact_bytes_with_their_sha256(
    api: Api, world: World, server: ServerProcess
) -> None:
    """§3.3/§3.4: stored bytes are exactly the decoded bytes; size and sha256 reported."""
    data = b"%PDF-1.7\n" + bytes(range(256)) * 40  # a PDF to the §12.1 sniffer
    response = api.case(
        submission(
            world, world.open_case, [file_entry("exact.pdf", data, contentType="application/pdf")]
        )
    )
    assert response.status_code == 200, response.text
    entry = response.json()["payload"]["files"][0]
    assert entry["size"] == len(data)
    assert entry["sha256"] == hashlib.sha256(data).hexdigest()
    out = server.data_dir / "exported.bin"
    server.cli("files", "get", entry["id"], "-o", str(out))
    assert out.read_bytes() == data


def test_third_file_refused_for_its_type_leaves_no_row_and_no_blob(
    api: Api, world: World, server: ServerProcess
) -> None:
    """§3.4: a request whose third file is refused (415) stores none of its files."""
    rows_before = api.files(case=world.open_case)
    blobs_before = server.blob_files()
    files = [
        file_entry("a.jpg", b"a" * 5000),
        file_entry("b.jpg", b"b" * 5000),
        file_entry("c.exe", b"c"),
    ]
    response = api.case(submission(world, world.open_case, files))
    assert_error(response, 415, "GenericError", "payload.files[2]", "c.exe")
    assert api.files(case=world.open_case) == rows_before
    assert server.blob_files() == blobs_before


def test_third_file_with_bad_base64_leaves_no_row_and_no_blob(
    api: Api, world: World, server: ServerProcess
) -> None:
    """§3.4: a fault met mid-stream in the third file discards the first two."""
    rows_before = api.files(case=world.open_case)
    blobs_before = server.blob_files()
    third = {"fileName": "c.jpg", "contentType": "image/jpeg", "content": "not*base64"}
    files = [file_entry("a.jpg", b"a" * 5000), file_entry("b.jpg", b"b" * 5000), third]
    response = api.case(submission(world, world.open_case, files))
    assert_error(response, 400, "InvalidRequest", "payload.files[2]")
    assert api.files(case=world.open_case) == rows_before
    assert server.blob_files() == blobs_before


def test_client_disconnecting_mid_body_leaves_no_row_and_no_blob(
    api: Api, world: World, server: ServerProcess
) -> None:
    """§3.4/§9: a dropped connection stores nothing (after a short cleanup)."""
    rows_before = api.files(case=world.open_case)
    blobs_before = server.blob_files()
    first = b64(b"x" * 3_000_000)
    body = json.dumps(
        submission(
            world,
            world.open_case,
            [
                {"fileName": "a.jpg", "contentType": "image/jpeg", "content": first},
                file_entry("b.jpg", b"b" * 100),
            ],
        )
    ).encode()
    head = (
        "POST /ecx/host/api/integration/v1/file/submitForCase HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.port}\r\n"
        f"Authorization: Bearer {api.token}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(head + body[: len(body) * 3 // 4])
        time.sleep(0.5)  # let the server stream part of it into staging
    wait_until_storage_is(server, blobs_before)
    assert api.files(case=world.open_case) == rows_before


def test_client_disconnecting_mid_body_is_no_error_in_the_log(
    api: Api, world: World, server: ServerProcess
) -> None:
    """§9: a partner's dropped connection is logged with status 0, not as a server error."""
    request_id = f"gone-{uuid.uuid4().hex}"
    body = json.dumps(
        submission(world, world.open_case, [file_entry("a.jpg", b"x" * 2_000_000)])
    ).encode()
    head = (
        "POST /ecx/host/api/integration/v1/file/submitForCase HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.port}\r\n"
        f"Authorization: Bearer {api.token}\r\n"
        f"X-Request-Id: {request_id}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(head + body[: len(body) // 2])
        time.sleep(0.3)
    deadline = time.monotonic() + 10
    while request_id not in server.log_path.read_text(errors="replace"):
        assert time.monotonic() < deadline, "the dropped request was never logged"
        time.sleep(0.1)
    time.sleep(0.3)  # the access log line follows the handler's
    lines = [
        line
        for line in server.log_path.read_text(errors="replace").splitlines()
        if request_id in line
    ]
    assert any('HTTP/1.1" 0 ' in line for line in lines), lines  # status 0: no answer
    assert not any("unhandled error" in line for line in lines), lines
