"""Signing keys kept in the database and cached per process (§2, §6)."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from ecb_files.db import Database, models
from ecb_files.services.keys import KeyRing, ensure_signing_key, rotate_signing_key


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def key_count(database: Database) -> int:
    with database.read() as session:
        return int(session.scalar(select(func.count()).select_from(models.SigningKey)) or 0)


def test_first_start_makes_one_key_and_later_starts_keep_it(
    database: Database,
) -> None:
    """§2: the key is made on first start and kept."""
    ensure_signing_key(database)
    ensure_signing_key(database)
    assert key_count(database) == 1


def test_rotation_makes_a_new_current_key_and_keeps_the_old_published(
    database: Database,
) -> None:
    """§2: rotation keeps the previous key published until its tokens expire."""
    ensure_signing_key(database)
    old = KeyRing(database, keep_seconds=3600).snapshot().current.kid
    new, dropped = rotate_signing_key(database, keep_seconds=3600)
    snapshot = KeyRing(database, keep_seconds=3600).snapshot()
    assert snapshot.current.kid == new
    assert {k.kid for k in snapshot.published} == {old, new}
    assert dropped == []


def test_keys_retired_longer_than_a_token_lifetime_are_dropped(
    database: Database,
) -> None:
    """§2: once its tokens have expired, a retired key leaves the JWKS and the database."""
    ensure_signing_key(database)
    first = KeyRing(database, keep_seconds=60).snapshot().current.kid
    rotate_signing_key(database, keep_seconds=60, now=time.time())
    _, dropped = rotate_signing_key(database, keep_seconds=60, now=time.time() + 120)
    assert dropped == [first]


def test_the_cache_refreshes_after_its_interval(database: Database) -> None:
    """§6: a rotation made by another process is picked up for signing."""
    ensure_signing_key(database)
    clock = FakeClock()
    ring = KeyRing(database, keep_seconds=3600, refresh_seconds=60, clock=clock)
    before = ring.snapshot().current.kid
    new, _ = rotate_signing_key(database, keep_seconds=3600)
    assert ring.snapshot().current.kid == before  # still cached
    clock.now += 61
    assert ring.snapshot().current.kid == new
