"""An insurer's actions on its claims over the read side (§11.2): merge a damage
notification into a case, close or reopen a case.

The same changes as the operator's (``services/cases.py``), behind the visibility rules:
an object of another tenant is missing, and only a handler or a client with
``platform-insurer:write`` may act. Each runs in one unit of work holding the rows'
locks, so it cannot interleave with a submission to the same target, and records
itself in the audit trail (``services/audit.py``) in that same unit: the row exists
exactly when the change happened (§12.3).
"""

from __future__ import annotations

import uuid

from ecb_files.db import Database, Transaction, cases
from ecb_files.db.models import CASE_CLOSED, CASE_OPEN
from ecb_files.errors import ClaimNotFound, DamageNotificationNotFound, MergedIntoAnotherCase
from ecb_files.services import audit
from ecb_files.services.audit import NO_ORIGIN, Actor, Origin
from ecb_files.services.cases import MergeResult, StatusChange, merge_into_case
from ecb_files.services.visibility import Viewer, require_writer


class InsurerActions:
    def __init__(self, database: Database) -> None:
        self._database = database

    def merge(
        self, viewer: Viewer, dn_id: uuid.UUID, case_id: uuid.UUID, origin: Origin = NO_ORIGIN
    ) -> MergeResult:
        """Merge the DN into the case (§1). Into the same case again: a no-op; into
        another: 409 ``DamageNotificationMergedToClaim`` naming it."""
        require_writer(viewer)
        with self._database.write() as unit:
            dn = cases.lock_damage_notification(unit, dn_id)
            if dn is None or dn.company_id != viewer.tenant_id:
                raise DamageNotificationNotFound(f"no damage notification with id {dn_id}")
            case = cases.lock_case(unit, case_id)
            if case is None or case.company_id != viewer.tenant_id:
                raise ClaimNotFound(f"no case with id {case_id}")
            if dn.merged_to_case_id == case.id:
                _record(unit, audit.DN_MERGE, viewer, origin, case.id, dn.id, changed=False)
                return MergeResult(dn.id, case.id, 0, already_merged=True)
            if dn.merged_to_case_id is not None:
                raise MergedIntoAnotherCase(
                    f"damage notification {dn.id} is already merged into case "
                    f"{dn.merged_to_case_id}",
                    reason="merged_elsewhere",
                )
            moved = merge_into_case(unit, dn, case)
            _record(unit, audit.DN_MERGE, viewer, origin, case.id, dn.id, changed=True)
            return MergeResult(dn.id, case.id, moved, already_merged=False)

    def close_case(
        self, viewer: Viewer, case_id: uuid.UUID, origin: Origin = NO_ORIGIN
    ) -> StatusChange:
        """Close the case (submissions then answer ClaimIsClosed); closing twice: no-op."""
        return self._set_status(viewer, case_id, CASE_CLOSED, origin)

    def reopen_case(
        self, viewer: Viewer, case_id: uuid.UUID, origin: Origin = NO_ORIGIN
    ) -> StatusChange:
        return self._set_status(viewer, case_id, CASE_OPEN, origin)

    def _set_status(
        self, viewer: Viewer, case_id: uuid.UUID, status: str, origin: Origin
    ) -> StatusChange:
        require_writer(viewer)
        with self._database.write() as unit:
            case = cases.lock_case(unit, case_id)
            if case is None or case.company_id != viewer.tenant_id:
                raise ClaimNotFound(f"no case with id {case_id}")
            changed = cases.set_case_status(unit, case, status)
            action = audit.CASE_CLOSE if status == CASE_CLOSED else audit.CASE_REOPEN
            _record(unit, action, viewer, origin, case.id, None, changed=changed)
            return StatusChange(case.id, status, changed)


def _record(
    unit: Transaction,
    action: str,
    viewer: Viewer,
    origin: Origin,
    case_id: uuid.UUID,
    dn_id: uuid.UUID | None,
    *,
    changed: bool,
) -> None:
    detail = "" if changed else audit.NO_CHANGE
    audit.record_in(
        unit,
        audit.event(
            action, Actor.of(viewer), origin, detail=detail, case_id=case_id, dn_id=dn_id
        ),
    )
