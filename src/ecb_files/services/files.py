"""The operator's view of stored files: ``files list`` records and ``files get`` (§5, §9)."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import os
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, BinaryIO

from ecb_files.db import Database, cases, files
from ecb_files.db.models import StoredFile
from ecb_files.services import audit
from ecb_files.services.audit import AuditTrail
from ecb_files.services.cases import Operator
from ecb_files.services.errors import BlobIntegrityError, NotFoundError
from ecb_files.storage import BlobStore

COPY_CHUNK_BYTES = 1024 * 1024


def list_file_records(
    database: Database,
    case_id: uuid.UUID | None = None,
    dn_id: uuid.UUID | None = None,
) -> list[dict[str, Any]]:
    """The file records of a case or a DN (exactly one), oldest first.

    Each record: ``id``, ``fileName``, ``contentType``, ``size``, ``sha256``,
    ``description``, ``isRestricted``, ``isDamageImage``, ``uploadedBy`` (the employee's
    e-mail) and ``createdAt`` (ISO 8601 UTC, ``Z``). Files merged from a DN into a case
    are listed under the case only (§1: the merge moved them). Raises ``NotFoundError``
    when the case or DN does not exist.
    """
    if (case_id is None) == (dn_id is None):
        raise ValueError("give exactly one of case_id and dn_id")
    with database.read() as unit:
        if case_id is not None:
            if not cases.case_exists(unit, case_id):
                raise NotFoundError(f"no case with id {case_id}")
            rows = files.list_files(unit, case_id=case_id)
        else:
            assert dn_id is not None
            if not cases.damage_notification_exists(unit, dn_id):
                raise NotFoundError(f"no damage notification with id {dn_id}")
            rows = files.list_files(unit, dn_id=dn_id)
        return [file_record(row) for row in rows]


def file_record(row: StoredFile) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "fileName": row.file_name,
        "contentType": row.content_type,
        "size": row.size,
        "sha256": row.sha256,
        "description": row.description,
        "isRestricted": row.is_restricted,
        "isDamageImage": row.is_damage_image,
        "uploadedBy": row.employee.email,
        "createdAt": iso_utc(row.created_at),
    }


def iso_utc(moment: datetime) -> str:
    """``2025-01-31T12:00:00.123456Z``: ISO 8601 in UTC, microseconds, ``Z`` for the zone."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def export_file(
    database: Database,
    store: BlobStore,
    file_id: uuid.UUID,
    dest: Path,
    operator: Operator | None = None,
) -> StoredFile:
    """Write the stored bytes of file ``file_id`` to ``dest``; returns the file's row.

    With ``operator``, the read is recorded in the audit trail (``file.export``, §12.3)
    before any byte is read.

    The bytes go to a temporary file beside ``dest``, are checked against the recorded
    size and SHA-256, made durable, and only then renamed to ``dest``: ``dest`` is either
    the complete, verified file or untouched. Raises ``NotFoundError`` for an unknown
    file or a missing blob, ``BlobIntegrityError`` when the blob differs from its row.
    """
    with database.read() as unit:
        row = files.get_file(unit, file_id)
        if row is None:
            raise NotFoundError(f"no file with id {file_id}")
        kept = files.small_file_content(unit, row.blob_id)
    if operator is not None:
        event = audit.event(
            audit.FILE_EXPORT,
            *operator,
            file_id=row.id,
            case_id=row.case_id,
            dn_id=row.dn_id,
        )
        AuditTrail(database).record(event)
    try:
        source = io.BytesIO(kept) if kept is not None else store.open(row.blob_id)
    except FileNotFoundError:
        raise NotFoundError(
            f"file {file_id}: its stored blob {row.blob_id} is missing from the storage"
        ) from None
    with source:
        handle, temp_name = tempfile.mkstemp(
            prefix=f".{dest.name}.", suffix=".part", dir=dest.parent
        )
        temp_path = Path(temp_name)
        try:
            with os.fdopen(handle, "wb") as target:
                size, digest = _copy(source, target)
                target.flush()
                os.fsync(target.fileno())
            _verify(row, size, digest)
            os.replace(temp_path, dest)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                temp_path.unlink()
            raise
    return row


def _copy(source: BinaryIO, target: IO[bytes]) -> tuple[int, str]:
    sha256 = hashlib.sha256()
    size = 0
    while chunk := source.read(COPY_CHUNK_BYTES):
        sha256.update(chunk)
        size += len(chunk)
        target.write(chunk)
    return size, sha256.hexdigest()


def _verify(row: StoredFile, size: int, digest: str) -> None:
    if size != row.size:
        raise BlobIntegrityError(
            f"file {row.id}: stored blob {row.blob_id} has {size} bytes, expected {row.size}"
        )
    if not hmac.compare_digest(digest, row.sha256.lower()):
        raise BlobIntegrityError(
            f"file {row.id}: stored blob {row.blob_id} has SHA-256 {digest}, expected {row.sha256}"
        )
