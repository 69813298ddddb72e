"""``ChunkedResponse``: an answer whose body is read chunk by chunk in worker threads.

Downloads (§11.2 ``…/content``) and ZIPs are read from the disk, S3 or the database:
blocking reads, so each chunk is fetched off the event loop, one chunk ahead of the one
being sent — at most two chunks in memory per download, whatever the file's size (§6),
and an S3 round trip hidden behind the socket's work. The body's ``close`` runs however
the answer ends, after the last read has returned; a client that goes away stops the
reading at the next chunk (the ASGI server reports it as ``http.disconnect``).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ecb_files.api.threads import in_thread, wait_through_cancels


class ChunkSource(Protocol):
    """A blocking source of bytes: ``read_chunk`` answers ``b""`` at the end."""

    def read_chunk(self) -> bytes: ...

    def close(self) -> None: ...


class ChunkedResponse(Response):
    def __init__(
        self, source: ChunkSource | None, status_code: int, headers: dict[str, str]
    ) -> None:
        # The headers are exactly the caller's, Content-Type and Content-Length included
        # (or absent, and then the server sends the body chunked): Response.__init__
        # would add a Content-Length of its empty body.
        self.status_code = status_code
        self.background = None
        self.raw_headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in headers.items()
        ]
        self.source = source

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        source = self.source
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": self.status_code,
                    "headers": self.raw_headers,
                }
            )
            if source is None or scope.get("method") == "HEAD":
                await send({"type": "http.response.body", "body": b""})
                return
            gone = asyncio.create_task(_disconnected(receive))
            # Read ahead: the next chunk comes off the disk (or S3) in a worker thread
            # while this one is on its way to the socket, so the two overlap.
            loop = asyncio.get_running_loop()
            ahead = loop.run_in_executor(None, source.read_chunk)
            try:
                while not gone.done():
                    chunk = await asyncio.shield(ahead)
                    if not chunk:
                        await send({"type": "http.response.body", "body": b""})
                        return
                    ahead = loop.run_in_executor(None, source.read_chunk)
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
            finally:
                gone.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await gone
                # The source is closed only once no thread reads from it any more.
                await wait_through_cancels(ahead)
        finally:
            if source is not None:
                await in_thread(source.close)


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
