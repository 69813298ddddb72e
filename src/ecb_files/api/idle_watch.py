"""The idle bound on receiving a body (§9), without a timer per chunk.

``asyncio.timeout`` around each receive makes, moves and cancels a timer for every
~64 KiB chunk: work on the event loop for every chunk of every upload (bench/README.md
has the measurement). Here one timer per request is armed when the first receive
begins; when it fires it checks how long the current receive has been waiting, and
either cancels the waiting task (the body has been idle for the bound) or moves itself
to when the bound would be reached.
"""

from __future__ import annotations

import asyncio


class IdleWatch:
    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._waiting: asyncio.Task[object] | None = None
        self._since = 0.0
        self.expired = False

    def begin(self, task: asyncio.Task[object]) -> None:
        """``task`` starts waiting for a chunk now."""
        loop = self._loop or asyncio.get_running_loop()
        self._loop = loop
        self._waiting = task
        self._since = loop.time()
        if self._timer is None:
            self._timer = loop.call_at(self._since + self._seconds, self._check)

    def end(self) -> None:
        """The chunk came (or the wait ended otherwise)."""
        self._waiting = None

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._waiting = None

    def _check(self) -> None:
        self._timer = None
        task = self._waiting
        if task is None or self._loop is None:
            return  # not receiving now: the next begin() arms the timer again
        due = self._since + self._seconds
        if self._loop.time() < due:
            self._timer = self._loop.call_at(due, self._check)
            return
        self.expired = True
        task.cancel()
