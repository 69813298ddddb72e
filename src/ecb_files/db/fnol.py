"""FNoL statements (§10.2): a tenant's FNoL schema, and a damage notification created
by a partner with the FNoL it was sent with."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, CursorResult, insert, select, update

from ecb_files.db.database import Transaction
from ecb_files.db.models import DamageNotification, InsuranceCompany, service_partner_companies


@dataclass(frozen=True)
class Tenant:
    """An insurance company and its FNoL schema as stored (JSON text; None: the default)."""

    id: int
    alias: str
    fnol_schema: str | None


_COLUMNS = (InsuranceCompany.id, InsuranceCompany.alias, InsuranceCompany.fnol_schema)


def find_tenant(connection: Connection, alias: str) -> Tenant | None:
    """The insurance company ``alias`` names exactly (letter case included)."""
    row = connection.execute(select(*_COLUMNS).where(InsuranceCompany.alias == alias)).first()
    return None if row is None else Tenant(row[0], row[1], row[2])


def find_tenant_served_by(
    connection: Connection, alias: str, partner_id: uuid.UUID
) -> Tenant | None:
    """The insurance company ``alias`` names, if the partner serves it."""
    row = connection.execute(
        select(*_COLUMNS)
        .join(
            service_partner_companies,
            (service_partner_companies.c.company_id == InsuranceCompany.id)
            & (service_partner_companies.c.partner_id == partner_id),
        )
        .where(InsuranceCompany.alias == alias)
    ).first()
    return None if row is None else Tenant(row[0], row[1], row[2])


def set_fnol_schema(unit: Transaction, alias: str, schema_text: str | None) -> bool:
    """Store the tenant's FNoL schema (None: back to the default); False for no such tenant."""
    result = unit.execute(
        update(InsuranceCompany)
        .where(InsuranceCompany.alias == alias)
        .values(fnol_schema=schema_text)
        .execution_options(synchronize_session=False)
    )
    assert isinstance(result, CursorResult)
    return result.rowcount > 0


def insert_damage_notification(
    connection: Connection,
    *,
    dn_id: uuid.UUID,
    company_id: int,
    partner_id: uuid.UUID,
    fnol: str,
    created_at: datetime,
) -> None:
    """A new open damage notification keeping ``fnol``, the JSON text as sent."""
    connection.execute(
        insert(DamageNotification).values(
            id=dn_id,
            company_id=company_id,
            partner_id=partner_id,
            merged_to_case_id=None,
            fnol=fnol,
            created_at=created_at,
        )
    )
