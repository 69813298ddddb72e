"""Migrations: the schema they build is the models' schema, on a fresh or current database."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, select, text, update
from sqlalchemy.exc import IntegrityError
from tests.db_support import CLOSED_CASE, OPEN_CASE, OPEN_DN, add_file, seed_world

from ecb_files.db import Database, models
from ecb_files.db.base import Base
from ecb_files.db.migrate import (
    alembic_config,
    current_revision,
    head_revision,
    upgrade,
)
from ecb_files.db.session import make_engine
from ecb_files.errors import DatabaseUnavailable
from ecb_files.storage import LocalBlobStore


def test_migrated_schema_equals_the_models(engine: Engine) -> None:
    """The migration creates exactly what the models describe (no autogenerate diff)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_constraint_names_follow_the_naming_convention(engine: Engine) -> None:
    inspector = inspect(engine)
    assert {u["name"] for u in inspector.get_unique_constraints("employees")} == {
        "uq_employees_partner_id_email_key"
    }
    assert {fk["name"] for fk in inspector.get_foreign_keys("files")} >= {
        "fk_files_case_id_cases",
        "fk_files_dn_id_damage_notifications",
    }
    assert {ix["name"] for ix in inspector.get_indexes("files")} >= {
        "ix_files_case_id_created_at_id",
        "ix_files_dn_id_created_at_id",
    }


def test_upgrade_of_a_current_database_is_a_no_op(engine: Engine) -> None:
    upgrade(engine)
    upgrade(engine)
    assert current_revision(engine) == head_revision()


def test_upgrade_accepts_a_url(database_url: str) -> None:
    upgrade(database_url)
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_downgrade_to_base_removes_every_table(engine: Engine) -> None:
    with engine.connect() as connection:
        command.downgrade(alembic_config(connection), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}


def test_processes_starting_together_migrate_once(database_url: str) -> None:
    """Several processes upgrading one fresh database at once all succeed (§6 scale-out)."""
    script = textwrap.dedent(
        f"""
        from ecb_files.db.migrate import upgrade
        upgrade({database_url!r})
        """
    )
    processes = [
        subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    errors = [p.communicate(timeout=120)[1] for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0, 0], errors
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) == head_revision()
        assert "files" in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_unreachable_database_is_reported_without_its_password() -> None:
    with pytest.raises(DatabaseUnavailable) as caught:
        upgrade("postgresql://ecb:hunter2@127.0.0.1:1/ecb?connect_timeout=2")
    message = caught.value.detail
    assert "127.0.0.1:1" in message
    assert "127.0.0.1" not in caught.value.description
    assert "hunter2" not in message


def test_0002_leaves_merged_files_on_their_case_only(database: Database, tmp_path: Path) -> None:
    """§1: files merged before 0002 kept their DN; after it they belong to the case alone,
    and the downgrade puts the DN back from the file's submission."""
    store = LocalBlobStore(tmp_path / "blobs")
    world = seed_world(database)
    merged = add_file(database, store, world, dn_id=OPEN_DN)
    on_dn = add_file(database, store, world, dn_id=OPEN_DN)
    on_case = add_file(database, store, world, case_id=CLOSED_CASE)
    with database.engine.connect() as connection:
        command.downgrade(alembic_config(connection), "0001")
    with database.write() as unit:
        # What a merge made before 0002: the case beside the DN.
        unit.execute(
            update(models.StoredFile)
            .where(models.StoredFile.id == merged.id)
            .values(case_id=OPEN_CASE)
        )

    def parents() -> dict[uuid.UUID, tuple[uuid.UUID | None, uuid.UUID | None]]:
        with database.read() as unit:
            rows = unit.scalars(select(models.StoredFile))
            return {row.id: (row.case_id, row.dn_id) for row in rows}

    database.upgrade()
    assert parents() == {
        merged.id: (OPEN_CASE, None),
        on_dn.id: (None, OPEN_DN),
        on_case.id: (CLOSED_CASE, None),
    }
    with database.engine.connect() as connection:
        command.downgrade(alembic_config(connection), "0001")
    assert parents()[merged.id] == (OPEN_CASE, OPEN_DN)


def test_0005_gives_older_cases_and_dns_a_creation_time(database: Database) -> None:
    """§11.2 lists are newest first: rows from before 0005 get the upgrade's time."""
    seed_world(database)
    with database.engine.connect() as connection:
        command.downgrade(alembic_config(connection), "0004")
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE damage_notifications SET created_at = NULL"))
    database.upgrade()
    with database.read() as unit:
        assert None not in {row.created_at for row in unit.scalars(select(models.Case))}
        dns = unit.scalars(select(models.DamageNotification))
        assert None not in {row.created_at for row in dns}


def test_0005_downgrade_removes_insurer_clients_and_users(database: Database) -> None:
    world = seed_world(database)
    with database.write() as unit:
        unit.add(
            models.OAuthClient(
                client_id="insurer", company_id=world.company_id, scopes="", secret_hash=None
            )
        )
        unit.add(
            models.InsurerUser(
                company_id=world.company_id, email="h@x.example", role="handler", active=True
            )
        )
    with database.engine.connect() as connection:
        command.downgrade(alembic_config(connection), "0004")
    inspector = inspect(database.engine)
    assert "insurer_users" not in inspector.get_table_names()
    with database.engine.connect() as connection:
        ids = connection.execute(text("SELECT client_id FROM oauth_clients")).scalars().all()
    assert list(ids) == ["aage-backend"]


def test_a_client_has_exactly_one_owner(database: Database) -> None:
    """ck_oauth_clients_one_owner: a partner or an insurance company, never both or none."""
    world = seed_world(database)
    for owners in ({}, {"partner_id": world.partner_id, "company_id": world.company_id}):
        with pytest.raises(IntegrityError), database.write() as unit:
            unit.add(models.OAuthClient(client_id="x", scopes="", secret_hash=None, **owners))
