"""The async driver of the ingest core: request stream in, worker thread does the bytes.

The event loop only receives. Whatever has arrived goes to a worker thread as soon as
the worker is free; the thread parses, decodes, hashes and writes it (§6: none of that
may block the loop). While the worker is busy, the loop keeps receiving into the next
batch, up to ``BATCH_BYTES``; then it stops reading until the worker catches up. So the
network and the disk overlap, a fault is seen as soon as its bytes have arrived, and at
most two batches are in memory per request, whatever the body's size.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import anyio.to_thread

from ecb_files.config import Limits
from ecb_files.errors import PayloadTooLarge, RequestTimeout

T = TypeVar("T")

BATCH_BYTES = 1024 * 1024


@dataclass(frozen=True)
class ReadBody(Generic[T]):
    result: T
    sha256: str


class BodyReader:
    """Reads one request body with the size and idle bounds of §3.1 and §9."""

    def __init__(
        self,
        chunks: AsyncIterator[bytes],
        *,
        limits: Limits,
        idle_timeout: float,
        content_length: int | None = None,
    ) -> None:
        self._chunks = aiter(chunks)
        # With a Content-Length, the body is known complete with its last byte, without
        # waiting for the end-of-body event: the last batch and finish() share one hop.
        self._content_length = content_length
        self._limits = limits
        self._idle_timeout = idle_timeout
        self._received = 0
        self._hasher = hashlib.sha256()
        # Received but not yet handed to a worker; kept across a failure so that
        # drain() can still digest the whole body.
        self._batch: list[bytes] = []
        self._batched = 0
        self._receiving: asyncio.Task[bytes | None] | None = None
        self._exhausted = False
        # The whole body's SHA-256, once it has been read to its end.
        self.digest: str | None = None

    async def run(self, consume: Callable[[bytes], None], finish: Callable[[], T]) -> ReadBody[T]:
        """Feed the body to ``consume`` in worker threads, then call ``finish`` there."""

        def work(data: bytes) -> None:
            self._hasher.update(data)  # first: a refused batch still counts for the digest
            consume(data)

        pending: asyncio.Future[None] | None = None
        loop = asyncio.get_running_loop()
        last_byte = loop.time()
        try:
            while True:
                if pending is None and self._batch and not self._exhausted:
                    pending = asyncio.ensure_future(
                        anyio.to_thread.run_sync(work, self._take_batch())
                    )
                if self._exhausted and pending is None:
                    break
                wants_more = not self._exhausted and self._batched < BATCH_BYTES
                if wants_more and self._receiving is None:
                    self._receiving = asyncio.ensure_future(self._next_chunk())
                waiters = {w for w in (pending, self._receiving) if w is not None}
                timeout = None
                if self._receiving is not None:
                    timeout = max(0.0, last_byte + self._idle_timeout - loop.time())
                done, _ = await asyncio.wait(
                    waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                if pending is not None and pending in done:
                    finished, pending = pending, None
                    finished.result()  # the first fault met is the answer
                if self._receiving is not None and self._receiving in done:
                    received, self._receiving = self._receiving, None
                    if self._accept(received):
                        last_byte = loop.time()
                elif not done:
                    raise RequestTimeout(
                        f"the request body stopped arriving: no byte for "
                        f"{self._idle_timeout:g} s; nothing was stored",
                        reason="body_idle_timeout",
                    )
            rest = self._take_batch()

            def last() -> T:
                if rest:
                    work(rest)
                return finish()

            result = await anyio.to_thread.run_sync(last)
            self.digest = self._hasher.hexdigest()
            return ReadBody(result, self.digest)
        finally:
            if pending is not None and not pending.done():
                # A thread cannot be cancelled: let it finish before the caller cleans up
                # what it was writing to.
                await asyncio.shield(asyncio.wait([pending]))
            if pending is not None and not pending.cancelled():
                pending.exception()  # retrieved; the first failure has been raised

    async def drain(self) -> str:
        """Read the rest of the body, keeping only its SHA-256 (for idempotent replays)."""

        def noop(_: bytes) -> None:
            return None

        read = await self.run(noop, lambda: None)
        return read.sha256

    def close(self) -> None:
        """Stop waiting for body bytes nobody will read (the answer is already decided)."""
        if self._receiving is not None:
            self._receiving.cancel()
            self._receiving = None

    def _take_batch(self) -> bytes:
        data = b"".join(self._batch)
        self._batch.clear()
        self._batched = 0
        return data

    def _accept(self, received: asyncio.Task[bytes | None]) -> bool:
        chunk = received.result()
        if chunk is None:
            self._exhausted = True
            return False
        self._batch.append(chunk)
        self._batched += len(chunk)
        if self._received == self._content_length:
            self._exhausted = True
        return True

    async def _next_chunk(self) -> bytes | None:
        """The next non-empty chunk, or None at the end of the body."""
        while True:
            chunk = await anext(self._chunks, None)
            if chunk is None:
                return None
            if not chunk:
                continue
            self._received += len(chunk)
            if self._received > self._limits.max_request_bytes:
                raise PayloadTooLarge(
                    f"the request body is larger than maxRequestBytes "
                    f"({self._limits.max_request_bytes} bytes)",
                    reason="request_too_large",
                )
            return chunk
