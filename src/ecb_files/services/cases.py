"""The insurer's changes to claims: close or reopen a case, merge a DN into a case (§1, §5).

Merging moves the DN's files to the case and makes them all public. A moved file
belongs to the case alone: ``files list --case`` shows it and ``files list --dn`` no
longer does (the DN it came in with stays recorded on its submission).

An operator's change names its operator (``Actor`` of kind ``operator``) and is then
recorded in the audit trail in its own transaction (§12.3), like an insurer's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ecb_files.db import Database, Transaction, cases
from ecb_files.db.models import CASE_CLOSED, CASE_OPEN, Case, DamageNotification
from ecb_files.services import audit
from ecb_files.services.audit import Actor, Origin
from ecb_files.services.errors import ConflictError, NotFoundError


@dataclass(frozen=True)
class StatusChange:
    case_id: uuid.UUID
    status: str
    changed: bool


@dataclass(frozen=True)
class MergeResult:
    dn_id: uuid.UUID
    case_id: uuid.UUID
    files: int
    already_merged: bool


# An operator's command: who ran it, on which host.
Operator = tuple[Actor, Origin]


def close_case(
    database: Database, case_id: uuid.UUID, operator: Operator | None = None
) -> StatusChange:
    """Close the case: submitForCase then answers ClaimIsClosed. Closing twice is a no-op."""
    return _set_status(database, case_id, CASE_CLOSED, operator)


def reopen_case(
    database: Database, case_id: uuid.UUID, operator: Operator | None = None
) -> StatusChange:
    """Open the case again for submissions. Reopening an open case is a no-op."""
    return _set_status(database, case_id, CASE_OPEN, operator)


def merge_damage_notification(
    database: Database, dn_id: uuid.UUID, case_id: uuid.UUID, operator: Operator | None = None
) -> MergeResult:
    """Merge the DN into the case (§1). Merging again into the same case is a no-op.

    Raises ``NotFoundError`` for an unknown DN or case, ``ConflictError`` when the DN is
    already merged into another case or the case belongs to another insurance company.
    """
    with database.write() as unit:
        dn = cases.lock_damage_notification(unit, dn_id)
        if dn is None:
            raise NotFoundError(f"no damage notification with id {dn_id}")
        case = cases.lock_case(unit, case_id)
        if case is None:
            raise NotFoundError(f"no case with id {case_id}")
        already = dn.merged_to_case_id == case.id
        moved = merge_into_case(unit, dn, case)
        if operator is not None:
            detail = audit.NO_CHANGE if already else ""
            event = audit.event(
                audit.DN_MERGE, *operator, detail=detail, case_id=case.id, dn_id=dn.id
            )
            audit.record_in(unit, event)
        return MergeResult(dn.id, case.id, moved, already)


def merge_into_case(unit: Transaction, dn: DamageNotification, case: Case) -> int:
    """Mark ``dn`` merged into ``case`` and move its files there, all made public.

    Returns the number of files moved (none when the DN was merged into the case before).
    Shared with the fixture loader so both apply the same rules.
    """
    if dn.merged_to_case_id is not None and dn.merged_to_case_id != case.id:
        raise ConflictError(
            f"damage notification {dn.id} is already merged into case {dn.merged_to_case_id}"
        )
    if dn.company_id != case.company_id:
        raise ConflictError(
            f"damage notification {dn.id} belongs to insurance company "
            f"{dn.company.alias!r} but case {case.id} belongs to {case.company.alias!r}"
        )
    return cases.move_to_case(unit, dn, case)


def _set_status(
    database: Database, case_id: uuid.UUID, status: str, operator: Operator | None
) -> StatusChange:
    with database.write() as unit:
        case = cases.lock_case(unit, case_id)
        if case is None:
            raise NotFoundError(f"no case with id {case_id}")
        changed = cases.set_case_status(unit, case, status)
        if operator is not None:
            action = audit.CASE_CLOSE if status == CASE_CLOSED else audit.CASE_REOPEN
            detail = "" if changed else audit.NO_CHANGE
            audit.record_in(
                unit, audit.event(action, *operator, detail=detail, case_id=case.id)
            )
        return StatusChange(case.id, status, changed)
