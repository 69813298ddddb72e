"""File records and export (§5 ``files list`` / ``files get``, §9)."""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from tests.db_support import (
    CLOSED_CASE,
    EMAIL,
    OPEN_CASE,
    OPEN_DN,
    World,
    add_file,
)

from ecb_files.db import Database
from ecb_files.services.cases import merge_damage_notification
from ecb_files.services.errors import BlobIntegrityError, NotFoundError
from ecb_files.services.files import export_file, iso_utc, list_file_records
from ecb_files.storage import LocalBlobStore


def test_record_has_exactly_the_contract_members(
    database: Database, world: World, store: LocalBlobStore
) -> None:
    at = datetime(2025, 2, 3, 4, 5, 6, 789000, tzinfo=UTC)
    stored = add_file(database, store, world, case_id=OPEN_CASE, data=b"abc", created_at=at)
    [record] = list_file_records(database, case_id=OPEN_CASE)
    assert record == {
        "id": str(stored.id),
        "fileName": "photo.jpg",
        "contentType": "image/jpeg",
        "size": 3,
        "sha256": hashlib.sha256(b"abc").hexdigest(),
        "description": "front door",
        "isRestricted": False,
        "isDamageImage": False,
        "uploadedBy": EMAIL,
        "createdAt": "2025-02-03T04:05:06.789000Z",
    }


def test_records_are_listed_oldest_first(
    database: Database, world: World, store: LocalBlobStore
) -> None:
    base = datetime(2025, 1, 1, tzinfo=UTC)
    names = ["b.jpg", "a.jpg", "c.jpg"]
    for offset, name in enumerate(names):
        add_file(
            database,
            store,
            world,
            case_id=OPEN_CASE,
            file_name=name,
            created_at=base + timedelta(minutes=offset),
        )
    assert [r["fileName"] for r in list_file_records(database, case_id=OPEN_CASE)] == names


def test_merged_files_are_listed_under_the_case_and_no_longer_under_the_dn(
    database: Database, world: World, store: LocalBlobStore
) -> None:
    """§1, §5 ``files list``: merging moves the DN's files, so after ``dn merge`` the DN
    lists nothing and the case lists them, made public."""
    stored = add_file(database, store, world, dn_id=OPEN_DN, restricted=True)
    merge_damage_notification(database, OPEN_DN, OPEN_CASE)
    by_case = list_file_records(database, case_id=OPEN_CASE)
    assert [(r["id"], r["isRestricted"]) for r in by_case] == [(str(stored.id), False)]
    assert list_file_records(database, dn_id=OPEN_DN) == []


def test_listing_an_unknown_parent_is_not_found(database: Database, world: World) -> None:
    with pytest.raises(NotFoundError, match="no case"):
        list_file_records(database, case_id=uuid.uuid4())
    with pytest.raises(NotFoundError, match="no damage notification"):
        list_file_records(database, dn_id=uuid.uuid4())
    assert list_file_records(database, case_id=CLOSED_CASE) == []


def test_iso_utc_converts_offsets_and_uses_z() -> None:
    moment = datetime(2025, 1, 1, 1, 0, tzinfo=timezone(timedelta(hours=2)))
    assert iso_utc(moment) == "2024-12-31T23:00:00.000000Z"


def test_export_writes_the_stored_bytes(
    database: Database, world: World, store: LocalBlobStore, tmp_path: Path
) -> None:
    data = bytes(range(256)) * 9000  # spans several copy chunks
    stored = add_file(database, store, world, case_id=OPEN_CASE, data=data)
    dest = tmp_path / "out" / "photo.jpg"
    dest.parent.mkdir()
    row = export_file(database, store, stored.id, dest)
    assert dest.read_bytes() == data
    assert row.size == len(data)
    assert list(dest.parent.iterdir()) == [dest]


def test_export_of_an_unknown_id_writes_nothing(
    database: Database, world: World, store: LocalBlobStore, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(NotFoundError, match="no file with id"):
        export_file(database, store, uuid.uuid4(), out / "x.bin")
    assert list(out.iterdir()) == []


def test_export_of_a_missing_blob_is_not_found(
    database: Database, world: World, store: LocalBlobStore, tmp_path: Path
) -> None:
    stored = add_file(database, store, world, case_id=OPEN_CASE)
    store.delete(stored.blob_id)
    with pytest.raises(NotFoundError, match="missing from the storage"):
        export_file(database, store, stored.id, tmp_path / "x.bin")
    assert not (tmp_path / "x.bin").exists()


def test_export_of_a_corrupt_blob_leaves_the_destination_untouched(
    database: Database, world: World, store: LocalBlobStore, tmp_path: Path
) -> None:
    stored = add_file(database, store, world, case_id=OPEN_CASE, data=b"original")
    store.blob_path(stored.blob_id).write_bytes(b"tampered")
    dest = tmp_path / "out.bin"
    dest.write_bytes(b"previous content")
    with pytest.raises(BlobIntegrityError, match="SHA-256"):
        export_file(database, store, stored.id, dest)
    assert dest.read_bytes() == b"previous content"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]
