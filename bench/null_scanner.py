"""A scanner that speaks clamd's ``INSTREAM`` and finds nothing, for ``scanning.py``.

It reads every stream to its end into one reused buffer and answers ``stream: OK`` (in
an ``IDSESSION`` too, numbered as clamd numbers its answers): the
service's side of scanning (every byte sent to a socket from the thread that hashes it,
a verdict per file) without clamd's spooling and engine. Not a scanner: a measuring
stick for what the protocol itself costs the service.

    python bench/null_scanner.py SOCKET_PATH
"""

from __future__ import annotations

import os
import socket
import sys
import threading
from typing import BinaryIO

_BUFFER = 1024 * 1024


def _read_exactly(stream: BinaryIO, view: memoryview, size: int) -> bool:
    got = 0
    while got < size:
        count = stream.readinto(view[got:size])
        if not count:
            return False
        got += count
    return True


def _read_command(stream: BinaryIO) -> bytes:
    """One NUL-terminated command (``zINSTREAM\\0``, ``zIDSESSION\\0``, …), or b""."""
    command = bytearray()
    while not command.endswith(b"\0"):
        byte = stream.read(1)
        if not byte or len(command) > 64:
            return b""
        command += byte
    return bytes(command)


def _read_stream(stream: BinaryIO, view: memoryview) -> bool:
    """An ``INSTREAM``'s chunks up to its zero length, read and dropped."""
    while _read_exactly(stream, view, 4):
        size = int.from_bytes(view[:4], "big")
        if size == 0:
            return True
        while size > 0:
            step = min(size, _BUFFER)
            if not _read_exactly(stream, view, step):
                return False
            size -= step
    return False


def _serve(connection: socket.socket) -> None:
    """One command, or an ``IDSESSION`` of numbered commands answered in order."""
    view = memoryview(bytearray(_BUFFER))
    with connection, connection.makefile("rb", buffering=_BUFFER) as stream:
        command = _read_command(stream)
        if command == b"zPING\0":
            connection.sendall(b"PONG\0")
        elif command == b"zINSTREAM\0" and _read_stream(stream, view):
            connection.sendall(b"stream: OK\0")
        elif command == b"zIDSESSION\0":
            number = 0
            while (command := _read_command(stream)) == b"zINSTREAM\0":
                if not _read_stream(stream, view):
                    return
                number += 1
                connection.sendall(b"%d: stream: OK\0" % number)


def main(path: str) -> None:
    if os.path.exists(path):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(64)
    while True:
        connection, _ = listener.accept()
        threading.Thread(target=_serve, args=(connection,), daemon=True).start()


if __name__ == "__main__":
    main(sys.argv[1])
