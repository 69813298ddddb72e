"""What ``gc`` asks the database (§3.4, §5 ``gc``)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from tests.db_support import OPEN_CASE, World, add_file

from ecb_files.db import Database, maintenance, models
from ecb_files.storage import LocalBlobStore


def test_referenced_blob_ids_checks_in_batches(
    database: Database,
    world: World,
    store: LocalBlobStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """§5 ``gc``: a blob a file row refers to is never an orphan, however many are asked."""
    monkeypatch.setattr(maintenance, "BLOB_ID_BATCH", 3)
    stored = {add_file(database, store, world, case_id=OPEN_CASE).blob_id for _ in range(4)}
    unknown = {uuid.uuid4().hex for _ in range(5)}
    with database.read() as unit:
        assert maintenance.referenced_blob_ids(unit, [*unknown, *stored]) == stored
        assert maintenance.referenced_blob_ids(unit, []) == set()


def test_expired_idempotency_records_are_deleted(database: Database) -> None:
    """§3.4, §5 ``gc``: idempotency records past their retention are forgotten."""
    now = datetime(2025, 6, 1, tzinfo=UTC)
    with database.write() as unit:
        for key, expires in (("old", now - timedelta(seconds=1)), ("new", now + timedelta(1))):
            unit.add(
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
    with database.write() as unit:
        assert maintenance.delete_expired_idempotency_records(unit, now) == 1
    with database.read() as unit:
        assert unit.scalars(select(models.IdempotencyRecord.key)).all() == ["new"]


def test_expired_assertions_are_deleted(database: Database) -> None:
    """§2, §5 ``gc``: a used ``jti`` is kept only while its assertion could be accepted."""
    now = datetime(2025, 6, 1, tzinfo=UTC)
    with database.write() as unit:
        unit.add(models.UsedAssertion(issuer="c", jti="old", expires_at=now - timedelta(1)))
        unit.add(models.UsedAssertion(issuer="c", jti="new", expires_at=now + timedelta(1)))
    with database.write() as unit:
        assert maintenance.delete_expired_assertions(unit, now) == 1
    with database.read() as unit:
        assert unit.scalars(select(models.UsedAssertion.jti)).all() == ["new"]
