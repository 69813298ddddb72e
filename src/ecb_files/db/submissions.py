"""The submit path's statements, in SQLAlchemy Core: plain rows, no ORM identity map.

A submission runs a handful of lookups and inserts, and on a busy server that is most of
its CPU. Through the ORM (entities, identity map, lazy loads, flushes) they cost about
ten times what the same statements cost on a ``Connection``, and building a statement
costs several times running it: so they are built once, here, with bound parameters,
and run on the driver's cursor (``driver``, ``bulk_insert``), which spares the commit
thread SQLAlchemy's execution machinery.
The rules they encode are the same as ``queries``'s, which keeps the ORM forms for the
operator's commands.

The target lookups (``case_for_partner``, ``dn_for_partner``) are shared with ``queries``
and take a shared row lock (see there why).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BindParameter, Connection, Select, and_, bindparam, select
from sqlalchemy.orm import Session

from ecb_files.db.bulk_insert import BulkInsert
from ecb_files.db.driver import DriverSelect
from ecb_files.db.models import (
    CASE_OPEN,
    Case,
    DamageNotification,
    Employee,
    InsuranceCompany,
    OAuthClient,
    ServicePartner,
    SmallFileContent,
    StoredFile,
    Submission,
    case_partners,
    email_key,
    service_partner_companies,
)
from ecb_files.domain.ids import new_record_id

# The target builders take values (the ORM lookups) or bound parameters (built once here).
_Id = uuid.UUID | BindParameter[Any]
_Alias = str | BindParameter[Any]


@dataclass(frozen=True)
class Caller:
    """The client behind a token, its partner, and the partner's employee if active."""

    client_pk: int
    partner_id: uuid.UUID
    security_token: uuid.UUID
    employee_id: int | None


@dataclass(frozen=True)
class CaseState:
    id: uuid.UUID
    is_open: bool


@dataclass(frozen=True)
class DamageNotificationState:
    id: uuid.UUID
    merged_to_case_id: uuid.UUID | None


_CALLER = DriverSelect(
    select(OAuthClient.id, ServicePartner.id, ServicePartner.security_token, Employee.id)
    .join(ServicePartner, ServicePartner.id == OAuthClient.partner_id)
    .outerjoin(
        Employee,
        and_(
            Employee.partner_id == ServicePartner.id,
            Employee.email_key == bindparam("email_key"),
            Employee.active.is_(True),
        ),
    )
    .where(OAuthClient.client_id == bindparam("client_id"))
)


def find_caller(connection: Connection, client_id: str, employee_email: str) -> Caller | None:
    """The client ``client_id`` with its partner, and that partner's active employee
    ``employee_email`` (matched as ``queries.find_active_employee`` does), in one query."""
    parameters = {"client_id": client_id, "email_key": email_key(employee_email)}
    rows = _CALLER.rows(connection, parameters)
    if not rows:
        return None
    row = rows[0]
    return Caller(client_pk=row[0], partner_id=row[1], security_token=row[2], employee_id=row[3])


def case_for_partner(
    case_id: _Id, company_alias: _Alias, partner_id: _Id, *columns: Any
) -> Select[Any]:
    """``columns`` of the case, if it is in the company ``company_alias`` names, the
    partner serves that company, and the partner is assigned to the case."""
    return (
        select(*columns)
        .select_from(Case)
        .join(InsuranceCompany, InsuranceCompany.id == Case.company_id)
        .join(
            service_partner_companies,
            (service_partner_companies.c.company_id == Case.company_id)
            & (service_partner_companies.c.partner_id == partner_id),
        )
        .join(
            case_partners,
            (case_partners.c.case_id == Case.id) & (case_partners.c.partner_id == partner_id),
        )
        .where(Case.id == case_id, InsuranceCompany.alias == company_alias)
        .with_for_update(read=True, of=Case)
    )


def dn_for_partner(
    dn_id: _Id, company_alias: _Alias, partner_id: _Id, *columns: Any
) -> Select[Any]:
    """``columns`` of the damage notification, if it is in the company ``company_alias``
    names and was created by the partner."""
    return (
        select(*columns)
        .select_from(DamageNotification)
        .join(InsuranceCompany, InsuranceCompany.id == DamageNotification.company_id)
        .where(
            DamageNotification.id == dn_id,
            DamageNotification.partner_id == partner_id,
            InsuranceCompany.alias == company_alias,
        )
        .with_for_update(read=True, of=DamageNotification)
    )


_TARGET_ID: BindParameter[Any] = bindparam("target_id")
_ALIAS: BindParameter[Any] = bindparam("alias")
_PARTNER_ID: BindParameter[Any] = bindparam("partner_id")
_CASE_STATE = DriverSelect(case_for_partner(_TARGET_ID, _ALIAS, _PARTNER_ID, Case.id, Case.status))
_DN_STATE = DriverSelect(
    dn_for_partner(
        _TARGET_ID, _ALIAS, _PARTNER_ID, DamageNotification.id, DamageNotification.merged_to_case_id
    )
)
_INSERT_SUBMISSIONS = BulkInsert(Submission)
_INSERT_FILES = BulkInsert(StoredFile)
_INSERT_CONTENTS = BulkInsert(SmallFileContent)


def find_case_state(
    connection: Connection, case_id: uuid.UUID, company_alias: str, partner_id: uuid.UUID
) -> CaseState | None:
    parameters = {"target_id": case_id, "alias": company_alias, "partner_id": partner_id}
    rows = _CASE_STATE.rows(connection, parameters)
    return CaseState(id=rows[0][0], is_open=rows[0][1] == CASE_OPEN) if rows else None


def find_dn_state(
    connection: Connection, dn_id: uuid.UUID, company_alias: str, partner_id: uuid.UUID
) -> DamageNotificationState | None:
    parameters = {"target_id": dn_id, "alias": company_alias, "partner_id": partner_id}
    rows = _DN_STATE.rows(connection, parameters)
    if not rows:
        return None
    return DamageNotificationState(id=rows[0][0], merged_to_case_id=rows[0][1])


# Group commit (db.group_commit): the submissions of one transaction are queued in its
# session and inserted together before the commit, a statement per table for all of them.
_QUEUED = "ecb_files.queued_submissions"


@dataclass(frozen=True)
class _Queued:
    submission: dict[str, Any]
    files: Sequence[dict[str, Any]]
    contents: Sequence[dict[str, Any]]


def queue_submission(
    session: Session,
    submission: dict[str, Any],
    files: Sequence[dict[str, Any]],
    contents: Sequence[dict[str, Any]] = (),
) -> None:
    """One submission row, its file rows and the contents of its small files (keys: the
    models' attribute names), inserted at ``insert_queued`` time in the same transaction."""
    queued: list[_Queued] = session.info.setdefault(_QUEUED, [])
    queued.append(_Queued(submission, files, contents))


def insert_queued(session: Session) -> None:
    """Insert every submission queued in ``session`` (the committer's ``before_commit``)."""
    queued: list[_Queued] = session.info.pop(_QUEUED, [])
    if not queued:
        return
    connection = session.connection()
    _INSERT_SUBMISSIONS.execute(connection, [one.submission for one in queued])
    files = [row for one in queued for row in one.files]
    if files:
        _INSERT_FILES.execute(connection, files)
    contents = [row for one in queued for row in one.contents]
    if contents:
        _INSERT_CONTENTS.execute(connection, contents)


def submission_row(
    *,
    endpoint: str,
    client_pk: int,
    partner_id: uuid.UUID,
    employee_id: int,
    case_id: uuid.UUID | None,
    dn_id: uuid.UUID | None,
    timestamp: str | None,
    idempotency_key: str | None,
    created_at: datetime,
) -> dict[str, Any]:
    """A ``submissions`` row with a fresh id, every column named."""
    return {
        "id": new_record_id(),
        "endpoint": endpoint,
        "client_pk": client_pk,
        "partner_id": partner_id,
        "employee_id": employee_id,
        "case_id": case_id,
        "dn_id": dn_id,
        "timestamp": timestamp,
        "idempotency_key": idempotency_key,
        "created_at": created_at,
    }
