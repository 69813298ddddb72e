"""The bytes of small files kept with their rows (``storage/small_blobs.py``)."""

from __future__ import annotations

from sqlalchemy import select

from ecb_files.db.database import Transaction
from ecb_files.db.models import SmallFileContent


def content_of(unit: Transaction, blob_id: str) -> bytes | None:
    """The bytes kept for ``blob_id``; ``None`` when its blob is in the blob store."""
    content: bytes | None = unit.scalar(
        select(SmallFileContent.content).where(SmallFileContent.blob_id == blob_id)
    )
    return content
