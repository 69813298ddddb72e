"""The operator's file lookups (§5 ``files list`` / ``files get``)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from tests.db_support import CLOSED_CASE, EMAIL, OPEN_CASE, OPEN_DN, World, add_file

from ecb_files.db import Database, files
from ecb_files.storage import LocalBlobStore


def test_list_files_orders_by_creation_then_id(
    database: Database, world: World, store: LocalBlobStore
) -> None:
    """§5 ``files list``: oldest first; the files of one parent only."""
    base = datetime(2025, 1, 1, tzinfo=UTC)
    late = add_file(database, store, world, case_id=OPEN_CASE, created_at=base + timedelta(1))
    same = [add_file(database, store, world, case_id=OPEN_CASE, created_at=base) for _ in range(3)]
    add_file(database, store, world, dn_id=OPEN_DN, created_at=base)
    with database.read() as unit:
        listed = [f.id for f in files.list_files(unit, case_id=OPEN_CASE)]
        assert listed == [*sorted(f.id for f in same), late.id]
        assert len(files.list_files(unit, dn_id=OPEN_DN)) == 1
        assert files.list_files(unit, case_id=CLOSED_CASE) == []


def test_list_files_needs_exactly_one_parent(database: Database) -> None:
    """§5 ``files list``: ``--case`` or ``--dn``, not both, not neither."""
    with database.read() as unit, pytest.raises(ValueError, match="exactly one"):
        files.list_files(unit)
    with database.read() as unit, pytest.raises(ValueError, match="exactly one"):
        files.list_files(unit, case_id=OPEN_CASE, dn_id=OPEN_DN)


def test_get_file_loads_the_uploading_employee(
    database: Database, world: World, store: LocalBlobStore
) -> None:
    """§5 ``files list`` names the uploading employee, read after the unit has ended."""
    stored = add_file(database, store, world, case_id=OPEN_CASE)
    with database.read() as unit:
        row = files.get_file(unit, stored.id)
        assert files.get_file(unit, uuid.uuid4()) is None
    assert row is not None
    assert row.employee.email == EMAIL
