"""The bounds on receiving a body (§9), without a timer per chunk.

Two bounds (docs/behaviour.md §9 "Robustness"): no byte for ``idle_seconds``, and, once
``grace_seconds`` of receiving have passed, fewer bytes than ``min_rate`` per second of
receiving on average (Kestrel's MinRequestBodyDataRate). Only time spent waiting for a
chunk counts, so a body held back while the service is busy with what it already has is
not taken for a slow one.

``asyncio.timeout`` around each receive makes, moves and cancels a timer for every
~64 KiB chunk: work on the event loop for every chunk of every upload (bench/README.md
has the measurement). Here one timer per request is armed when the first receive
begins; when it fires it checks how long the current receive has been waiting and how
much has come, and either cancels the waiting task (a bound is reached) or moves itself
to the first moment one could be, if nothing more arrives.
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass


@dataclass(frozen=True)
class MinBodyRate:
    """At least ``bytes_per_second`` on average, checked after ``grace_seconds``."""

    bytes_per_second: int
    grace_seconds: float


class Expiry(enum.Enum):
    IDLE = "idle"
    TOO_SLOW = "too_slow"


class IdleWatch:
    def __init__(self, seconds: float, min_rate: MinBodyRate | None = None) -> None:
        self._seconds = seconds
        self._rate = min_rate.bytes_per_second if min_rate else 0
        self._grace = min_rate.grace_seconds if min_rate else 0.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._waiting: asyncio.Task[object] | None = None
        self._since = 0.0
        self._active = 0.0  # seconds spent in receives that have ended
        self.received = 0  # bytes, counted by the receiver at end()
        self.expired: Expiry | None = None

    def begin(self, task: asyncio.Task[object]) -> None:
        """``task`` starts waiting for a chunk now."""
        loop = self._loop or asyncio.get_running_loop()
        self._loop = loop
        self._waiting = task
        self._since = loop.time()
        if self._timer is None:
            self._timer = loop.call_at(self._due(), self._check)

    def end(self, received: int = 0) -> None:
        """The wait ended: ``received`` bytes came (0 for an end of another kind)."""
        if self._waiting is not None and self._loop is not None:
            self._active += self._loop.time() - self._since
        self._waiting = None
        self.received += received

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._waiting = None

    @property
    def active_seconds(self) -> float:
        """Seconds spent waiting for chunks so far, the current wait included."""
        current = 0.0
        if self._waiting is not None and self._loop is not None:
            current = self._loop.time() - self._since
        return self._active + current

    def _due(self) -> float:
        """When the current wait reaches a bound, if nothing arrives meanwhile."""
        idle_due = self._since + self._seconds
        if not self._rate:
            return idle_due
        # Too slow once active time passes both the grace and received / rate.
        needed = max(self._grace, self.received / self._rate)
        return min(idle_due, self._since + (needed - self._active))

    def _check(self) -> None:
        self._timer = None
        task = self._waiting
        if task is None or self._loop is None:
            return  # not receiving now: the next begin() arms the timer again
        now = self._loop.time()
        due = self._due()
        if now < due:
            self._timer = self._loop.call_at(due, self._check)
            return
        idle = now >= self._since + self._seconds
        self.expired = Expiry.IDLE if idle else Expiry.TOO_SLOW
        task.cancel()
