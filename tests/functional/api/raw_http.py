"""HTTP/1.1 over a bare socket, for requests no client library will send.

A body that stops half-way, a ``Content-Length`` the body never reaches, an answer
expected before the body is sent: these need the socket in hand. The answer is returned
as an ``httpx.Response`` so the usual assertions (``assert_error``) apply to it.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

import httpx

from tests.functional.server import ServerProcess

SUBMIT_PATH = "/ecx/host/api/integration/v1/file/{endpoint}"


@dataclass(frozen=True)
class Timed:
    response: httpx.Response
    seconds: float  # from the last byte sent to the last byte of the answer


def request_head(
    server: ServerProcess,
    headers: dict[str, str],
    *,
    endpoint: str = "submitForCase",
    method: str = "POST",
) -> bytes:
    lines = [f"{method} {SUBMIT_PATH.format(endpoint=endpoint)} HTTP/1.1"]
    lines.append(f"Host: 127.0.0.1:{server.port}")
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def exchange(server: ServerProcess, data: bytes, *, timeout: float = 10) -> Timed:
    """Send ``data`` (head and any part of a body), keep the socket open, read one answer."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        sock.sendall(data)
        sent_at = time.monotonic()
        response = _read_response(sock, deadline=sent_at + timeout)
        return Timed(response, time.monotonic() - sent_at)


def _read_response(sock: socket.socket, *, deadline: float) -> httpx.Response:
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        buffer += _recv(sock, deadline, buffer)
    head, _, body = buffer.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = [tuple(line.split(":", 1)) for line in header_lines]
    pairs = [(name.strip(), value.strip()) for name, value in headers]
    length = next((int(v) for n, v in pairs if n.lower() == "content-length"), None)
    while length is not None and len(body) < length:
        body += _recv(sock, deadline, buffer + body)
    return httpx.Response(int(status_line.split()[1]), headers=pairs, content=body)


def _recv(sock: socket.socket, deadline: float, so_far: bytes) -> bytes:
    sock.settimeout(max(deadline - time.monotonic(), 0.01))
    try:
        chunk = sock.recv(65536)
    except TimeoutError:
        raise AssertionError(f"no complete answer in time; got {so_far[:500]!r}") from None
    if not chunk:
        raise AssertionError(f"connection closed before a complete answer; got {so_far[:500]!r}")
    return chunk
