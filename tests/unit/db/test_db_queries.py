"""Each lookup's rule (CONTRACT §3.2 step 3): another tenant's or partner's object is
indistinguishable from a missing one."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from tests.db_support import (
    CLIENT_ID,
    CLOSED_CASE,
    COMPANY_ALIAS,
    EMAIL,
    INACTIVE_EMAIL,
    OPEN_CASE,
    OPEN_DN,
    OTHER_ALIAS,
    OTHER_PARTNER,
    OTHER_PARTNER_DN,
    OTHER_TENANT_CASE,
    OTHER_TENANT_DN,
    PARTNER,
    UNASSIGNED_CASE,
    World,
    add_file,
    seed_world,
)

from ecb_files.db import models, queries
from ecb_files.db.session import transaction
from ecb_files.storage import LocalBlobStore


@pytest.fixture
def world(factory: sessionmaker[Session]) -> World:
    return seed_world(factory)


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


def test_get_client_by_client_id(factory: sessionmaker[Session], world: World) -> None:
    with transaction(factory) as session:
        client = queries.get_client(session, CLIENT_ID)
        assert client is not None
        assert client.partner.id == PARTNER
        assert queries.get_client(session, "no-such-client") is None


@pytest.mark.parametrize("spelling", [EMAIL, EMAIL.lower(), EMAIL.upper()])
def test_employee_email_matches_case_insensitively(
    factory: sessionmaker[Session], world: World, spelling: str
) -> None:
    with transaction(factory) as session:
        employee = queries.find_active_employee(session, PARTNER, spelling)
        assert employee is not None
        assert employee.email == EMAIL


def test_inactive_employee_is_not_found(factory: sessionmaker[Session], world: World) -> None:
    with transaction(factory) as session:
        assert queries.find_active_employee(session, PARTNER, INACTIVE_EMAIL) is None


def test_another_partners_employee_is_not_found(
    factory: sessionmaker[Session], world: World
) -> None:
    with transaction(factory) as session:
        assert queries.find_active_employee(session, OTHER_PARTNER, EMAIL) is None


def test_email_key_follows_the_email(factory: sessionmaker[Session], world: World) -> None:
    with transaction(factory) as session:
        employee = session.get(models.Employee, world.employee_id)
        assert employee is not None
        employee.email = "New.Address@Example.com"
        session.flush()
        assert employee.email_key == "new.address@example.com"


def test_case_found_for_an_assigned_partner_of_its_tenant(
    factory: sessionmaker[Session], world: World
) -> None:
    with transaction(factory) as session:
        case = queries.find_case_for_partner(session, OPEN_CASE, COMPANY_ALIAS, PARTNER)
        assert case is not None
        assert case.id == OPEN_CASE
        closed = queries.find_case_for_partner(session, CLOSED_CASE, COMPANY_ALIAS, PARTNER)
        assert closed is not None
        assert closed.status == "closed"


@pytest.mark.parametrize(
    ("case_id", "alias", "partner", "why"),
    [
        (OPEN_CASE, OTHER_ALIAS, PARTNER, "named under another tenant's alias"),
        (OTHER_TENANT_CASE, COMPANY_ALIAS, PARTNER, "another tenant's case, our alias"),
        (OTHER_TENANT_CASE, OTHER_ALIAS, PARTNER, "assigned, but tenant not served"),
        (UNASSIGNED_CASE, COMPANY_ALIAS, PARTNER, "served tenant, partner not assigned"),
        (uuid.uuid4(), COMPANY_ALIAS, PARTNER, "no such case"),
        (OPEN_CASE, "COMPANY", PARTNER, "alias is matched exactly"),
    ],
)
def test_case_not_found_for_any_other_reason(
    factory: sessionmaker[Session],
    world: World,
    case_id: uuid.UUID,
    alias: str,
    partner: uuid.UUID,
    why: str,
) -> None:
    with transaction(factory) as session:
        assert queries.find_case_for_partner(session, case_id, alias, partner) is None, why


def test_case_found_for_a_partner_serving_several_tenants(
    factory: sessionmaker[Session], world: World
) -> None:
    with transaction(factory) as session:
        case = queries.find_case_for_partner(session, OTHER_TENANT_CASE, OTHER_ALIAS, OTHER_PARTNER)
        assert case is not None


def test_dn_found_for_its_creator_in_its_tenant(
    factory: sessionmaker[Session], world: World
) -> None:
    with transaction(factory) as session:
        dn = queries.find_dn_for_partner(session, OPEN_DN, COMPANY_ALIAS, PARTNER)
        assert dn is not None
        assert dn.merged_to_case_id is None


@pytest.mark.parametrize(
    ("dn_id", "alias", "partner", "why"),
    [
        (OTHER_PARTNER_DN, COMPANY_ALIAS, PARTNER, "created by another partner"),
        (OPEN_DN, OTHER_ALIAS, PARTNER, "named under another tenant's alias"),
        (OTHER_TENANT_DN, COMPANY_ALIAS, OTHER_PARTNER, "another tenant's DN"),
        (uuid.uuid4(), COMPANY_ALIAS, PARTNER, "no such DN"),
    ],
)
def test_dn_not_found_for_any_other_reason(
    factory: sessionmaker[Session],
    world: World,
    dn_id: uuid.UUID,
    alias: str,
    partner: uuid.UUID,
    why: str,
) -> None:
    with transaction(factory) as session:
        assert queries.find_dn_for_partner(session, dn_id, alias, partner) is None, why


def test_list_files_orders_by_creation_then_id(
    factory: sessionmaker[Session], world: World, store: LocalBlobStore
) -> None:
    base = datetime(2025, 1, 1, tzinfo=UTC)
    late = add_file(factory, store, world, case_id=OPEN_CASE, created_at=base + timedelta(1))
    same = [add_file(factory, store, world, case_id=OPEN_CASE, created_at=base) for _ in range(3)]
    add_file(factory, store, world, dn_id=OPEN_DN, created_at=base)
    with transaction(factory) as session:
        listed = [f.id for f in queries.list_files(session, case_id=OPEN_CASE)]
        assert listed == [*sorted(f.id for f in same), late.id]
        assert len(queries.list_files(session, dn_id=OPEN_DN)) == 1
        assert queries.list_files(session, case_id=CLOSED_CASE) == []


def test_list_files_needs_exactly_one_parent(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session, pytest.raises(ValueError, match="exactly one"):
        queries.list_files(session)
    with transaction(factory) as session, pytest.raises(ValueError, match="exactly one"):
        queries.list_files(session, case_id=OPEN_CASE, dn_id=OPEN_DN)


def test_get_file_loads_the_uploading_employee(
    factory: sessionmaker[Session], world: World, store: LocalBlobStore
) -> None:
    stored = add_file(factory, store, world, case_id=OPEN_CASE)
    with transaction(factory) as session:
        row = queries.get_file(session, stored.id)
        assert queries.get_file(session, uuid.uuid4()) is None
    assert row is not None
    assert row.employee.email == EMAIL  # loaded while the session was open


def test_referenced_blob_ids_checks_in_batches(
    factory: sessionmaker[Session],
    world: World,
    store: LocalBlobStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(queries, "BLOB_ID_BATCH", 3)
    stored = {add_file(factory, store, world, case_id=OPEN_CASE).blob_id for _ in range(4)}
    unknown = {uuid.uuid4().hex for _ in range(5)}
    with transaction(factory) as session:
        assert queries.referenced_blob_ids(session, [*unknown, *stored]) == stored
        assert queries.referenced_blob_ids(session, []) == set()


def test_expired_idempotency_records_are_deleted(factory: sessionmaker[Session]) -> None:
    now = datetime(2025, 6, 1, tzinfo=UTC)
    with transaction(factory) as session:
        for key, expires in (("old", now - timedelta(seconds=1)), ("new", now + timedelta(1))):
            session.add(
                models.IdempotencyRecord(
                    client_id="c",
                    endpoint="submitForCase",
                    key=key,
                    request_sha256=None,
                    state="done",
                    status_code=200,
                    response_body="{}",
                    owner="o",
                    lease_until=now,
                    created_at=now - timedelta(1),
                    expires_at=expires,
                )
            )
    with transaction(factory) as session:
        assert queries.delete_expired_idempotency_records(session, now) == 1
    with transaction(factory) as session:
        assert session.scalars(select(models.IdempotencyRecord.key)).all() == ["new"]


def test_expired_assertions_are_deleted(factory: sessionmaker[Session]) -> None:
    now = datetime(2025, 6, 1, tzinfo=UTC)
    with transaction(factory) as session:
        session.add(models.UsedAssertion(issuer="c", jti="old", expires_at=now - timedelta(1)))
        session.add(models.UsedAssertion(issuer="c", jti="new", expires_at=now + timedelta(1)))
    with transaction(factory) as session:
        assert queries.delete_expired_assertions(session, now) == 1
    with transaction(factory) as session:
        assert session.scalars(select(models.UsedAssertion.jti)).all() == ["new"]
