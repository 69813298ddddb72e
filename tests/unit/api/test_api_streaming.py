"""``ChunkedResponse`` (§11.2 downloads, §6 memory): chunks sent in order with one read
ahead, and the source closed only once no worker thread reads from it — driven as plain
ASGI without a server."""

from __future__ import annotations

import asyncio
import threading
import time

from starlette.types import Message

from ecb_files.api.streaming import ChunkedResponse

SCOPE = {"type": "http", "method": "GET"}


class SlowSource:
    """Chunks that take a while to read; records whether ``close`` met a read running."""

    def __init__(self, chunks: list[bytes], *, seconds: float = 0.02) -> None:
        self._chunks = list(chunks)
        self._seconds = seconds
        self._reading = threading.Event()
        self.reads = 0
        self.closed_during_a_read = False
        self.closed = False

    def read_chunk(self) -> bytes:
        self._reading.set()
        try:
            time.sleep(self._seconds)
            self.reads += 1
            return self._chunks.pop(0) if self._chunks else b""
        finally:
            self._reading.clear()

    def close(self) -> None:
        self.closed_during_a_read = self._reading.is_set()
        self.closed = True


def test_the_body_is_every_chunk_in_order_then_the_end() -> None:
    """§11.2: the bytes arrive whole and in order, however the reads overlap the sends."""
    source = SlowSource([b"one", b"two", b"three"])
    sent: list[Message] = []

    async def receive() -> Message:
        await asyncio.sleep(60)
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(ChunkedResponse(source, 200, {"Content-Length": "11"})(SCOPE, receive, send))
    bodies = [m["body"] for m in sent if m["type"] == "http.response.body"]
    assert b"".join(bodies) == b"onetwothree"
    assert sent[-1].get("more_body", False) is False
    assert source.closed
    assert not source.closed_during_a_read


def test_a_client_gone_mid_body_closes_the_source_after_its_last_read() -> None:
    """§6: a download whose client went away stops reading, and its file or connection is
    released only when the read ahead in its worker thread has ended."""
    source = SlowSource([b"x" * 10] * 1000, seconds=0.01)
    gone = asyncio.Event()
    sent: list[Message] = []

    async def receive() -> Message:
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)
        if len(sent) == 4:
            gone.set()

    asyncio.run(ChunkedResponse(source, 200, {})(SCOPE, receive, send))
    assert source.closed
    assert not source.closed_during_a_read
    assert source.reads < 20
