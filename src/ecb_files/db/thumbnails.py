"""The thumbnails kept for files (§11.2): which blob holds the one of a given size.

Two first requests for one thumbnail may both make it; the primary key lets one row
in, and ``keep`` tells the other which blob won, so it can drop its own.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ecb_files.db.database import Database, Transaction
from ecb_files.db.models import Thumbnail


def find(unit: Transaction, file_id: uuid.UUID, longest_side: int) -> str | None:
    """The blob id of the file's thumbnail of that size, if one was kept."""
    blob_id: str | None = unit.scalar(
        select(Thumbnail.blob_id).where(
            Thumbnail.file_id == file_id, Thumbnail.longest_side == longest_side
        )
    )
    return blob_id


def keep(
    database: Database,
    file_id: uuid.UUID,
    longest_side: int,
    *,
    blob_id: str,
    size: int,
    now: datetime,
) -> str | None:
    """Record ``blob_id`` as the file's thumbnail of that size, in a unit of its own.

    Returns the blob id kept: ``blob_id``, or the one a concurrent request recorded
    first; ``None`` if the file's row is gone meanwhile (nothing kept).
    """
    try:
        with database.write() as unit:
            unit.add(
                Thumbnail(
                    file_id=file_id,
                    longest_side=longest_side,
                    blob_id=blob_id,
                    size=size,
                    created_at=now,
                )
            )
            unit.flush()
    except IntegrityError:
        with database.read() as unit:
            return find(unit, file_id, longest_side)
    return blob_id
