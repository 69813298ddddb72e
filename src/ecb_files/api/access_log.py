"""The access log: one line per answered request, with its status, time and request id.

A line per request through ``logging`` would cost the event loop a record, a formatter,
a lock, a write and a flush per request, work every small submission would wait behind
(bench/README.md has the measurement). Here the loop only appends a tuple; a background
thread formats what has accumulated and writes it in one call, at most ``interval``
seconds after the request ended. Lines still pending are written at shutdown
(``close``)::

    2026-11-28T22:41:07.123Z 127.0.0.1:51234 "POST /ecx/…/submitForCase HTTP/1.1" 200 8.4ms 3f2a…

(the path as sent, not shortened; status 0: the client left before any answer.)

With ``ECB_FILES_LOG_FORMAT=json`` each line is one JSON object instead (§12.3)::

    {"time": "2026-11-28T22:41:07.123Z", "level": "info", "message": "POST /ecx/… 200",
     "requestId": "3f2a…", "route": "/ecx/…/submitForCase", "method": "POST",
     "path": "/ecx/…/submitForCase", "status": 200, "durationMs": 8.4,
     "address": "127.0.0.1:51234", "clientId": "aage-backend", "partner": "<GUID>",
     "tenant": null, "user": null, "errorType": null, "files": 1, "bytes": 13804}

(``level``: ``error`` for a 5xx, ``warning`` for a 4xx or a client that left, else
``info``; ``bytes``: the request body's bytes received; members without a value are
null.) ``JsonFormatter`` gives the service's other log records the same shape.
"""

from __future__ import annotations

import collections
import json
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any, NamedTuple, TextIO


class Entry(NamedTuple):
    """One request, as the middleware saw it end."""

    ended: float
    client: str
    method: str
    target: str
    version: str
    status: int
    seconds: float
    request_id: str
    route: str = ""
    # What the request's handlers noted about it (``api/request_context.py``).
    context: Mapping[str, Any] | None = None
    error_type: str | None = None
    received: int = 0


class AccessLog:
    def __init__(self, stream: TextIO, *, interval: float = 0.2, json_lines: bool = False) -> None:
        self._stream = stream
        self._format = _format_json if json_lines else _format
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
            lines.append(self._format(self._pending.popleft()))
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
    ended, client, method, path, version, status, seconds, request_id = entry[:8]
    return (
        f'{_stamp(ended)} {client} "{method} {path} HTTP/{version}" '
        f"{status} {seconds * 1000:.1f}ms {request_id}\n"
    )


def _format_json(entry: Entry) -> str:
    context = entry.context or {}
    status = entry.status
    line = {
        "time": _stamp(entry.ended),
        "level": _level_of(status),
        "message": f"{entry.method} {entry.target} {status}",
        "requestId": entry.request_id,
        "route": entry.route or None,
        "method": entry.method,
        "path": entry.target,
        "status": status,
        "durationMs": round(entry.seconds * 1000, 1),
        "address": entry.client,
        "clientId": context.get("client_id"),
        "partner": context.get("partner"),
        "tenant": context.get("tenant"),
        "user": context.get("user"),
        "errorType": entry.error_type,
        "files": context.get("files"),
        "bytes": entry.received,
    }
    return json.dumps(line, ensure_ascii=False, default=str) + "\n"


def _level_of(status: int) -> str:
    if status >= 500:
        return "error"
    if status >= 400 or status == 0:
        return "warning"
    return "info"


def _stamp(moment: float) -> str:
    millis = int(moment * 1000) % 1000
    return f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(moment))}.{millis:03d}Z"


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object: ``time``, ``level``, ``message``, ``logger``,
    the ``requestId`` when the record names one (``extra={"request_id": …}``), and the
    exception's traceback as ``exception``."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _stamp(record.created),
            "level": record.levelname.lower(),
            "message": record.getMessage(),
            "logger": record.name,
        }
        request_id = getattr(record, "request_id", None)
        if request_id is not None:
            line["requestId"] = request_id
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)
