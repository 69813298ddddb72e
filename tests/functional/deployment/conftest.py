"""What the deployment tests share: servers whose database or storage a test can take away."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from tests.db_support import fresh_postgres_database
from tests.functional.proxy import TcpProxy
from tests.functional.server import ServerProcess, free_port
from tests.functional.stack import (
    DEFAULT_POSTGRES,
    POSTGRES_ENV,
    S3_CREDENTIALS,
    Deployment,
    S3Server,
)
from tests.functional.world import World

SUBMIT = "/ecx/host/api/integration/v1/file/submitForCase"


def raw_head(server: ServerProcess, token: str, length: int) -> bytes:
    return (
        f"POST {SUBMIT} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()


def read_response(sock: socket.socket) -> httpx.Response:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    length = int(headers.get("content-length", "0"))
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return httpx.Response(int(lines[0].split()[1]), headers=headers, content=body)


@pytest.fixture
def database_behind_proxy(tmp_path: Path, world: World) -> Iterator[tuple[ServerProcess, TcpProxy]]:
    """A server whose PostgreSQL connection runs through a proxy the test can cut."""
    server_url = os.environ.get(POSTGRES_ENV, DEFAULT_POSTGRES)
    target = make_url(server_url)
    proxy = TcpProxy(target.host or "127.0.0.1", target.port or 5432)
    proxy.start()
    with fresh_postgres_database(server_url) as url:
        proxied = make_url(url).set(host="127.0.0.1", port=proxy.port)
        env = {"ECB_FILES_DATABASE_URL": proxied.render_as_string(hide_password=False)}
        server = ServerProcess(tmp_path / "data", env, deployment=Deployment(tmp_path / "data"))
        server.cli("load", str(world.write_fixture(tmp_path / "fixture.json")))
        server.start()
        try:
            yield server, proxy
        finally:
            server.stop()
            proxy.cut()


@pytest.fixture
def storage_on_own_s3(tmp_path: Path, world: World) -> Iterator[tuple[ServerProcess, S3Server]]:
    """A server whose blobs go to an S3 API the test can stop."""
    s3 = S3Server(free_port())
    s3.start()
    deployment = Deployment(tmp_path / "data")
    deployment.s3, deployment.bucket = s3, "outage"
    s3.client().create_bucket(Bucket="outage")
    env = {
        **S3_CREDENTIALS,
        "ECB_FILES_STORAGE_URL": "s3://outage/files",
        "ECB_FILES_S3_ENDPOINT_URL": s3.url,
    }
    server = ServerProcess(tmp_path / "data", env, deployment=deployment)
    server.cli("load", str(world.write_fixture(tmp_path / "fixture.json")))
    server.start()
    try:
        yield server, s3
    finally:
        server.stop()
        s3.stop()
