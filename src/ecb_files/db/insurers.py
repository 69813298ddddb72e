"""Insurer users and the owner of an OAuth client (§11.1)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select

from ecb_files.db.database import ReadConnection, Transaction
from ecb_files.db.models import InsuranceCompany, InsurerUser, OAuthClient, email_key


@dataclass(frozen=True)
class ClientOwner:
    """Whom a client acts for: a service partner or an insurance company (one is set)."""

    partner_id: uuid.UUID | None
    company_id: int | None


def client_owner(connection: ReadConnection, client_id: str) -> ClientOwner | None:
    row = connection.execute(
        select(OAuthClient.partner_id, OAuthClient.company_id).where(
            OAuthClient.client_id == client_id
        )
    ).first()
    return None if row is None else ClientOwner(row[0], row[1])


def users_by_email(unit: Transaction, email: str) -> list[InsurerUser]:
    """Every tenant's user with ``email`` (case-insensitively), tenant loaded, by id."""
    statement = (
        select(InsurerUser)
        .join(InsuranceCompany, InsuranceCompany.id == InsurerUser.company_id)
        .where(InsurerUser.email_key == email_key(email))
        .order_by(InsurerUser.id)
    )
    users = list(unit.scalars(statement))
    for user in users:
        _ = user.company  # read after the unit ends
    return users


def user_in_company(unit: Transaction, company_id: int, email: str) -> InsurerUser | None:
    return unit.scalar(
        select(InsurerUser).where(
            InsurerUser.company_id == company_id, InsurerUser.email_key == email_key(email)
        )
    )


def user_by_id(unit: Transaction, user_id: int) -> InsurerUser | None:
    user = unit.get(InsurerUser, user_id)
    if user is not None:
        _ = user.company
    return user


def list_users(unit: Transaction, company_id: int | None = None) -> list[InsurerUser]:
    """Users of one company (or of all), by company alias then e-mail."""
    statement = select(InsurerUser).join(
        InsuranceCompany, InsuranceCompany.id == InsurerUser.company_id
    )
    if company_id is not None:
        statement = statement.where(InsurerUser.company_id == company_id)
    statement = statement.order_by(InsuranceCompany.alias, InsurerUser.email_key)
    users = list(unit.scalars(statement))
    for user in users:
        _ = user.company
    return users
