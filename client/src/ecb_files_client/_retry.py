"""When to try a submission again, and how long to wait first (exponential + jitter)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# Answers that say "not now" rather than "no": the same request may well succeed later.
# 408: the body stopped arriving; 409: the same Idempotency-Key is still in flight;
# 425: too early; 429: rate limited; every 5xx: the server or a dependency failed.
RETRYABLE_STATUSES = frozenset({408, 409, 425, 429})


def is_retryable_status(status: int) -> bool:
    return status >= 500 or status in RETRYABLE_STATUSES


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a submission is retried.

    The wait before attempt ``n + 1`` is drawn between half and all of
    ``min(max_delay, initial_delay * multiplier ** (n - 1))`` ("equal jitter": it grows,
    but concurrent clients spread out). A ``Retry-After`` from the server is honoured:
    the wait is at least that long; one longer than ``max_retry_after`` ends the retries
    at once instead of blocking for it.
    """

    max_attempts: int = 5
    initial_delay: float = 0.5
    max_delay: float = 30.0
    multiplier: float = 2.0
    max_retry_after: float = 120.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.initial_delay < 0 or self.max_delay < 0 or self.multiplier < 1:
            raise ValueError("delays must not be negative and multiplier at least 1")

    def backoff(self, attempt: int, rng: random.Random | None = None) -> float:
        """The jittered wait after failed attempt number ``attempt`` (1-based)."""
        ceiling = min(self.max_delay, self.initial_delay * self.multiplier ** (attempt - 1))
        draw = (rng or _RANDOM).random()
        return ceiling / 2 + draw * ceiling / 2

    def delay(
        self, attempt: int, retry_after: float | None = None, rng: random.Random | None = None
    ) -> float | None:
        """The wait before the next attempt, or None when there is to be none."""
        if attempt >= self.max_attempts:
            return None
        if retry_after is not None and retry_after > self.max_retry_after:
            return None
        backoff = self.backoff(attempt, rng)
        return backoff if retry_after is None else max(retry_after, backoff)


_RANDOM = random.SystemRandom()


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delay-seconds or an HTTP-date."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)
