"""Databases and a small world of rows for the db, services and CLI tests.

Imported by the conftest files that need it (``tests/unit/db``, ``tests/unit/services``,
``tests/functional/cli``). Every database test runs on SQLite; it also runs on
PostgreSQL when ``ECB_FILES_TEST_POSTGRES_URL`` names a server whose user may create
databases (each test gets a fresh database, dropped afterwards).
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from ecb_files.db import Database, models
from ecb_files.db import submissions as intake
from ecb_files.db.session import normalize_url
from ecb_files.storage import BlobStore, LocalBlobStore

POSTGRES_ENV = "ECB_FILES_TEST_POSTGRES_URL"

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param(
        "postgresql",
        id="postgresql",
        marks=pytest.mark.skipif(
            not os.environ.get(POSTGRES_ENV), reason=f"set {POSTGRES_ENV} to run on PostgreSQL"
        ),
    ),
]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database: a SQLite file in ``tmp_path``, or a fresh PostgreSQL db."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'test.sqlite3'}"
        return
    with fresh_postgres_database(os.environ[POSTGRES_ENV]) as url:
        yield url


@contextmanager
def fresh_postgres_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the server of ``server_url``; dropped on exit."""
    # No pool: the database may live for a whole test session, and an idle pooled
    # connection to the admin database per deployment runs the server out of slots.
    admin = create_engine(
        normalize_url(server_url), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    name = f"ecb_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    """The ``Database`` the use cases hold, migrated to the newest schema."""
    database = Database.open(database_url)
    yield database
    database.close()


@pytest.fixture
def engine(database: Database) -> Engine:
    """The engine of ``database``, for the tests of the engine set-up and the migrations."""
    return database.engine


@pytest.fixture
def factory(database: Database) -> sessionmaker[Session]:
    """The session factory of ``database``, for the modules that still take one."""
    return database.sessions


@pytest.fixture
def world(database: Database) -> World:
    """``database`` seeded with ``seed_world``."""
    return seed_world(database)


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    """A local blob store in ``tmp_path``."""
    return LocalBlobStore(tmp_path / "blobs")


# Fixed ids, so a failing test names objects one can recognise.
COMPANY_ALIAS = "company"
OTHER_ALIAS = "other"
PARTNER = uuid.UUID("00000000-0000-4000-8000-0000000000a1")
PARTNER_TOKEN = uuid.UUID("00000000-0000-4000-8000-0000000000a2")
OTHER_PARTNER = uuid.UUID("00000000-0000-4000-8000-0000000000b1")
OTHER_PARTNER_TOKEN = uuid.UUID("00000000-0000-4000-8000-0000000000b2")
OPEN_CASE = uuid.UUID("00000000-0000-4000-8000-0000000000c1")
CLOSED_CASE = uuid.UUID("00000000-0000-4000-8000-0000000000c2")
UNASSIGNED_CASE = uuid.UUID("00000000-0000-4000-8000-0000000000c3")
OTHER_TENANT_CASE = uuid.UUID("00000000-0000-4000-8000-0000000000c4")
OPEN_DN = uuid.UUID("00000000-0000-4000-8000-0000000000d1")
OTHER_PARTNER_DN = uuid.UUID("00000000-0000-4000-8000-0000000000d3")
OTHER_TENANT_DN = uuid.UUID("00000000-0000-4000-8000-0000000000d4")
EMAIL = "Company_DS@example.com"
INACTIVE_EMAIL = "gone@example.com"
CLIENT_ID = "aage-backend"


@dataclass(frozen=True)
class World:
    """Primary keys of the seeded rows that are not fixed GUIDs."""

    company_id: int
    other_company_id: int
    employee_id: int
    client_pk: int
    partner_id: uuid.UUID = PARTNER


def seed_world(database: Database) -> World:
    """Two tenants; PARTNER serves ``company`` only, OTHER_PARTNER serves both.

    OPEN_CASE and CLOSED_CASE are assigned to PARTNER, UNASSIGNED_CASE only to
    OTHER_PARTNER, OTHER_TENANT_CASE (tenant ``other``) to both. OPEN_DN is PARTNER's in
    ``company``; OTHER_PARTNER_DN is OTHER_PARTNER's in ``company``; OTHER_TENANT_DN is
    OTHER_PARTNER's in ``other``.
    """
    with database.write() as session:
        company = models.InsuranceCompany(alias=COMPANY_ALIAS, name="Company Insurance")
        other = models.InsuranceCompany(alias=OTHER_ALIAS, name="Other Insurance")
        partner = models.ServicePartner(
            id=PARTNER, name="Aage & Søn", security_token=PARTNER_TOKEN, companies=[company]
        )
        other_partner = models.ServicePartner(
            id=OTHER_PARTNER,
            name="Other Partner",
            security_token=OTHER_PARTNER_TOKEN,
            companies=[company, other],
        )
        session.add_all([company, other, partner, other_partner])
        session.flush()
        employee = models.Employee(partner_id=PARTNER, email=EMAIL, active=True)
        inactive = models.Employee(partner_id=PARTNER, email=INACTIVE_EMAIL, active=False)
        other_employee = models.Employee(
            partner_id=OTHER_PARTNER, email="other@example.com", active=True
        )
        client = models.OAuthClient(
            client_id=CLIENT_ID,
            partner_id=PARTNER,
            scopes="platform-service-provider:write",
            secret_hash=None,
        )
        session.add_all([employee, inactive, other_employee, client])

        def case(
            case_id: uuid.UUID, company_id: int, status: str, partners: list[models.ServicePartner]
        ) -> None:
            session.add(
                models.Case(
                    id=case_id,
                    company_id=company_id,
                    number=f"CN-{case_id.hex[-2:]}",
                    status=status,
                    partners=partners,
                )
            )

        case(OPEN_CASE, company.id, "open", [partner])
        case(CLOSED_CASE, company.id, "closed", [partner])
        case(UNASSIGNED_CASE, company.id, "open", [other_partner])
        case(OTHER_TENANT_CASE, other.id, "open", [partner, other_partner])
        for dn_id, company_id, partner_id in (
            (OPEN_DN, company.id, PARTNER),
            (OTHER_PARTNER_DN, company.id, OTHER_PARTNER),
            (OTHER_TENANT_DN, other.id, OTHER_PARTNER),
        ):
            session.add(
                models.DamageNotification(
                    id=dn_id, company_id=company_id, partner_id=partner_id, merged_to_case_id=None
                )
            )
        session.flush()
        return World(company.id, other.id, employee.id, client.id)


def add_file(
    database: Database,
    store: BlobStore,
    world: World,
    *,
    case_id: uuid.UUID | None = None,
    dn_id: uuid.UUID | None = None,
    data: bytes = b"hello, world",
    file_name: str = "photo.jpg",
    restricted: bool = False,
    created_at: datetime | None = None,
) -> models.StoredFile:
    """A stored file as a submission would leave it: a published blob and its rows."""
    staged = store.stage()
    staged.write(data)
    staged.seal()
    staged.publish()
    moment = created_at or datetime.now(UTC)
    with database.write() as session:
        submission = models.Submission(
            id=uuid.uuid4(),
            endpoint="submitForCase" if case_id else "submitForDamageNotification",
            client_pk=world.client_pk,
            partner_id=world.partner_id,
            employee_id=world.employee_id,
            case_id=case_id,
            dn_id=dn_id,
            timestamp=None,
            idempotency_key=None,
            created_at=moment,
        )
        row = models.StoredFile(
            id=uuid.uuid4(),
            case_id=case_id,
            dn_id=dn_id,
            submission_id=submission.id,
            employee_id=world.employee_id,
            client_pk=world.client_pk,
            file_name=file_name,
            content_type="image/jpeg",
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            description="front door",
            is_restricted=restricted,
            is_damage_image=dn_id is not None,
            blob_id=staged.blob_id,
            created_at=moment,
        )
        session.add(submission)
        session.flush()
        session.add(row)
        return row


# --- rows of step 4 (§3.2), as the submit path builds them ---------------------------

NOW = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


def submission_for(world: World, **overrides: Any) -> dict[str, Any]:
    """A ``submissions`` row of PARTNER's employee for OPEN_CASE, ``overrides`` applied."""
    values: dict[str, Any] = {
        "endpoint": models.ENDPOINT_CASE,
        "client_pk": world.client_pk,
        "partner_id": PARTNER,
        "employee_id": world.employee_id,
        "case_id": OPEN_CASE,
        "dn_id": None,
        "timestamp": "2026-03-01T12:30:00",
        "idempotency_key": "key-1",
        "created_at": NOW,
    }
    values.update(overrides)
    return intake.submission_row(**values)


def file_for(submission: dict[str, Any], name: str, data: bytes) -> dict[str, Any]:
    """A ``files`` row of ``data`` named ``name`` under the row ``submission``."""
    return {
        "id": uuid.uuid4(),
        "case_id": submission["case_id"],
        "dn_id": submission["dn_id"],
        "submission_id": submission["id"],
        "employee_id": submission["employee_id"],
        "client_pk": submission["client_pk"],
        "file_name": name,
        "content_type": "image/jpeg",
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "description": f"{name} described",
        "is_restricted": name.startswith("secret"),
        "is_damage_image": False,
        "blob_id": uuid.uuid4().hex,
        "created_at": submission["created_at"],
    }
