"""The fixture loader's lookups by natural key (§5 ``load``)."""

from __future__ import annotations

import uuid

import pytest
from tests.db_support import (
    COMPANY_ALIAS,
    EMAIL,
    INACTIVE_EMAIL,
    OPEN_CASE,
    OPEN_DN,
    OTHER_PARTNER,
    PARTNER,
    World,
)

from ecb_files.db import Database, fixtures, models


def test_company_by_its_exact_alias(database: Database, world: World) -> None:
    """§5 ``load``: an insurance company is upserted by its alias."""
    with database.read() as unit:
        company = fixtures.company_by_alias(unit, COMPANY_ALIAS)
        assert company is not None
        assert company.id == world.company_id
        assert fixtures.company_by_alias(unit, COMPANY_ALIAS.upper()) is None


@pytest.mark.parametrize("spelling", [EMAIL, EMAIL.lower(), EMAIL.upper()])
def test_employee_by_email_within_its_partner_in_any_case(
    database: Database, world: World, spelling: str
) -> None:
    """§1, §5 ``load``: an employee is upserted by e-mail within its partner, any case."""
    with database.read() as unit:
        employee = fixtures.employee_by_email(unit, PARTNER, spelling)
        assert employee is not None
        assert employee.id == world.employee_id
        assert fixtures.employee_by_email(unit, OTHER_PARTNER, spelling) is None


def test_an_inactive_employee_is_found_too(database: Database, world: World) -> None:
    """§5 ``load``: the loader updates inactive employees, it does not duplicate them."""
    with database.read() as unit:
        employee = fixtures.employee_by_email(unit, PARTNER, INACTIVE_EMAIL)
        assert employee is not None
        assert employee.active is False


def test_objects_by_id(database: Database, world: World) -> None:
    """§5 ``load``: partners, cases and damage notifications are upserted by id."""
    with database.read() as unit:
        partner = fixtures.partner_by_id(unit, PARTNER)
        case = fixtures.case_by_id(unit, OPEN_CASE)
        dn = fixtures.damage_notification_by_id(unit, OPEN_DN)
        assert (partner and partner.id, case and case.id, dn and dn.id) == (
            PARTNER,
            OPEN_CASE,
            OPEN_DN,
        )
        assert fixtures.case_by_id(unit, uuid.uuid4()) is None


def test_save_writes_a_new_row_and_a_changed_one(database: Database, world: World) -> None:
    """§5 ``load``: created and updated rows are written in the loader's unit."""
    with database.write() as unit:
        fixtures.save(unit, models.InsuranceCompany(alias="third", name="Third"))
        employee = fixtures.employee_by_email(unit, PARTNER, EMAIL)
        assert employee is not None
        employee.email = "New.Address@Example.com"
        fixtures.save(unit, employee)
        assert employee.email_key == "new.address@example.com"
    with database.read() as unit:
        assert fixtures.company_by_alias(unit, "third") is not None
        assert fixtures.employee_by_email(unit, PARTNER, "new.address@example.com") is not None
