"""The server's signing keys: made on first start, kept in the database, shared by processes.

Every process keeps a read-through cache of the keys. A token signed by a key this
process has not seen yet (another process rotated) triggers one reload; otherwise the
cache refreshes itself every ``refresh_seconds`` so that a rotation is picked up for
signing everywhere within that time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ecb_files.auth.tokens import SigningKey, generate_signing_key
from ecb_files.db import Database, keys, models


@dataclass(frozen=True)
class KeySnapshot:
    current: SigningKey
    published: tuple[SigningKey, ...]


def _to_domain(row: models.SigningKey) -> SigningKey:
    return SigningKey(
        kid=row.kid, private_pem=row.private_pem, created_at=row.created_at.timestamp()
    )


def ensure_signing_key(database: Database, now: float | None = None) -> None:
    """Create the first signing key unless one exists (two processes may race: one wins)."""
    with database.read() as unit:
        if keys.has_signing_key(unit):
            return
    # Made outside the unit: generating an RSA key takes a while.
    key = generate_signing_key(now if now is not None else time.time())
    with database.write() as unit:
        keys.add_first_signing_key(unit, key.kid, key.private_pem, _utc(key.created_at))


def published_keys(database: Database, *, keep_seconds: int) -> KeySnapshot:
    """The current signing key and every published one (made first if there is none)."""
    ensure_signing_key(database)
    return KeyRing(database, keep_seconds=keep_seconds).snapshot()


def rotate_signing_key(
    database: Database, *, keep_seconds: int, now: float | None = None
) -> tuple[str, list[str]]:
    """Make a new current key; older keys stay published for ``keep_seconds`` (token lifetime).

    Returns the new kid and the kids of keys dropped because their tokens have all expired.
    """
    moment = now if now is not None else time.time()
    at = _utc(moment)
    new = generate_signing_key(moment)
    dropped: list[str] = []
    with database.write() as unit:
        for row in keys.signing_keys(unit):
            if row.retired_at is None:
                keys.retire_signing_key(unit, row, at)
            elif row.retired_at + timedelta(seconds=keep_seconds) < at:
                dropped.append(row.kid)
                keys.drop_signing_key(unit, row)
        keys.add_signing_key(unit, new.kid, new.private_pem, at)
        return new.kid, dropped


def _utc(moment: float) -> datetime:
    return datetime.fromtimestamp(moment, UTC)


class KeyRing:
    """Process-local cache of the signing keys stored in the database."""

    def __init__(
        self,
        database: Database,
        *,
        keep_seconds: int,
        refresh_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._database = database
        self._keep_seconds = keep_seconds
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._snapshot: KeySnapshot | None = None
        self._loaded_at = 0.0

    def snapshot(self) -> KeySnapshot:
        current = self._snapshot
        if current is not None and self._clock() - self._loaded_at <= self._refresh_seconds:
            return current
        # One thread refreshes; the others go on with the keys they have meanwhile, so a
        # token check never waits on the database once keys have been loaded.
        if current is not None and not self._lock.acquire(blocking=False):
            return current
        if current is None:
            self._lock.acquire()
        try:
            if self._snapshot is None or self._clock() - self._loaded_at > self._refresh_seconds:
                self._snapshot = self._load()
                self._loaded_at = self._clock()
            return self._snapshot
        finally:
            self._lock.release()

    def fresh(self) -> KeySnapshot | None:
        """The loaded keys while they are not due for a refresh, else ``None``; never blocks."""
        current = self._snapshot
        if current is not None and self._clock() - self._loaded_at <= self._refresh_seconds:
            return current
        return None

    def reload(self) -> KeySnapshot:
        """Reload now; rate-limited to once a second so bad kids cannot hammer the database."""
        with self._lock:
            if self._snapshot is None or self._clock() - self._loaded_at >= 1.0:
                self._snapshot = self._load()
                self._loaded_at = self._clock()
            return self._snapshot

    def _load(self) -> KeySnapshot:
        with self._database.read() as unit:
            rows = keys.signing_keys(unit)
        if not rows:
            raise RuntimeError("no signing key in the database; run 'ecb-files db upgrade'")
        now = datetime.now(UTC)
        active = [r for r in rows if r.retired_at is None] or rows
        published = [
            r
            for r in rows
            if r.retired_at is None or r.retired_at + timedelta(seconds=self._keep_seconds) > now
        ]
        return KeySnapshot(
            current=_to_domain(active[-1]), published=tuple(_to_domain(r) for r in published)
        )
