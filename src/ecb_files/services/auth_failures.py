"""The token endpoint's lockout (§12.2): too many failed client authentications from an
address, for one client id or for any, within the window → 429 for that address (for
that client id, or for all) until the window has passed, in every process (the failures
are rows).

The window slides: an address is locked while the failures counted against it in the
last ``window`` seconds reach the limit. Refused requests are not failures, so the lock
lifts when the oldest counted failure leaves the window (``Retry-After`` says when).
Successes count for nothing and forgive nothing: an attacker who also holds a valid
secret gains no reset by using it.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from ecb_files.config import RateLimits
from ecb_files.db import Database
from ecb_files.db import rate_limits as rows
from ecb_files.errors import OAuthError


def _now() -> datetime:
    return datetime.now(UTC)


class AuthFailures:
    def __init__(
        self,
        database: Database,
        limits: RateLimits,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._database = database
        self._per_client = limits.auth_failures_per_client
        self._per_address = limits.auth_failures_per_address
        self._window = timedelta(seconds=limits.auth_failure_window_seconds)
        self._clock = clock

    def check(self, address: str, client_id: str | None) -> None:
        """``OAuthError`` 429 ``temporarily_unavailable`` while ``address`` is locked out
        for ``client_id`` (or for every client)."""
        now = self._clock()
        since = now - self._window
        with self._database.read() as unit:
            everyone = rows.auth_failure_times(unit, address, since, newest=self._per_address)
            mine = (
                rows.auth_failure_times(
                    unit, address, since, client_sha256=_key(client_id), newest=self._per_client
                )
                if client_id
                else []
            )
        if len(everyone) >= self._per_address:
            raise self._locked(everyone[-1], now, "from this address")
        if len(mine) >= self._per_client:
            raise self._locked(mine[-1], now, "for this client from this address")

    def failed(self, address: str, client_id: str | None) -> None:
        """Count a failed client authentication from ``address`` naming ``client_id``."""
        now = self._clock()
        with self._database.write() as unit:
            # Swept here, at a failure, so the table holds only what can still count.
            rows.drop_auth_failures_before(unit, now - self._window)
            rows.add_auth_failure(unit, address, _key(client_id) if client_id else None, now)

    def _locked(self, oldest_counted: datetime, now: datetime, scope: str) -> OAuthError:
        seconds = max(1, math.ceil((oldest_counted + self._window - now).total_seconds()))
        return OAuthError.locked_out(
            f"too many failed client authentications {scope}; retry after {seconds} s",
            retry_after=seconds,
        )


def _key(client_id: str | None) -> str:
    return hashlib.sha256((client_id or "").encode()).hexdigest()
