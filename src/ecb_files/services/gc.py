"""``ecb-files gc``: remove what a crash or time left behind (§3.4, §5).

- Published blobs that no file row refers to. A submission publishes its blobs before
  it commits its rows, so an in-flight request's blobs are unreferenced for a moment:
  only blobs older than ``min_age_seconds`` are candidates, and each batch of candidates
  is checked against the rows just before it is deleted. Safe while uploads run as long
  as ``min_age_seconds`` is longer than any request takes.
- Staged blobs never published (temp files, incomplete S3 multipart uploads) older than
  ``min_age_seconds``.
- Idempotency records and used client-assertion ``jti``s past their expiry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ecb_files.db import Database, maintenance
from ecb_files.storage import BlobStore

DEFAULT_MIN_AGE_SECONDS = 3600.0
BATCH_SIZE = 500


@dataclass(frozen=True)
class GcReport:
    blobs_removed: int
    staging_removed: int
    idempotency_removed: int
    assertions_removed: int

    def summary(self) -> str:
        return (
            f"removed {self.blobs_removed} orphaned blob(s), "
            f"{self.staging_removed} stale staged upload(s), "
            f"{self.idempotency_removed} expired idempotency record(s), "
            f"{self.assertions_removed} expired assertion id(s)"
        )


def collect_garbage(
    database: Database,
    store: BlobStore,
    *,
    min_age_seconds: float,
    now: datetime,
) -> GcReport:
    """Remove orphaned blobs, stale staging and expired records; ``now`` is aware UTC."""
    if min_age_seconds < 0:
        raise ValueError("min_age_seconds must not be negative")
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    cutoff = now - timedelta(seconds=min_age_seconds)
    blobs_removed = 0
    batch: list[str] = []
    for info in store.iter_blobs():
        if info.modified >= cutoff:
            continue
        batch.append(info.blob_id)
        if len(batch) >= BATCH_SIZE:
            blobs_removed += _remove_unreferenced(database, store, batch)
            batch = []
    if batch:
        blobs_removed += _remove_unreferenced(database, store, batch)
    staging_removed = store.remove_stale_staging(min_age_seconds)
    with database.write() as unit:
        idempotency_removed = maintenance.delete_expired_idempotency_records(unit, now)
        assertions_removed = maintenance.delete_expired_assertions(unit, now)
    return GcReport(blobs_removed, staging_removed, idempotency_removed, assertions_removed)


def _remove_unreferenced(database: Database, store: BlobStore, candidates: list[str]) -> int:
    # A write unit: on SQLite it waits for a commit under way, whose rows it then sees.
    with database.write() as unit:
        referenced = maintenance.referenced_blob_ids(unit, candidates)
    orphans = [blob_id for blob_id in candidates if blob_id not in referenced]
    for blob_id in orphans:
        store.delete(blob_id)
    return len(orphans)
