"""``collect_garbage`` (§3.4 durable before 200, §5 ``gc``)."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from tests.db_support import OPEN_CASE, World, add_file

from ecb_files.db import Database, models
from ecb_files.services import gc
from ecb_files.services.gc import collect_garbage
from ecb_files.storage import LocalBlobStore

HOUR = 3600.0


def _orphan(store: LocalBlobStore, *, age_seconds: float) -> str:
    """A published blob without a row, as a crash between publish and commit leaves it."""
    staged = store.stage()
    staged.write(b"orphan")
    staged.seal()
    staged.publish()
    old = time.time() - age_seconds
    os.utime(store.blob_path(staged.blob_id), (old, old))
    return staged.blob_id


def _blob_ids(store: LocalBlobStore) -> set[str]:
    return {info.blob_id for info in store.iter_blobs()}


def test_old_orphans_are_removed_and_referenced_blobs_kept(
    database: Database, world: World, store: LocalBlobStore
) -> None:
    kept = add_file(database, store, world, case_id=OPEN_CASE).blob_id
    os.utime(store.blob_path(kept), (time.time() - 2 * HOUR,) * 2)
    old = _orphan(store, age_seconds=2 * HOUR)
    report = collect_garbage(database, store, min_age_seconds=HOUR, now=datetime.now(UTC))
    assert report.blobs_removed == 1
    assert old not in _blob_ids(store)
    assert kept in _blob_ids(store)


def test_young_orphans_are_kept_for_in_flight_uploads(
    database: Database, world: World, store: LocalBlobStore
) -> None:
    young = _orphan(store, age_seconds=60)
    report = collect_garbage(database, store, min_age_seconds=HOUR, now=datetime.now(UTC))
    assert report.blobs_removed == 0
    assert young in _blob_ids(store)


def test_orphans_are_checked_in_batches(
    database: Database,
    world: World,
    store: LocalBlobStore,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(gc, "BATCH_SIZE", 2)
    referenced = {add_file(database, store, world, case_id=OPEN_CASE).blob_id for _ in range(3)}
    orphans = {_orphan(store, age_seconds=0) for _ in range(4)}
    later = datetime.now(UTC) + timedelta(hours=2)
    report = collect_garbage(database, store, min_age_seconds=HOUR, now=later)
    assert report.blobs_removed == len(orphans)
    assert _blob_ids(store) == referenced


def test_stale_staging_is_removed(database: Database, store: LocalBlobStore) -> None:
    staged = store.stage()
    staged.write(b"never published")
    staged.seal()
    part = store.part_path(staged.blob_id)
    os.utime(part, (time.time() - 2 * HOUR,) * 2)
    report = collect_garbage(database, store, min_age_seconds=HOUR, now=datetime.now(UTC))
    assert report.staging_removed == 1
    assert not part.exists()


def test_expired_records_are_removed(database: Database, store: LocalBlobStore) -> None:
    now = datetime.now(UTC)
    with database.write() as session:
        session.add(models.UsedAssertion(issuer="c", jti="old", expires_at=now - timedelta(1)))
        session.add(models.UsedAssertion(issuer="c", jti="live", expires_at=now + timedelta(1)))
        session.add(
            models.IdempotencyRecord(
                client_id="c",
                endpoint="submitForCase",
                key="k",
                request_sha256=None,
                state="done",
                status_code=200,
                response_body="{}",
                owner="o",
                lease_until=now - timedelta(2),
                created_at=now - timedelta(2),
                expires_at=now - timedelta(1),
            )
        )
    report = collect_garbage(database, store, min_age_seconds=HOUR, now=now)
    assert (report.idempotency_removed, report.assertions_removed) == (1, 1)
    with database.write() as session:
        assert session.scalars(select(models.UsedAssertion.jti)).all() == ["live"]


def test_summary_names_every_count() -> None:
    report = gc.GcReport(1, 2, 3, 4)
    assert report.summary() == (
        "removed 1 orphaned blob(s), 2 stale staged upload(s), "
        "3 expired idempotency record(s), 4 expired assertion id(s)"
    )
