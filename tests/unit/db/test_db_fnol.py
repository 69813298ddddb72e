"""FNoL statements and migration 0004 (§10.2): tenants' schemas, DNs keeping their FNoL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from alembic import command
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from tests.db_support import (
    COMPANY_ALIAS,
    OPEN_DN,
    OTHER_ALIAS,
    OTHER_PARTNER,
    PARTNER,
    World,
    add_file,
)

from ecb_files.db import Database, fnol, models
from ecb_files.db.migrate import alembic_config
from ecb_files.storage import LocalBlobStore

FNOL_TEXT = '{ "incidentDate" : "2026-11-28",\n  "description": "vand i køkkenet", "n": 1.50 }'


def test_a_tenant_is_found_by_its_exact_alias(database: Database, world: World) -> None:
    with database.read_connection() as connection:
        tenant = fnol.find_tenant(connection, COMPANY_ALIAS)
        assert tenant == fnol.Tenant(world.company_id, COMPANY_ALIAS, None)
        assert fnol.find_tenant(connection, COMPANY_ALIAS.upper()) is None


def test_a_tenant_the_partner_does_not_serve_is_not_found(database: Database, world: World) -> None:
    """§10.2: an alias not served by the partner is answered like an unknown one."""
    with database.read_connection() as connection:
        assert fnol.find_tenant_served_by(connection, COMPANY_ALIAS, PARTNER) is not None
        assert fnol.find_tenant_served_by(connection, OTHER_ALIAS, PARTNER) is None
        assert fnol.find_tenant_served_by(connection, OTHER_ALIAS, OTHER_PARTNER) is not None


def test_a_schema_is_set_and_reset(database: Database, world: World) -> None:
    with database.write() as unit:
        assert fnol.set_fnol_schema(unit, COMPANY_ALIAS, '{"type": "object"}')
    with database.read_connection() as connection:
        tenant = fnol.find_tenant(connection, COMPANY_ALIAS)
        assert tenant is not None
        assert tenant.fnol_schema == '{"type": "object"}'
    with database.write() as unit:
        assert fnol.set_fnol_schema(unit, COMPANY_ALIAS, None)
    with database.read_connection() as connection:
        tenant = fnol.find_tenant(connection, COMPANY_ALIAS)
        assert tenant is not None
        assert tenant.fnol_schema is None


def test_setting_the_schema_of_an_unknown_tenant_finds_nothing(
    database: Database, world: World
) -> None:
    with database.write() as unit:
        assert not fnol.set_fnol_schema(unit, "nobody", "{}")


def test_a_new_dn_keeps_its_fnol_text_exactly(database: Database, world: World) -> None:
    """§10.2: the FNoL is kept exactly as sent (spacing, number forms, non-ASCII)."""
    dn_id = uuid.uuid4()
    moment = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
    with database.write() as unit:
        fnol.insert_damage_notification(
            unit.connection(),
            dn_id=dn_id,
            company_id=world.company_id,
            partner_id=PARTNER,
            fnol=FNOL_TEXT,
            created_at=moment,
        )
    with database.read() as unit:
        row = unit.get(models.DamageNotification, dn_id)
        assert row is not None
        assert (row.fnol, row.created_at, row.merged_to_case_id) == (FNOL_TEXT, moment, None)
        assert (row.company_id, row.partner_id) == (world.company_id, PARTNER)


def test_submissions_may_name_the_fnol_endpoint_only_besides_the_two(
    database: Database, world: World
) -> None:
    """Migration 0004 widens ``submissions.endpoint``; other values stay refused."""

    def submission(endpoint: str) -> models.Submission:
        return models.Submission(
            id=uuid.uuid4(),
            endpoint=endpoint,
            client_pk=world.client_pk,
            partner_id=PARTNER,
            employee_id=world.employee_id,
            dn_id=OPEN_DN,
            created_at=datetime.now(UTC),
        )

    with database.write() as unit:
        unit.add(submission("damageNotification"))
    refused = submission("somethingElse")
    with database.write() as unit:
        unit.add(refused)
        with pytest.raises(IntegrityError):
            unit.flush()
        unit.rollback()


def test_0004_downgrade_keeps_an_fnol_s_files_on_their_dn(
    database: Database, world: World, store: LocalBlobStore
) -> None:
    """Down to 0003, an FNoL's submission becomes a submitForDamageNotification one."""
    stored = add_file(database, store, world, dn_id=OPEN_DN)
    with database.write() as unit:
        unit.get_one(models.Submission, stored.submission_id).endpoint = "damageNotification"
    with database.engine.connect() as connection:
        command.downgrade(alembic_config(connection), "0003")
    database.upgrade()
    with database.read() as unit:
        endpoint = unit.scalar(
            select(models.Submission.endpoint).where(models.Submission.id == stored.submission_id)
        )
        assert endpoint == "submitForDamageNotification"
        assert unit.get_one(models.StoredFile, stored.id).dn_id == OPEN_DN
