"""Signing keys kept in the database and cached per process (CONTRACT §2, §6)."""

from __future__ import annotations

import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ecb_files.db import models
from ecb_files.services.keys import KeyRing, ensure_signing_key, rotate_signing_key


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def key_count(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(models.SigningKey)) or 0)


def test_first_start_makes_one_key_and_later_starts_keep_it(
    factory: sessionmaker[Session],
) -> None:
    """§2: the key is made on first start and kept."""
    ensure_signing_key(factory)
    ensure_signing_key(factory)
    assert key_count(factory) == 1


def test_rotation_makes_a_new_current_key_and_keeps_the_old_published(
    factory: sessionmaker[Session],
) -> None:
    """§2: rotation keeps the previous key published until its tokens expire."""
    ensure_signing_key(factory)
    old = KeyRing(factory, keep_seconds=3600).snapshot().current.kid
    new, dropped = rotate_signing_key(factory, keep_seconds=3600)
    snapshot = KeyRing(factory, keep_seconds=3600).snapshot()
    assert snapshot.current.kid == new
    assert {k.kid for k in snapshot.published} == {old, new}
    assert dropped == []


def test_keys_retired_longer_than_a_token_lifetime_are_dropped(
    factory: sessionmaker[Session],
) -> None:
    """§2: once its tokens have expired, a retired key leaves the JWKS and the database."""
    ensure_signing_key(factory)
    first = KeyRing(factory, keep_seconds=60).snapshot().current.kid
    rotate_signing_key(factory, keep_seconds=60, now=time.time())
    _, dropped = rotate_signing_key(factory, keep_seconds=60, now=time.time() + 120)
    assert dropped == [first]


def test_the_cache_refreshes_after_its_interval(factory: sessionmaker[Session]) -> None:
    """§6: a rotation made by another process is picked up for signing."""
    ensure_signing_key(factory)
    clock = FakeClock()
    ring = KeyRing(factory, keep_seconds=3600, refresh_seconds=60, clock=clock)
    before = ring.snapshot().current.kid
    new, _ = rotate_signing_key(factory, keep_seconds=3600)
    assert ring.snapshot().current.kid == before  # still cached
    clock.now += 61
    assert ring.snapshot().current.kid == new
