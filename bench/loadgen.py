"""A closed-loop HTTP/1.1 load generator, lean enough not to be what is measured.

Each of ``--concurrency`` keep-alive connections sends one prebuilt request, waits for
the whole answer (status line, Content-Length, body), records when it started, how long
it took and its status, and sends the next, until ``--duration`` seconds have passed or
SIGINT/SIGTERM arrives. Parsing is a ``bytes.find`` on raw protocol buffers: no HTTP
library, no per-request objects beyond a future. Runs in its own process (uvloop when
installed) so neither its CPU nor its GIL is shared with the harness.

Writes one JSON document to ``--out``: the per-request records (``time.monotonic()``
start, latency, status; comparable across processes on Linux), the measuring window
after ``--warmup``, and the generator's own CPU seconds over that window.

Example:
    python bench/loadgen.py --port 8080 --path /healthz --concurrency 16 --duration 5 \
        --out /tmp/healthz.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import signal
import sys
import time
from pathlib import Path
from typing import Any, cast

_HEADER_END = b"\r\n\r\n"
_GRACE_SECONDS = 30.0


class _Answer(asyncio.Protocol):
    """One connection; ``waiter`` resolves to (status, close) when an answer is complete."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[tuple[int, bool]] | None = None
        self._buffer = bytearray()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        end = self._buffer.find(_HEADER_END)
        if end < 0:
            return
        head = bytes(self._buffer[:end]).lower()
        length = 0
        at = head.find(b"\r\ncontent-length:")
        if at >= 0:
            stop = head.find(b"\r\n", at + 2)
            length = int(head[at + 17 : stop if stop >= 0 else len(head)])
        total = end + 4 + length
        if len(self._buffer) < total:
            return
        status = int(head[9:12])
        close = b"\r\nconnection: close" in head
        del self._buffer[:total]
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result((status, close))

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection lost before the answer"))


class _Run:
    def __init__(self, args: argparse.Namespace, request: bytes) -> None:
        self.args = args
        self.request = request
        self.stop_at = time.monotonic() + args.warmup + args.duration
        self.starts: list[float] = []
        self.latencies: list[float] = []
        self.statuses: list[int] = []
        self.connection_errors: list[str] = []
        self.connected = 0
        self.all_connected = asyncio.Event()

    def stop_now(self) -> None:
        self.stop_at = min(self.stop_at, time.monotonic())

    async def connection(self) -> None:
        loop = asyncio.get_running_loop()
        counted = False
        while time.monotonic() < self.stop_at:
            try:
                transport, protocol = await loop.create_connection(
                    _Answer, self.args.host, self.args.port
                )
            except OSError as error:
                self.connection_errors.append(f"connect: {error}")
                await asyncio.sleep(0.05)
                continue
            if not counted:
                counted = True
                self.connected += 1
                if self.connected == self.args.concurrency:
                    self.all_connected.set()
            try:
                await self._requests(loop, transport, protocol)
            finally:
                transport.close()

    async def _requests(
        self, loop: asyncio.AbstractEventLoop, transport: asyncio.Transport, protocol: _Answer
    ) -> None:
        while time.monotonic() < self.stop_at:
            waiter: asyncio.Future[tuple[int, bool]] = loop.create_future()
            protocol.waiter = waiter
            started = time.monotonic()
            transport.write(self.request)
            try:
                status, close = await waiter
            except ConnectionError as error:
                self.connection_errors.append(str(error))
                return
            self.starts.append(started)
            self.latencies.append(time.monotonic() - started)
            self.statuses.append(status)
            if close:
                return
            if self.args.pause:
                await asyncio.sleep(self.args.pause)


def _request(args: argparse.Namespace) -> bytes:
    body = Path(args.body_file).read_bytes() if args.body_file else b""
    lines = [f"{args.method} {args.path} HTTP/1.1", f"Host: {args.host}:{args.port}"]
    lines += args.header
    if body or args.method != "GET":
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _main(args: argparse.Namespace) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    run = _Run(args, _request(args))
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, run.stop_now)
    begun = time.monotonic()
    window_begin = begun + args.warmup
    cpu_at_window: list[float] = []

    async def note_cpu_at_window_start() -> None:
        await asyncio.sleep(args.warmup)
        cpu_at_window.append(_cpu_seconds())

    marker = asyncio.ensure_future(note_cpu_at_window_start())
    tasks = []
    for _ in range(args.concurrency):
        tasks.append(asyncio.ensure_future(run.connection()))
        # Connections opened in one burst are all accepted by whichever server process
        # wakes first; spaced out, each goes to a process that is free to accept it.
        await asyncio.sleep(args.connect_spacing)
    ready = asyncio.ensure_future(run.all_connected.wait())
    await asyncio.wait([ready, *tasks], return_when=asyncio.FIRST_COMPLETED)
    print("ready", flush=True)
    while tasks and time.monotonic() < run.stop_at:
        await asyncio.wait(tasks, timeout=max(0.0, run.stop_at - time.monotonic()))
    window_end = time.monotonic()
    cpu_at_end = _cpu_seconds()
    _, stuck = await asyncio.wait(tasks, timeout=_GRACE_SECONDS)
    for task in (*stuck, marker, ready):
        task.cancel()
    cpu_start = cpu_at_window[0] if cpu_at_window else cpu_at_end
    return {
        "window_begin": window_begin,
        "window_end": window_end,
        "cpu_seconds": cpu_at_end - cpu_start,
        "concurrency": args.concurrency,
        "starts": run.starts,
        "latencies": run.latencies,
        "statuses": run.statuses,
        "connection_errors": run.connection_errors[:20],
        "connection_error_count": len(run.connection_errors),
        "stuck_connections": len(stuck),
    }


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--path", required=True)
    parser.add_argument("--header", action="append", default=[], help="'Name: value'")
    parser.add_argument("--body-file", help="the request body, sent as is")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds before measuring")
    parser.add_argument(
        "--pause", type=float, default=0.0, help="seconds each connection waits between requests"
    )
    parser.add_argument(
        "--connect-spacing",
        type=float,
        default=0.005,
        help="seconds between opening one connection and the next",
    )
    parser.add_argument("--out", required=True, help="where to write the JSON result")
    args = parser.parse_args(argv)
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(_main(args))
        result["event_loop"] = "asyncio"
    else:
        result = uvloop.run(_main(args))
        result["event_loop"] = "uvloop"
    Path(args.out).write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
