"""The insurer's changes as statements: locks, status, moving a DN's files (§1, §5)."""

from __future__ import annotations

import uuid

from tests.db_support import (
    CLOSED_CASE,
    OPEN_CASE,
    OPEN_DN,
    UNASSIGNED_CASE,
    World,
    add_file,
)

from ecb_files.db import Database, cases, models
from ecb_files.storage import LocalBlobStore


def test_lock_finds_the_case_or_dn_and_nothing_else(database: Database, world: World) -> None:
    """§5 ``case close`` / ``dn merge``: an unknown id finds nothing."""
    with database.write() as unit:
        case = cases.lock_case(unit, OPEN_CASE)
        dn = cases.lock_damage_notification(unit, OPEN_DN)
        assert (case and case.id, dn and dn.id) == (OPEN_CASE, OPEN_DN)
        assert cases.lock_case(unit, OPEN_DN) is None
        assert cases.lock_damage_notification(unit, OPEN_CASE) is None


def test_exists(database: Database, world: World) -> None:
    """§5 ``files list``: an unknown case or DN is told from one without files."""
    with database.read() as unit:
        assert cases.case_exists(unit, CLOSED_CASE)
        assert not cases.case_exists(unit, uuid.uuid4())
        assert cases.damage_notification_exists(unit, OPEN_DN)
        assert not cases.damage_notification_exists(unit, OPEN_CASE)


def test_set_case_status_says_whether_it_changed(database: Database, world: World) -> None:
    """§5 ``case close``: closing a closed case changes nothing."""
    with database.write() as unit:
        case = cases.lock_case(unit, OPEN_CASE)
        assert case is not None
        assert cases.set_case_status(unit, case, models.CASE_CLOSED) is True
        assert cases.set_case_status(unit, case, models.CASE_CLOSED) is False
    with database.read() as unit:
        stored = unit.get(models.Case, OPEN_CASE)
        assert stored is not None
        assert stored.status == models.CASE_CLOSED


def test_move_to_case_moves_the_dns_files_made_public(
    database: Database, world: World, store: LocalBlobStore
) -> None:
    """§1: merging moves the DN's files to the case, all public; others stay."""
    moved = [add_file(database, store, world, dn_id=OPEN_DN, restricted=r) for r in (True, False)]
    other = add_file(database, store, world, case_id=UNASSIGNED_CASE, restricted=True)
    with database.write() as unit:
        dn = cases.lock_damage_notification(unit, OPEN_DN)
        case = cases.lock_case(unit, OPEN_CASE)
        assert dn is not None
        assert case is not None
        assert cases.move_to_case(unit, dn, case) == 2
    with database.read() as unit:
        dn_row = unit.get(models.DamageNotification, OPEN_DN)
        assert dn_row is not None
        assert dn_row.merged_to_case_id == OPEN_CASE
        for stored in moved:
            row = unit.get(models.StoredFile, stored.id)
            assert row is not None
            # The case is its one parent: the DN lists nothing after the merge.
            assert (row.case_id, row.dn_id, row.is_restricted) == (OPEN_CASE, None, False)
        untouched = unit.get(models.StoredFile, other.id)
        assert untouched is not None
        assert (untouched.case_id, untouched.is_restricted) == (UNASSIGNED_CASE, True)
