"""Signing keys as rows (§2: made on first start, rotated, shared by processes)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from ecb_files.db import Database, keys

AT = datetime(2026, 1, 1, tzinfo=UTC)


def test_the_first_key_is_stored_once(database: Database) -> None:
    """§2: the first start stores a key; a later one finds it and stores nothing."""
    with database.write() as unit:
        assert keys.has_signing_key(unit) is False
        assert keys.add_first_signing_key(unit, "first", "pem-1", AT) is True
    with database.write() as unit:
        assert keys.add_first_signing_key(unit, "second", "pem-2", AT) is False
    with database.read() as unit:
        assert [k.kid for k in keys.signing_keys(unit)] == ["first"]


def test_processes_starting_together_store_one_first_key(database: Database) -> None:
    """§2: of first keys made at the same time, one is stored."""
    barrier = threading.Barrier(4)
    stored: list[bool] = []

    def start(kid: str) -> None:
        barrier.wait()
        with database.write() as unit:
            stored.append(keys.add_first_signing_key(unit, kid, "pem", AT))

    threads = [threading.Thread(target=start, args=(f"kid-{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(stored) == [False, False, False, True]
    with database.read() as unit:
        assert len(keys.signing_keys(unit)) == 1


def test_keys_are_listed_oldest_first_and_can_be_retired_and_dropped(database: Database) -> None:
    """§2 rotation: a retired key stays listed (published) until it is dropped."""
    with database.write() as unit:
        keys.add_signing_key(unit, "new", "pem-new", AT + timedelta(1))
        keys.add_signing_key(unit, "old", "pem-old", AT)
    with database.write() as unit:
        old, new = keys.signing_keys(unit)
        assert (old.kid, new.kid) == ("old", "new")
        keys.retire_signing_key(unit, old, AT + timedelta(2))
    with database.read() as unit:
        assert [(k.kid, k.retired_at) for k in keys.signing_keys(unit)] == [
            ("old", AT + timedelta(2)),
            ("new", None),
        ]
    with database.write() as unit:
        keys.drop_signing_key(unit, keys.signing_keys(unit)[0])
    with database.read() as unit:
        assert [k.kid for k in keys.signing_keys(unit)] == ["new"]
