"""The operator's lookups of stored files (§5 ``files list`` / ``files get``).

A file has one parent: the case or the DN it was submitted to, and once its DN is
merged, the case (``cases.move_to_case``). Both lookups load the uploading employee, so
the rows can be read after the unit of work ends.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ecb_files.db.database import Transaction
from ecb_files.db.models import SmallFileContent, StoredFile


def list_files(
    unit: Transaction, *, case_id: uuid.UUID | None = None, dn_id: uuid.UUID | None = None
) -> list[StoredFile]:
    """The files of a case or of a damage notification (give exactly one), oldest first."""
    if (case_id is None) == (dn_id is None):
        raise ValueError("list_files needs exactly one of case_id and dn_id")
    parent = StoredFile.case_id == case_id if case_id is not None else StoredFile.dn_id == dn_id
    statement = (
        select(StoredFile)
        .where(parent)
        .options(selectinload(StoredFile.employee))
        .order_by(StoredFile.created_at, StoredFile.id)
    )
    return list(unit.scalars(statement))


def get_file(unit: Transaction, file_id: uuid.UUID) -> StoredFile | None:
    return unit.get(StoredFile, file_id, options=[selectinload(StoredFile.employee)])


def small_file_content(unit: Transaction, blob_id: str) -> bytes | None:
    """The bytes kept with the row of a small file (``storage/small_blobs.py``); ``None``
    when its blob is in the blob store."""
    content: bytes | None = unit.scalar(
        select(SmallFileContent.content).where(SmallFileContent.blob_id == blob_id)
    )
    return content
