"""The audit trail's rows (§12.3): added, and listed for ``ecb-files audit list``."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select

from ecb_files.db.database import ReadConnection, Transaction
from ecb_files.db.models import AuditEvent


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    action: str
    principal_kind: str
    principal: str
    address: str
    request_id: str
    detail: str = ""
    tenant_id: int | None = None
    partner_id: uuid.UUID | None = None
    file_id: uuid.UUID | None = None
    case_id: uuid.UUID | None = None
    dn_id: uuid.UUID | None = None


_COLUMNS = (
    "at",
    "action",
    "principal_kind",
    "principal",
    "address",
    "request_id",
    "detail",
    "tenant_id",
    "partner_id",
    "file_id",
    "case_id",
    "dn_id",
)


def add_events(unit: Transaction | ReadConnection, events: Sequence[AuditRow]) -> None:
    """Insert ``events`` (one statement); the caller's unit commits them."""
    if events:
        unit.execute(
            insert(AuditEvent),
            [{name: getattr(event, name) for name in _COLUMNS} for event in events],
        )


def list_events(
    unit: Transaction,
    *,
    file_id: uuid.UUID | None = None,
    case_id: uuid.UUID | None = None,
    since: datetime | None = None,
    limit: int | None = None,
) -> list[AuditRow]:
    """Events oldest first, those of the file, the case (its files' reads included) or
    from ``since`` on, when given."""
    query = select(AuditEvent)
    if file_id is not None:
        query = query.where(AuditEvent.file_id == file_id)
    if case_id is not None:
        query = query.where(AuditEvent.case_id == case_id)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    query = query.order_by(AuditEvent.at, AuditEvent.id)
    if limit is not None:
        query = query.limit(limit)
    return [
        AuditRow(**{name: getattr(event, name) for name in _COLUMNS})
        for event in unit.scalars(query)
    ]
