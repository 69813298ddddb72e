"""The large-request client: a body file streamed from disk with ``sendfile``.

The headers carry the exact Content-Length; the body goes from the page cache to the
socket without passing through Python, so the client costs next to no CPU and the
server is what is measured. The answer is read whole and checked against what was
sent (status 200, every file's size and SHA-256).
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from dataclasses import dataclass
from typing import Any

from bodies import Body


@dataclass(frozen=True)
class UploadResult:
    status: int
    started: float  # time.monotonic() before the first byte was sent
    finished: float  # time.monotonic() once the whole answer was read
    body_bytes: int
    decoded_bytes: int
    answer: bytes
    problem: str | None  # why the answer does not match the request, if it does not

    @property
    def seconds(self) -> float:
        return self.finished - self.started

    @property
    def mb_per_s(self) -> float:
        return self.decoded_bytes / self.seconds / 1e6


def _read_answer(sock: socket.socket) -> tuple[int, bytes]:
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"connection closed before the answer's headers: {buffer!r}")
        buffer += chunk
    head, _, rest = buffer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, rest


def _check(body: Body, status: int, answer: bytes) -> str | None:
    if status != 200:
        return f"status {status}: {answer[:300]!r}"
    try:
        files: list[dict[str, Any]] = json.loads(answer)["payload"]["files"]
    except (ValueError, KeyError, TypeError):
        return f"unreadable answer: {answer[:300]!r}"
    got = [(entry.get("size"), entry.get("sha256")) for entry in files]
    sent = [(spec.size, spec.sha256) for spec in body.files]
    return None if got == sent else f"stored {got}, sent {sent}"


def upload(host: str, port: int, path: str, token: str, body: Body) -> UploadResult:
    """POSTs ``body`` once on a fresh connection and times it to the last answer byte."""
    length = body.length
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: {body.content_type}\r\n"
        f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((host, port), timeout=600) as sock:
        started = time.monotonic()
        sock.sendall(head)
        # A refusal can come before the whole body is sent; the answer says why.
        with (
            body.path.open("rb") as source,
            contextlib.suppress(BrokenPipeError, ConnectionResetError),
        ):
            sock.sendfile(source)
        status, answer = _read_answer(sock)
        finished = time.monotonic()
    return UploadResult(
        status=status,
        started=started,
        finished=finished,
        body_bytes=length,
        decoded_bytes=body.decoded_bytes,
        answer=answer,
        problem=_check(body, status, answer),
    )
