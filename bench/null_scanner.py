"""A scanner that speaks clamd's ``INSTREAM`` and finds nothing, for ``scanning.py``.

It reads every stream to its end into one reused buffer and answers ``stream: OK``: the
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

_BUFFER = 1024 * 1024


def _read_exactly(connection: socket.socket, view: memoryview, size: int) -> bool:
    got = 0
    while got < size:
        count = connection.recv_into(view[got:size])
        if count == 0:
            return False
        got += count
    return True


def _serve(connection: socket.socket) -> None:
    buffer = bytearray(_BUFFER)
    view = memoryview(buffer)
    with connection:
        if not _read_exactly(connection, view, 6):
            return
        if bytes(view[:6]) == b"zPING\0":
            connection.sendall(b"PONG\0")
            return
        if not _read_exactly(connection, view[6:], 4) or bytes(view[:10]) != b"zINSTREAM\0":
            return
        while _read_exactly(connection, view, 4):
            size = int.from_bytes(view[:4], "big")
            if size == 0:
                connection.sendall(b"stream: OK\0")
                return
            while size > 0:
                step = min(size, _BUFFER)
                if not _read_exactly(connection, view, step):
                    return
                size -= step


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
