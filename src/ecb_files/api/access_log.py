"""The access log: one line per answered request, with its status, time and request id.

A line per request through ``logging`` would cost the event loop a record, a formatter,
a lock, a write and a flush per request, work every small submission would wait behind
(bench/README.md has the measurement). Here the loop only appends a tuple; a background
thread formats what has accumulated and writes it in one call, at most ``interval``
seconds after the request ended. Lines still pending are written at shutdown
(``close``)::

    2026-11-28T22:41:07.123Z 127.0.0.1:51234 "POST /ecx/…/submitForCase HTTP/1.1" 200 8.4ms 3f2a…

(the path as sent, not shortened; status 0: the client left before any answer.)
"""

from __future__ import annotations

import collections
import threading
import time
from typing import TextIO

# (end time, client, method, path, HTTP version, status, seconds taken, request id)
Entry = tuple[float, str, str, str, str, int, float, str]


class AccessLog:
    def __init__(self, stream: TextIO, *, interval: float = 0.2) -> None:
        self._stream = stream
        self._interval = interval
        self._pending: collections.deque[Entry] = collections.deque()
        self._stop = threading.Event()
        self._writer: threading.Thread | None = None
        self._write_lock = threading.Lock()

    def start(self) -> None:
        if self._writer is None:
            self._writer = threading.Thread(
                target=self._run, name="ecb-files access log", daemon=True
            )
            self._writer.start()

    def record(self, entry: Entry) -> None:
        """Queue one line; never blocks (a deque append is atomic)."""
        self._pending.append(entry)

    def flush(self) -> None:
        """Write every queued line now."""
        lines = []
        while self._pending:
            lines.append(_format(self._pending.popleft()))
        if not lines:
            return
        with self._write_lock:
            self._stream.write("".join(lines))
            self._stream.flush()

    def close(self) -> None:
        self._stop.set()
        if self._writer is not None:
            self._writer.join(timeout=5)
            self._writer = None
        self._flush_or_drop()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._flush_or_drop()

    def _flush_or_drop(self) -> None:
        try:
            self.flush()
        except (OSError, ValueError):
            # The stream went away (closed at shutdown, a full disk): lines are dropped
            # rather than kept in memory without bound, and shutdown goes on.
            self._pending.clear()


def _format(entry: Entry) -> str:
    ended, client, method, path, version, status, seconds, request_id = entry
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ended))
    millis = int(ended * 1000) % 1000
    return (
        f'{stamp}.{millis:03d}Z {client} "{method} {path} HTTP/{version}" '
        f"{status} {seconds * 1000:.1f}ms {request_id}\n"
    )
