"""``ecb-files gc``: remove what a crash or time left behind (CONTRACT §3.4, §5).

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

from sqlalchemy.orm import Session, sessionmaker

from ecb_files.db import queries
from ecb_files.db.session import transaction
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
    factory: sessionmaker[Session],
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
            blobs_removed += _remove_unreferenced(factory, store, batch)
            batch = []
    if batch:
        blobs_removed += _remove_unreferenced(factory, store, batch)
    staging_removed = store.remove_stale_staging(min_age_seconds)
    with transaction(factory) as session:
        idempotency_removed = queries.delete_expired_idempotency_records(session, now)
        assertions_removed = queries.delete_expired_assertions(session, now)
    return GcReport(blobs_removed, staging_removed, idempotency_removed, assertions_removed)


def _remove_unreferenced(
    factory: sessionmaker[Session], store: BlobStore, candidates: list[str]
) -> int:
    with transaction(factory) as session:
        referenced = queries.referenced_blob_ids(session, candidates)
    orphans = [blob_id for blob_id in candidates if blob_id not in referenced]
    for blob_id in orphans:
        store.delete(blob_id)
    return len(orphans)
