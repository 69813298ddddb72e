"""The lookups the use cases need, each one rule of the contract. They flush, never commit.

The target lookups (CONTRACT §3.2 step 3.3) fold every reason for "not yours" into one
``None``: another tenant's case, a tenant the partner does not serve, a case the partner
is not assigned to and a missing case cannot be told apart by the caller.

They also take a shared row lock on the target (``FOR SHARE`` on PostgreSQL; SQLite's
``BEGIN IMMEDIATE`` already serialises writers). An operator closing the case or merging
the DN takes ``FOR UPDATE`` on the same row, so a submission that saw the target open
commits its files before the change, or waits and then sees the change: files never
land on a DN after it was merged.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, delete, select
from sqlalchemy.orm import Session, selectinload

from ecb_files.db.models import (
    Case,
    DamageNotification,
    Employee,
    IdempotencyRecord,
    OAuthClient,
    StoredFile,
    UsedAssertion,
    email_key,
)
from ecb_files.db.submissions import case_for_partner, dn_for_partner

# Well under every backend's bound-parameter limit (SQLite's was 999 before 3.32).
BLOB_ID_BATCH = 500


def get_client(session: Session, client_id: str) -> OAuthClient | None:
    return session.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))


def find_active_employee(session: Session, partner_id: uuid.UUID, email: str) -> Employee | None:
    """The partner's active employee with ``email``, matched case-insensitively."""
    return session.scalar(
        select(Employee).where(
            Employee.partner_id == partner_id,
            Employee.email_key == email_key(email),
            Employee.active.is_(True),
        )
    )


def find_case_for_partner(
    session: Session, case_id: uuid.UUID, company_alias: str, partner_id: uuid.UUID
) -> Case | None:
    """The case, if it is in the company ``company_alias`` names, the partner serves that
    company, and the partner is assigned to the case."""
    case: Case | None = session.scalar(case_for_partner(case_id, company_alias, partner_id, Case))
    return case


def find_dn_for_partner(
    session: Session, dn_id: uuid.UUID, company_alias: str, partner_id: uuid.UUID
) -> DamageNotification | None:
    """The damage notification, if it is in the company ``company_alias`` names and was
    created by the partner."""
    statement = dn_for_partner(dn_id, company_alias, partner_id, DamageNotification)
    dn: DamageNotification | None = session.scalar(statement)
    return dn


def list_files(
    session: Session, *, case_id: uuid.UUID | None = None, dn_id: uuid.UUID | None = None
) -> list[StoredFile]:
    """The files of a case or of a damage notification (give exactly one), oldest first.

    A DN's files merged into a case are listed under both: the case they belong to now
    and the DN they came in with.
    """
    if (case_id is None) == (dn_id is None):
        raise ValueError("list_files needs exactly one of case_id and dn_id")
    parent = StoredFile.case_id == case_id if case_id is not None else StoredFile.dn_id == dn_id
    statement = (
        select(StoredFile)
        .where(parent)
        .options(selectinload(StoredFile.employee))
        .order_by(StoredFile.created_at, StoredFile.id)
    )
    return list(session.scalars(statement))


def get_file(session: Session, file_id: uuid.UUID) -> StoredFile | None:
    return session.get(StoredFile, file_id, options=[selectinload(StoredFile.employee)])


def referenced_blob_ids(session: Session, blob_ids: Collection[str]) -> set[str]:
    """Those of ``blob_ids`` that some file row refers to."""
    wanted = list(blob_ids)
    found: set[str] = set()
    for start in range(0, len(wanted), BLOB_ID_BATCH):
        batch = wanted[start : start + BLOB_ID_BATCH]
        found.update(
            session.scalars(select(StoredFile.blob_id).where(StoredFile.blob_id.in_(batch)))
        )
    return found


def delete_expired_idempotency_records(session: Session, now: datetime) -> int:
    """Forget idempotency records past their retention; returns how many."""
    result = session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at < now))
    return _rowcount(result)


def delete_expired_assertions(session: Session, now: datetime) -> int:
    """Forget used assertion ``jti``s that could no longer be accepted; returns how many."""
    result = session.execute(delete(UsedAssertion).where(UsedAssertion.expires_at < now))
    return _rowcount(result)


def _rowcount(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)
