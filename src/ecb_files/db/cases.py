"""The insurer's changes to claims, as statements: lock a case or a DN, set a case's
status, move a merged DN's files to the case (§1, §5).

The locks pair with the submit path's lookups (``intake.case_for_partner`` and
``intake.dn_for_partner``), which take a shared lock (``FOR SHARE`` on PostgreSQL;
SQLite's ``BEGIN IMMEDIATE`` already serialises writers). A change takes ``FOR UPDATE``
on the same row, so a submission that saw the target open commits its files before the
change, or waits and then sees the change: files never land on a DN after it was merged
or on a case after it was closed.
"""

from __future__ import annotations

import uuid
from typing import TypeVar

from sqlalchemy import CursorResult, select, update

from ecb_files.db.database import Transaction
from ecb_files.db.models import Case, DamageNotification, StoredFile

_Row = TypeVar("_Row", Case, DamageNotification)


def lock_case(unit: Transaction, case_id: uuid.UUID) -> Case | None:
    """The case, locked for an update until the unit ends; ``None`` when there is none."""
    return _locked(unit, Case, case_id)


def lock_damage_notification(unit: Transaction, dn_id: uuid.UUID) -> DamageNotification | None:
    """The damage notification, locked for an update until the unit ends."""
    return _locked(unit, DamageNotification, dn_id)


def case_exists(unit: Transaction, case_id: uuid.UUID) -> bool:
    return unit.get(Case, case_id) is not None


def damage_notification_exists(unit: Transaction, dn_id: uuid.UUID) -> bool:
    return unit.get(DamageNotification, dn_id) is not None


def set_case_status(unit: Transaction, case: Case, status: str) -> bool:
    """Give ``case`` the status ``status``; ``True`` when that changed it."""
    changed = case.status != status
    case.status = status
    unit.flush()
    return changed


def move_to_case(unit: Transaction, dn: DamageNotification, case: Case) -> int:
    """Mark ``dn`` merged into ``case`` and move the files still on the DN to the case,
    all made public; returns how many moved.

    A moved file's parent is the case alone (its ``dn_id`` is cleared), so the DN lists
    nothing after a merge. The DN a file came in with stays on its submission row.
    """
    dn.merged_to_case_id = case.id
    result = unit.execute(
        update(StoredFile)
        .where(StoredFile.dn_id == dn.id)
        .values(case_id=case.id, dn_id=None, is_restricted=False)
        .execution_options(synchronize_session="fetch")
    )
    unit.flush()
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


def _locked(unit: Transaction, model: type[_Row], object_id: uuid.UUID) -> _Row | None:
    return unit.scalar(select(model).where(model.id == object_id).with_for_update(of=model))
