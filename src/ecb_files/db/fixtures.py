"""The fixture loader's lookups by natural key, and how it stores a row (§5 ``load``).

Insurance company by ``alias``, service partner, case and damage notification by id,
employee by e-mail within its partner (case-insensitively, as the submit path matches
it); OAuth clients are found with ``clients.find_client``.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from ecb_files.db.base import Base
from ecb_files.db.database import Transaction
from ecb_files.db.models import (
    Case,
    DamageNotification,
    Employee,
    InsuranceCompany,
    ServicePartner,
    email_key,
)


def company_by_alias(unit: Transaction, alias: str) -> InsuranceCompany | None:
    return unit.scalar(select(InsuranceCompany).where(InsuranceCompany.alias == alias))


def partner_by_id(unit: Transaction, partner_id: uuid.UUID) -> ServicePartner | None:
    return unit.get(ServicePartner, partner_id)


def employee_by_email(unit: Transaction, partner_id: uuid.UUID, email: str) -> Employee | None:
    """The partner's employee with ``email``, active or not."""
    return unit.scalar(
        select(Employee).where(
            Employee.partner_id == partner_id, Employee.email_key == email_key(email)
        )
    )


def case_by_id(unit: Transaction, case_id: uuid.UUID) -> Case | None:
    return unit.get(Case, case_id)


def damage_notification_by_id(unit: Transaction, dn_id: uuid.UUID) -> DamageNotification | None:
    return unit.get(DamageNotification, dn_id)


def save(unit: Transaction, row: Base) -> None:
    """Write ``row``, new or changed, in the unit (flushed: constraints are checked now)."""
    unit.add(row)
    unit.flush()
