"""Request bodies in batches for the worker threads: the event loop only receives.

What has arrived is handed out when its taker is free and at least ``MIN_BATCH_BYTES``
are there, or nothing more has come for ``LINGER_SECONDS``; the taker gives it to a
worker thread to parse, decode, hash and write (§6: none of that may block the loop).
While the worker is busy, the loop keeps receiving into the next batch, up to
``BATCH_BYTES``; then it stops reading until the worker catches up. So the network and
the disk overlap, a fault is seen within milliseconds of its bytes arriving, and at
most two batches are in memory per request, whatever the body's size. Batches rather
than chunks, because a hop to a thread costs the loop about as much as receiving a
chunk (bench/README.md has the profiles). The bounds on a body that stops arriving or
arrives too slowly are not kept here but on every request's receive
(api/body_watch.py): a receive here raises their ``RequestTimeout``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

BATCH_BYTES = 1024 * 1024
MIN_BATCH_BYTES = 256 * 1024
LINGER_SECONDS = 0.002


@dataclass(frozen=True)
class Batch:
    """Bytes of the body in arrival order; ``last`` for the batch that ends it."""

    data: bytes
    last: bool


class BodyReader:
    """Reads one request body in batches.

    ``async for batch in reader`` yields the batches; the caller hands each to a worker
    thread. Meanwhile one task keeps receiving the body into the next batch
    (``_fill``), so no timer is made and nothing is awaited per chunk but the receive
    itself.
    """

    def __init__(
        self,
        chunks: AsyncIterator[bytes],
        *,
        content_length: int | None = None,
    ) -> None:
        self._chunks = aiter(chunks)
        # With a Content-Length, the body is known complete with its last byte, without
        # waiting for the end-of-body event: the last batch comes out at once.
        self._content_length = content_length
        self._received = 0
        self._batch: list[bytes] = []  # received, not yet handed out
        self._batched = 0
        self._ended = False
        self._filler: asyncio.Task[None] | None = None
        self._wakeup: asyncio.Future[None] | None = None  # a batch is awaited
        self._space: asyncio.Future[None] | None = None  # a full batch awaits its taker
        self._linger: asyncio.TimerHandle | None = None  # a short batch waits for more
        self._lingered = False  # ... and has waited long enough

    def __aiter__(self) -> BodyReader:
        return self

    async def __anext__(self) -> Batch:
        if self._ended:
            raise StopAsyncIteration
        if self._filler is None:
            if await self._arrived_at_once():
                return self._last_batch()
            self._filler = asyncio.ensure_future(self._fill())
            if self._batch:  # what the first receive brought waits no longer than a linger
                self._start_linger()
        filler = self._filler
        while True:
            if filler.done():
                filler.result()  # a receive-side failure: too large, too slow, idle, gone
                return self._last_batch()
            if self._batch_ready():
                return Batch(self._take_batch(), last=False)
            self._wakeup = asyncio.get_running_loop().create_future()
            await asyncio.wait({self._wakeup, filler}, return_when=asyncio.FIRST_COMPLETED)
            self._wakeup = None

    def _last_batch(self) -> Batch:
        self._ended = True
        return Batch(self._take_batch(), last=True)

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

    def close(self) -> None:
        """Stop receiving body bytes nobody will read (the answer is already decided)."""
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
        """One chunk into the batch; ``False`` at the end of the body."""
        chunk = await anext(self._chunks, None)
        if chunk is None:
            return False
        self._received += len(chunk)
        if chunk:
            if not self._batch and self._filler is not None:
                self._start_linger()
            self._batch.append(chunk)
            self._batched += len(chunk)
            if self._batched >= MIN_BATCH_BYTES:
                self._wake()
        return True
