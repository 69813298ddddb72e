"""The bounds on every request body (docs/behaviour.md §9 "Robustness"), on the receive.

Whatever reads a body — the submit endpoints' batches, FNoL, the token endpoint's form,
the claims-handler page's forms — reads it through ``receive``; this layer watches each
receive of a request that has a body with one ``IdleWatch``: no byte for
``ECB_FILES_BODY_IDLE_TIMEOUT`` seconds, or, after ``ECB_FILES_MIN_BODY_RATE_GRACE``
seconds, fewer than ``ECB_FILES_MIN_BODY_RATE`` bytes per second on average, and the
receive raises ``RequestTimeout`` (408 GenericError; nothing was stored, since nothing
is stored before the whole body is in). The 408 closes the connection, so a sender that
keeps trickling does not keep it either.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ecb_files.api.idle_watch import Expiry, IdleWatch, MinBodyRate
from ecb_files.errors import RequestTimeout


class WatchedReceive:
    """``receive`` within the bounds: raises ``RequestTimeout`` when one is reached."""

    def __init__(
        self, receive: Receive, *, idle_seconds: float, min_rate: MinBodyRate | None
    ) -> None:
        self._receive = receive
        self._idle_seconds = idle_seconds
        self._min_rate = min_rate
        self._watch = IdleWatch(idle_seconds, min_rate)
        self._arriving = True  # the body's last chunk has not come yet

    @property
    def timed_out(self) -> bool:
        return self._watch.expired is not None

    async def __call__(self) -> Message:
        if not self._arriving:
            return await self._receive()
        watch = self._watch
        task = asyncio.current_task()
        assert task is not None
        watch.begin(task)
        try:
            message = await self._receive()
        except asyncio.CancelledError:
            watch.end()
            if watch.expired is None or task.uncancel() > 0:
                raise  # cancelled by someone else, too
            self.close()
            raise self._timeout() from None
        body: bytes = message.get("body", b"")
        watch.end(len(body))
        if message["type"] != "http.request" or not message.get("more_body", False):
            self.close()
        return message

    def close(self) -> None:
        self._arriving = False
        self._watch.close()

    def _timeout(self) -> RequestTimeout:
        watch = self._watch
        if watch.expired is Expiry.IDLE or self._min_rate is None:
            return RequestTimeout(
                f"the request body stopped arriving: no byte for "
                f"{self._idle_seconds:g} s; nothing was stored",
                reason="body_idle_timeout",
            )
        return RequestTimeout(
            f"the request body arrived too slowly: {watch.received} bytes in "
            f"{watch.active_seconds:.1f} s, under the minimum of "
            f"{self._min_rate.bytes_per_second} bytes/s; nothing was stored",
            reason="body_too_slow",
        )


class BodyWatchMiddleware:
    def __init__(self, app: ASGIApp, *, idle_seconds: float, min_rate: MinBodyRate | None) -> None:
        self.app = app
        self.idle_seconds = idle_seconds
        self.min_rate = min_rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _has_body(scope):
            await self.app(scope, receive, send)
            return
        watched = WatchedReceive(receive, idle_seconds=self.idle_seconds, min_rate=self.min_rate)

        async def send_closing_after_timeout(message: Message) -> None:
            if message["type"] == "http.response.start":
                # Once the answer is decided, the body's bounds are moot: a receive that
                # only listens for the client going away (a streamed download's) must
                # not be cut off by them.
                watched.close()
                if watched.timed_out:
                    # The sender may still be trickling: do not read the rest, close (§9).
                    headers = [*message.get("headers", []), (b"connection", b"close")]
                    message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, watched, send_closing_after_timeout)
        finally:
            watched.close()


def _has_body(scope: Scope) -> bool:
    """A ``Transfer-Encoding``, or a ``Content-Length`` other than 0."""
    for name, value in scope.get("headers", ()):
        if name == b"transfer-encoding":
            return True
        if name == b"content-length" and value.strip() not in (b"0", b""):
            return True
    return False
