"""The read side's statements (§11.2): cases, damage notifications and files as rows,
one page at a time.

Lists are newest first and paged by keyset: a page ends at a ``(created_at, id)`` and
the next one starts strictly below it, walking the (parent, created_at, id) indexes
backwards, so the thousandth page costs what the first does. Who may see a row is not
decided here: the services pass the conditions down (``services/visibility.py``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, true

from ecb_files.db.database import ReadConnection
from ecb_files.db.models import (
    Case,
    DamageNotification,
    Employee,
    InsuranceCompany,
    ServicePartner,
    StoredFile,
    case_partners,
)

_Q = TypeVar("_Q", bound="Select[*tuple[Any, ...]]")

#: Where a page ended: the last row's ``(created_at, id)``.
Keyset = tuple[datetime, uuid.UUID]


@dataclass(frozen=True)
class CaseRow:
    id: uuid.UUID
    number: str
    status: str
    company_id: int
    company_alias: str
    created_at: datetime


@dataclass(frozen=True)
class DamageNotificationRow:
    id: uuid.UUID
    company_id: int
    company_alias: str
    partner_id: uuid.UUID
    partner_name: str
    merged_to_case_id: uuid.UUID | None
    fnol: str | None
    created_at: datetime


@dataclass(frozen=True)
class FileRow:
    id: uuid.UUID
    case_id: uuid.UUID | None
    dn_id: uuid.UUID | None
    file_name: str
    content_type: str
    size: int
    sha256: str
    description: str | None
    is_restricted: bool
    is_damage_image: bool
    blob_id: str
    created_at: datetime
    uploaded_by: str
    partner_id: uuid.UUID
    partner_name: str


@dataclass(frozen=True)
class FileScope:
    """Which files of a parent a reader sees: all, or the public ones and those
    uploaded by one partner's clients."""

    own_partner: uuid.UUID | None = None
    everything: bool = False


_CASE = select(
    Case.id, Case.number, Case.status, Case.company_id, InsuranceCompany.alias, Case.created_at
).join(InsuranceCompany, InsuranceCompany.id == Case.company_id)

_DN = (
    select(
        DamageNotification.id,
        DamageNotification.company_id,
        InsuranceCompany.alias,
        DamageNotification.partner_id,
        ServicePartner.name,
        DamageNotification.merged_to_case_id,
        DamageNotification.fnol,
        DamageNotification.created_at,
    )
    .join(InsuranceCompany, InsuranceCompany.id == DamageNotification.company_id)
    .join(ServicePartner, ServicePartner.id == DamageNotification.partner_id)
)

_FILE = (
    select(
        StoredFile.id,
        StoredFile.case_id,
        StoredFile.dn_id,
        StoredFile.file_name,
        StoredFile.content_type,
        StoredFile.size,
        StoredFile.sha256,
        StoredFile.description,
        StoredFile.is_restricted,
        StoredFile.is_damage_image,
        StoredFile.blob_id,
        StoredFile.created_at,
        Employee.email,
        ServicePartner.id,
        ServicePartner.name,
    )
    .join(Employee, Employee.id == StoredFile.employee_id)
    .join(ServicePartner, ServicePartner.id == Employee.partner_id)
)


def find_case(connection: ReadConnection, case_id: uuid.UUID) -> CaseRow | None:
    row = connection.execute(_CASE.where(Case.id == case_id)).first()
    return None if row is None else CaseRow(*row)


def find_case_by_number(connection: ReadConnection, company_id: int, number: str) -> CaseRow | None:
    """The tenant's case numbered exactly ``number`` (the newest, should two share it)."""
    statement = _CASE.where(Case.company_id == company_id, Case.number == number)
    row = connection.execute(statement.order_by(Case.created_at.desc()).limit(1)).first()
    return None if row is None else CaseRow(*row)


def partner_on_case(connection: ReadConnection, case_id: uuid.UUID, partner_id: uuid.UUID) -> bool:
    """Whether the partner is assigned to the case."""
    statement = select(case_partners.c.case_id).where(
        case_partners.c.case_id == case_id, case_partners.c.partner_id == partner_id
    )
    return connection.execute(statement).first() is not None


def find_damage_notification(
    connection: ReadConnection, dn_id: uuid.UUID
) -> DamageNotificationRow | None:
    row = connection.execute(_DN.where(DamageNotification.id == dn_id)).first()
    return None if row is None else DamageNotificationRow(*row)


def find_file(connection: ReadConnection, file_id: uuid.UUID) -> FileRow | None:
    row = connection.execute(_FILE.where(StoredFile.id == file_id)).first()
    return None if row is None else FileRow(*tuple(row))


def list_files(
    connection: ReadConnection,
    scope: FileScope,
    *,
    case_id: uuid.UUID | None = None,
    dn_id: uuid.UUID | None = None,
    after: Keyset | None = None,
    limit: int,
) -> list[FileRow]:
    """One page of a case's or a DN's files (give one parent) that ``scope`` sees."""
    statement = _FILE.where(_parent(case_id, dn_id), _file_scope(scope))
    statement = _page(statement, StoredFile.created_at, StoredFile.id, after, limit)
    return [FileRow(*tuple(row)) for row in connection.execute(statement)]


def count_files(connection: ReadConnection, scope: FileScope, *, case_id: uuid.UUID) -> int:
    statement = select(func.count()).select_from(StoredFile)
    statement = statement.where(StoredFile.case_id == case_id, _file_scope(scope))
    return int(connection.execute(statement).scalar_one())


def list_cases(
    connection: ReadConnection,
    company_id: int,
    *,
    status: str | None = None,
    search: str | None = None,
    after: Keyset | None = None,
    limit: int,
) -> list[CaseRow]:
    """One page of the tenant's cases; ``search`` matches a part of the number (any
    letter case) or the whole id."""
    statement = _CASE.where(Case.company_id == company_id)
    if status is not None:
        statement = statement.where(Case.status == status)
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        matches: ColumnElement[bool] = Case.number.ilike(f"%{escaped}%", escape="\\")
        as_id = _as_uuid(search)
        if as_id is not None:
            matches = or_(matches, Case.id == as_id)
        statement = statement.where(matches)
    statement = _page(statement, Case.created_at, Case.id, after, limit)
    return [CaseRow(*row) for row in connection.execute(statement)]


def list_damage_notifications(
    connection: ReadConnection,
    company_id: int,
    *,
    merged: bool | None = None,
    search: str | None = None,
    after: Keyset | None = None,
    limit: int,
) -> list[DamageNotificationRow]:
    """One page of the tenant's damage notifications; ``search`` matches the whole id."""
    statement = _DN.where(DamageNotification.company_id == company_id)
    if merged is not None:
        column = DamageNotification.merged_to_case_id
        statement = statement.where(column.is_not(None) if merged else column.is_(None))
    if search:
        as_id = _as_uuid(search)
        statement = statement.where(false() if as_id is None else DamageNotification.id == as_id)
    statement = _page(statement, DamageNotification.created_at, DamageNotification.id, after, limit)
    return [DamageNotificationRow(*row) for row in connection.execute(statement)]


def _parent(case_id: uuid.UUID | None, dn_id: uuid.UUID | None) -> ColumnElement[bool]:
    if (case_id is None) == (dn_id is None):
        raise ValueError("give exactly one of case_id and dn_id")
    if case_id is not None:
        return StoredFile.case_id == case_id
    return StoredFile.dn_id == dn_id


def _file_scope(scope: FileScope) -> ColumnElement[bool]:
    if scope.everything:
        return true()
    if scope.own_partner is None:
        return StoredFile.is_restricted.is_(False)
    # The uploader's partner is its employee's (the submit path checks they agree).
    own_staff = select(Employee.id).where(Employee.partner_id == scope.own_partner)
    return or_(StoredFile.is_restricted.is_(False), StoredFile.employee_id.in_(own_staff))


def _page(statement: _Q, created_at: Any, row_id: Any, after: Keyset | None, limit: int) -> _Q:
    if after is not None:
        # The first condition alone is a range both planners walk the index with; the
        # second settles ties within one instant.
        moment, last_id = after
        statement = statement.where(
            created_at <= moment,
            or_(created_at < moment, and_(created_at == moment, row_id < last_id)),
        )
    ordered: _Q = statement.order_by(created_at.desc(), row_id.desc()).limit(limit)
    return ordered


def _as_uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text.strip())
    except ValueError:
        return None
