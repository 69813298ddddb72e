"""A ZIP of a case's files, streamed (§11.3 "download all")."""

from __future__ import annotations

import io
import os
import zipfile
from datetime import UTC, datetime

import pytest
from tests.db_support import OPEN_CASE, World, add_file

from ecb_files.db import Database
from ecb_files.services.archive import ZipStream, unique_entry_names
from ecb_files.services.content import FileContent
from ecb_files.storage import LocalBlobStore

MIB = 1024 * 1024


def test_entry_names_are_made_unique_case_insensitively() -> None:
    names = ["a.jpg", "A.JPG", "a.jpg", "a (2).jpg", ".bashrc", ".bashrc", "README", "readme"]
    assert unique_entry_names(names) == [
        "a.jpg",
        "A (2).JPG",
        "a (3).jpg",
        "a (2) (2).jpg",
        ".bashrc",
        ".bashrc (2)",
        "README",
        "readme (2)",
    ]


def test_the_zip_holds_every_file_byte_for_byte(
    database: Database, world: World, store: LocalBlobStore
) -> None:
    at = datetime(2026, 3, 4, 5, 6, 8, tzinfo=UTC)
    contents = [os.urandom(2 * MIB + 3), b"small", os.urandom(1000)]
    names = ["photo.jpg", "Schäden.pdf", "photo.jpg"]
    rows = [
        add_file(database, store, world, case_id=OPEN_CASE, data=d, file_name=n, created_at=at)
        for d, n in zip(contents, names, strict=True)
    ]
    stream = ZipStream(FileContent(database, store), rows)
    chunks = []
    while chunk := stream.read_chunk():
        chunks.append(chunk)
    stream.close()
    assert max(len(c) for c in chunks) <= MIB + 64 * 1024  # a file chunk and its headers
    with zipfile.ZipFile(io.BytesIO(b"".join(chunks))) as archive:
        assert archive.testzip() is None
        assert archive.namelist() == ["photo.jpg", "Schäden.pdf", "photo (2).jpg"]
        assert [archive.read(n) for n in archive.namelist()] == contents
        assert archive.getinfo("photo.jpg").date_time == (2026, 3, 4, 5, 6, 8)


def test_a_zip_of_nothing_is_an_empty_archive(database: Database, store: LocalBlobStore) -> None:
    stream = ZipStream(FileContent(database, store), [])
    data = b"".join(iter(stream.read_chunk, b""))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.namelist() == []


def test_closing_early_releases_the_file_being_read(
    database: Database, world: World, store: LocalBlobStore
) -> None:
    row = add_file(database, store, world, case_id=OPEN_CASE, data=os.urandom(3 * MIB))
    stream = ZipStream(FileContent(database, store), [row])
    assert stream.read_chunk()
    stream.close()
    with pytest.raises(StopIteration):
        next(stream._chunks)
