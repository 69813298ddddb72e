"""What ``ecb-files gc`` asks the database (§3.4, §5): which blobs rows still
refer to, and the removal of records past their expiry."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, delete, select

from ecb_files.db.database import Transaction
from ecb_files.db.models import IdempotencyRecord, StoredFile, Thumbnail, UsedAssertion

# Well under every backend's bound-parameter limit (SQLite's was 999 before 3.32).
BLOB_ID_BATCH = 500


def referenced_blob_ids(unit: Transaction, blob_ids: Collection[str]) -> set[str]:
    """Those of ``blob_ids`` that some file row, or a file's thumbnail row, refers to."""
    wanted = list(blob_ids)
    found: set[str] = set()
    for start in range(0, len(wanted), BLOB_ID_BATCH):
        batch = wanted[start : start + BLOB_ID_BATCH]
        found.update(unit.scalars(select(StoredFile.blob_id).where(StoredFile.blob_id.in_(batch))))
        found.update(unit.scalars(select(Thumbnail.blob_id).where(Thumbnail.blob_id.in_(batch))))
    return found


def delete_expired_idempotency_records(unit: Transaction, now: datetime) -> int:
    """Forget idempotency records past their retention; returns how many."""
    result = unit.execute(delete(IdempotencyRecord).where(IdempotencyRecord.expires_at < now))
    return _rowcount(result)


def delete_expired_assertions(unit: Transaction, now: datetime) -> int:
    """Forget used assertion ``jti``s that could no longer be accepted; returns how many."""
    result = unit.execute(delete(UsedAssertion).where(UsedAssertion.expires_at < now))
    return _rowcount(result)


def _rowcount(result: Any) -> int:
    assert isinstance(result, CursorResult)
    return int(result.rowcount)
