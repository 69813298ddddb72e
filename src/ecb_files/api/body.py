"""The async driver of the ingest core: request stream in, worker thread does the bytes.

The event loop only receives. What has arrived goes to a worker thread when the worker
is free and at least ``MIN_BATCH_BYTES`` are there, or nothing more has come for
``LINGER_SECONDS``; the thread parses, decodes, hashes and writes it (§6: none of that
may block the loop). While the worker is busy, the loop keeps receiving into the next
batch, up to ``BATCH_BYTES``; then it stops reading until the worker catches up. So the
network and the disk overlap, a fault is seen within milliseconds of its bytes
arriving, and at most two batches are in memory per request, whatever the body's size.
A hop to a thread costs the loop about as much as receiving a chunk: handing over every
~64 KiB chunk as it came made the hops a third of the loop's work on a large upload.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, Generic, TypeVar

from ecb_files.api.idle_watch import IdleWatch
from ecb_files.api.threads import in_thread, outlast
from ecb_files.config import Limits
from ecb_files.errors import PayloadTooLarge, RequestTimeout

T = TypeVar("T")

BATCH_BYTES = 1024 * 1024
MIN_BATCH_BYTES = 256 * 1024
LINGER_SECONDS = 0.002


@dataclass(frozen=True)
class ReadBody(Generic[T]):
    result: T
    sha256: str


class BodyReader:
    """Reads one request body with the size and idle bounds of §3.1 and §9.

    One task receives the whole body into the current batch (``_fill``); the caller's
    loop hands batches to worker threads. Nothing is awaited per chunk but the receive
    itself, and no timer is made per chunk: the loop wakes when a worker finishes, or
    when a batch is ready for an idle worker.
    """

    def __init__(
        self,
        chunks: AsyncIterator[bytes],
        *,
        limits: Limits,
        idle_timeout: float,
        content_length: int | None = None,
        digest: bool = True,
    ) -> None:
        self._chunks = aiter(chunks)
        self._limits = limits
        self._idle_timeout = idle_timeout
        self._idle = IdleWatch(idle_timeout)
        # With a Content-Length, the body is known complete with its last byte, without
        # waiting for the end-of-body event: the last batch and finish() share one hop.
        self._content_length = content_length
        self._received = 0
        # The body's SHA-256 only serves idempotent replays: without a key, skip it.
        self._hasher = hashlib.sha256() if digest else None
        # Received but not yet handed to a worker; kept across a failure so that
        # drain() can still digest the whole body.
        self._batch: list[bytes] = []
        self._batched = 0
        self._filler: asyncio.Task[None] | None = None
        self._wakeup: asyncio.Future[None] | None = None  # an idle worker awaits data
        self._space: asyncio.Future[None] | None = None  # a full batch awaits a worker
        self._linger: asyncio.TimerHandle | None = None  # a short batch waits for more
        self._lingered = False  # ... and has waited long enough
        # The whole body's SHA-256, once it has been read to its end.
        self.digest: str | None = None

    async def run(
        self, consume: Callable[[bytes], None], finish: Callable[[str], T]
    ) -> ReadBody[T]:
        """Feed the body to ``consume`` in worker threads, then call ``finish`` there with
        the body's SHA-256 ("" when not asked for), in the same hop as the last batch."""
        hasher = self._hasher

        def work(data: bytes) -> None:
            if hasher is not None:
                hasher.update(data)  # first: a refused batch still counts for the digest
            consume(data)

        loop = asyncio.get_running_loop()
        if self._filler is None and await self._arrived_at_once():
            return await self._finish(work, finish)
        if self._filler is None:
            self._filler = asyncio.ensure_future(self._fill())
            if self._batch:  # what the first receive brought waits no longer than a linger
                self._start_linger()
        filler = self._filler
        pending: asyncio.Future[None] | None = None
        try:
            while True:
                if pending is None and self._batch_ready() and not filler.done():
                    pending = asyncio.ensure_future(in_thread(partial(work, self._take_batch())))
                if pending is None and filler.done():
                    filler.result()  # a receive-side failure: too large, idle, disconnected
                    break
                waiters: set[asyncio.Future[Any]]
                if pending is not None:
                    waiters = {pending} if filler.done() else {pending, filler}
                else:
                    self._wakeup = loop.create_future()
                    waiters = {self._wakeup, filler}
                await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
                self._wakeup = None
                if pending is not None and pending.done():
                    finished, pending = pending, None
                    finished.result()  # the first fault met is the answer
            return await self._finish(work, finish)
        finally:
            if pending is not None:
                # A thread cannot be cancelled: let it finish before the caller cleans up
                # what it was writing to. Its failure, if any, is not the first one.
                await outlast(pending)

    async def _finish(
        self, work: Callable[[bytes], None], finish: Callable[[str], T]
    ) -> ReadBody[T]:
        """The last batch and ``finish`` in one worker hop."""
        self._idle.close()
        rest = self._take_batch()
        hasher = self._hasher

        def last() -> T:
            if rest:
                work(rest)
            return finish(hasher.hexdigest() if hasher is not None else "")

        result = await in_thread(last)
        self.digest = hasher.hexdigest() if hasher is not None else ""
        return ReadBody(result, self.digest)

    async def _arrived_at_once(self) -> bool:
        """For a small body, one receive: did it bring the whole body?

        A small body mostly comes with one receive: then one hop does all the work, and
        no filler task is needed. Otherwise the body is read as any other, so that a
        fault in what has arrived is answered even if the rest never comes.
        """
        length = self._content_length
        if length is None or length - self._received > BATCH_BYTES:
            return False
        return not await self._receive_one() or self._received == length

    async def drain(self) -> str:
        """Read the rest of the body, keeping only its SHA-256 (for idempotent replays)."""

        def noop(_: bytes) -> None:
            return None

        read = await self.run(noop, lambda _digest: None)
        return read.sha256

    def close(self) -> None:
        """Stop receiving body bytes nobody will read (the answer is already decided)."""
        self._idle.close()
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None
        filler = self._filler
        if filler is None:
            return
        if not filler.done():
            filler.cancel()
        elif not filler.cancelled():
            filler.exception()  # retrieved: an earlier fault was the answer

    def _batch_ready(self) -> bool:
        return self._batched >= MIN_BATCH_BYTES or (self._lingered and bool(self._batch))

    def _start_linger(self) -> None:
        loop = asyncio.get_running_loop()
        self._linger = loop.call_later(LINGER_SECONDS, self._linger_over)

    def _linger_over(self) -> None:
        self._linger = None
        self._lingered = True
        self._wake()

    def _wake(self) -> None:
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    def _take_batch(self) -> bytes:
        data = b"".join(self._batch)
        self._batch.clear()
        self._batched = 0
        self._lingered = False
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None
        if self._space is not None and not self._space.done():
            self._space.set_result(None)
        return data

    async def _fill(self) -> None:
        """Receive the body into the batch; returns at its end, raises on a bound."""
        loop = asyncio.get_running_loop()
        while self._received != self._content_length:
            if self._batched >= BATCH_BYTES:
                self._space = loop.create_future()
                await self._space
                continue
            if not await self._receive_one():
                return

    async def _receive_one(self) -> bool:
        """One chunk into the batch, within the bounds; ``False`` at the end of the body."""
        task = asyncio.current_task()
        assert task is not None
        self._idle.begin(task)
        try:
            chunk = await anext(self._chunks, None)
        except asyncio.CancelledError:
            if not self._idle.expired or task.uncancel() > 0:
                raise  # cancelled by someone else, too
            raise RequestTimeout(
                f"the request body stopped arriving: no byte for "
                f"{self._idle_timeout:g} s; nothing was stored",
                reason="body_idle_timeout",
            ) from None
        finally:
            self._idle.end()
        if chunk is None:
            return False
        self._received += len(chunk)
        if self._received > self._limits.max_request_bytes:
            raise PayloadTooLarge(
                f"the request body is larger than maxRequestBytes "
                f"({self._limits.max_request_bytes} bytes)",
                reason="request_too_large",
            )
        if chunk:
            if not self._batch and self._filler is not None:
                self._start_linger()
            self._batch.append(chunk)
            self._batched += len(chunk)
            if self._batched >= MIN_BATCH_BYTES:
                self._wake()
        return True
