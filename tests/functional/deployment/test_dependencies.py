"""Readiness, a database that goes away, a full disk, graceful shutdown (§3.4, §8)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.functional.api.multipart_bodies import post_parts, submission_part
from tests.functional.conftest import (
    PHOTO,
    Api,
    assert_error,
    b64,
    file_entry,
    secret_token,
    submission,
)
from tests.functional.deployment.conftest import raw_head, read_response
from tests.functional.proxy import TcpProxy
from tests.functional.server import ServerProcess
from tests.functional.stack import (
    Deployment,
    S3Server,
)
from tests.functional.world import World


def test_database_down_gives_503_with_retry_after_and_stores_nothing(
    database_behind_proxy: tuple[ServerProcess, TcpProxy], world: World
) -> None:
    """§3.2/§8: a database that is down → 503 GenericError, Retry-After; /readyz 503."""
    server, proxy = database_behind_proxy
    token = secret_token(server, "secret-client", world.secret)
    api = Api(server, token)
    assert httpx.get(f"{server.url}/readyz").status_code == 200
    proxy.cut()
    ready = httpx.get(f"{server.url}/readyz")
    assert ready.status_code == 503
    assert "retry-after" in ready.headers
    response = api.case(submission(world, world.open_case, [file_entry(data=b"x" * 50_000)]))
    assert_error(response, 503, "GenericError", "database")
    assert int(response.headers["retry-after"]) > 0
    assert server.blob_files() == []
    proxy.start()
    deadline = time.monotonic() + 20
    while httpx.get(f"{server.url}/readyz").status_code != 200:
        assert time.monotonic() < deadline, "not ready again after the database came back"
        time.sleep(0.2)
    assert api.case(submission(world, world.open_case, [file_entry()])).status_code == 200


def test_database_lost_mid_request_leaves_nothing_half_stored(
    database_behind_proxy: tuple[ServerProcess, TcpProxy], world: World
) -> None:
    """§3.4: the database goes away while the body streams → 503, no blob, no row."""
    server, proxy = database_behind_proxy
    token = secret_token(server, "secret-client", world.secret)
    body = json.dumps(
        submission(world, world.open_case, [file_entry("mid.jpg", b"m" * 2_000_000)])
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(raw_head(server, token, len(body)) + body[: len(body) // 2])
        time.sleep(0.3)
        proxy.cut()
        sock.sendall(body[len(body) // 2 :])
        response = read_response(sock)
    assert_error(response, 503, "GenericError")
    assert "retry-after" in response.headers
    assert server.blob_files() == []
    proxy.start()
    files = Api(server, token).files(case=world.open_case)
    assert [f for f in files if f["fileName"] == "mid.jpg"] == []


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs: a file system that really runs out of space."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def _as_json(api: Api, world: World, data: bytes) -> httpx.Response:
    big = file_entry("big.pdf", data, contentType="application/pdf")
    return api.case(submission(world, world.open_case, [big]))


def _as_parts(api: Api, world: World, data: bytes) -> httpx.Response:
    document = submission(world, world.open_case, [{"part": "big", "fileName": "big.pdf"}])
    big = ("big", ("big.pdf", data, "application/pdf"))
    return post_parts(api, "submitForCase", [submission_part(document), big])


@pytest.mark.parametrize("send", [_as_json, _as_parts], ids=["json", "multipart"])
def test_full_disk_gives_507_stores_nothing_and_recovers(
    tmp_path: Path,
    small_disk: Path,
    world: World,
    send: Callable[[Api, World, bytes], httpx.Response],
) -> None:
    """§3.4 (§10.1 for the binary form): storage full → 507 GenericError, nothing
    remains; accepted again once freed."""
    blobs = small_disk / "blobs"
    server = ServerProcess(
        tmp_path / "data",
        {"ECB_FILES_STORAGE_URL": blobs.as_uri()},
        deployment=Deployment(tmp_path / "data"),
    )
    server.cli("load", str(world.write_fixture(tmp_path / "fixture.json")))
    server.start()
    try:
        api = Api(server, secret_token(server, "secret-client", world.secret))
        filler = small_disk / "filler"
        filler.write_bytes(b"\0" * 1_500_000)
        data = b"%PDF-1.7\n" + os.urandom(1_000_000)  # a PDF to the §12.1 sniffer
        assert_error(send(api, world, data), 507, "GenericError", "storage is full")
        leftovers = [p for p in blobs.rglob("*") if p.is_file()] if blobs.exists() else []
        assert leftovers == []
        assert api.files(case=world.open_case) == []
        filler.unlink()
        assert send(api, world, data).status_code == 200
    finally:
        server.stop()


def test_sigterm_lets_the_request_in_flight_finish(tmp_path: Path, world: World) -> None:
    """§8 operations: graceful shutdown finishes in-flight requests, then exits."""
    server = ServerProcess(tmp_path / "data")
    server.cli("load", str(world.write_fixture(tmp_path / "fixture.json")))
    server.start()
    token = secret_token(server, "secret-client", world.secret)
    content = b64(PHOTO + b"g" * 300_000)
    body = json.dumps(
        submission(
            world,
            world.open_case,
            [{"fileName": "graceful.jpg", "contentType": "image/jpeg", "content": content}],
        )
    ).encode()
    assert server.process is not None
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            sock.sendall(raw_head(server, token, len(body)) + body[:1000])
            time.sleep(0.3)
            server.process.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            sock.sendall(body[1000:])
            response = read_response(sock)
        assert response.status_code == 200, response.text
        # uvicorn re-raises the signal once it has shut down cleanly.
        assert server.process.wait(timeout=30) in (0, -signal.SIGTERM)
        with contextlib.suppress(httpx.TransportError):
            httpx.get(f"{server.url}/healthz", timeout=1)
            pytest.fail("the server still answers after a graceful shutdown")
    finally:
        server.stop()


def test_storage_down_gives_503_and_readyz_503(
    storage_on_own_s3: tuple[ServerProcess, S3Server], world: World
) -> None:
    """§8: the S3 server stops → submissions 503 GenericError with Retry-After; /readyz 503."""
    server, s3 = storage_on_own_s3
    api = Api(server, secret_token(server, "secret-client", world.secret))
    assert api.case(submission(world, world.open_case, [file_entry()])).status_code == 200
    s3.stop()
    ready = httpx.get(f"{server.url}/readyz", timeout=30)
    assert ready.status_code == 503
    big = file_entry("lost.jpg", b"l" * 100_000)  # past the small-file size: a blob
    response = api.case(submission(world, world.open_case, [big]))
    assert_error(response, 503, "GenericError", "storage")
    assert int(response.headers["retry-after"]) > 0
    names = [f["fileName"] for f in api.files(case=world.open_case)]
    assert "lost.jpg" not in names


def test_storage_lost_mid_request_leaves_no_row(
    storage_on_own_s3: tuple[ServerProcess, S3Server], world: World
) -> None:
    """§3.4: S3 goes away while the body streams → 503, and no row refers to a lost blob."""
    server, s3 = storage_on_own_s3
    token = secret_token(server, "secret-client", world.secret)
    body = json.dumps(
        submission(world, world.open_case, [file_entry("cut.jpg", os.urandom(12_000_000))])
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=60) as sock:
        sock.sendall(raw_head(server, token, len(body)) + body[: len(body) // 3])
        time.sleep(0.5)
        s3.stop()
        with contextlib.suppress(OSError):
            sock.sendall(body[len(body) // 3 :])
        response = read_response(sock)
    assert_error(response, 503, "GenericError")
    assert "retry-after" in response.headers
    names = [f["fileName"] for f in Api(server, token).files(case=world.open_case)]
    assert "cut.jpg" not in names
