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

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ecb_files.auth.tokens import SigningKey, generate_signing_key
from ecb_files.db import models
from ecb_files.db.session import transaction


@dataclass(frozen=True)
class KeySnapshot:
    current: SigningKey
    published: tuple[SigningKey, ...]


def _to_domain(row: models.SigningKey) -> SigningKey:
    return SigningKey(
        kid=row.kid, private_pem=row.private_pem, created_at=row.created_at.timestamp()
    )


def ensure_signing_key(factory: sessionmaker[Session], now: float | None = None) -> None:
    """Create the first signing key unless one exists (two processes may race: one wins)."""
    with transaction(factory) as session:
        if session.scalar(select(models.SigningKey.kid).limit(1)) is not None:
            return
    try:
        with transaction(factory) as session:
            session.add(_new_row(now if now is not None else time.time()))
    except IntegrityError:
        pass


def rotate_signing_key(
    factory: sessionmaker[Session], *, keep_seconds: int, now: float | None = None
) -> tuple[str, list[str]]:
    """Make a new current key; older keys stay published for ``keep_seconds`` (token lifetime).

    Returns the new kid and the kids of keys dropped because their tokens have all expired.
    """
    moment = now if now is not None else time.time()
    at = datetime.fromtimestamp(moment, UTC)
    dropped: list[str] = []
    with transaction(factory) as session:
        for row in session.scalars(select(models.SigningKey)):
            if row.retired_at is None:
                row.retired_at = at
            elif row.retired_at + timedelta(seconds=keep_seconds) < at:
                dropped.append(row.kid)
                session.delete(row)
        new = _new_row(moment)
        session.add(new)
        return new.kid, dropped


def _new_row(now: float) -> models.SigningKey:
    key = generate_signing_key(now)
    return models.SigningKey(
        kid=key.kid,
        private_pem=key.private_pem,
        created_at=datetime.fromtimestamp(now, UTC),
        retired_at=None,
    )


class KeyRing:
    """Process-local cache of the signing keys stored in the database."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        keep_seconds: int,
        refresh_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._factory = factory
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
        with self._factory() as session:
            rows = list(
                session.scalars(select(models.SigningKey).order_by(models.SigningKey.created_at))
            )
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
