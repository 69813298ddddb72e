"""Reading a file's bytes (§11.2 ``…/content``): from the store or from its row, by range,
with the download's status and headers."""

from __future__ import annotations

import hashlib
import os

import pytest
from tests.db_support import OPEN_CASE, World, add_file

from ecb_files.db import Database, models
from ecb_files.errors import GenericError, RangeNotSatisfiable
from ecb_files.services.content import DownloadRequest, FileContent
from ecb_files.storage import LocalBlobStore

MIB = 1024 * 1024


def keep_in_row(database: Database, store: LocalBlobStore, row: models.StoredFile) -> None:
    """Turn ``row`` into a small file as a submission leaves it: bytes with the row,
    none in the store."""
    with store.open(row.blob_id) as blob:
        data = blob.read()
    with database.write() as unit:
        unit.add(models.SmallFileContent(blob_id=row.blob_id, content=data))
    store.delete(row.blob_id)


@pytest.fixture
def content(database: Database, store: LocalBlobStore) -> FileContent:
    return FileContent(database, store)


@pytest.mark.parametrize("small", [False, True], ids=["in the store", "in its row"])
def test_ranges_come_from_wherever_the_bytes_are(
    database: Database, world: World, store: LocalBlobStore, content: FileContent, small: bool
) -> None:
    data = os.urandom(5000)
    row = add_file(database, store, world, case_id=OPEN_CASE, data=data)
    if small:
        keep_in_row(database, store, row)
    with content.open(row) as whole:
        assert b"".join(whole) == data
    with content.open(row, 1000, 10) as piece:
        assert b"".join(piece) == data[1000:1010]
    with content.open_file(row) as file:
        assert file.read() == data


def test_a_large_file_is_read_a_mebibyte_at_a_time(
    database: Database, world: World, store: LocalBlobStore, content: FileContent
) -> None:
    data = os.urandom(3 * MIB + 1)
    row = add_file(database, store, world, case_id=OPEN_CASE, data=data)
    with content.open(row) as chunks:
        sizes = [len(chunk) for chunk in chunks]
    assert sizes == [MIB, MIB, MIB, 1]


def test_a_whole_download_has_every_header(
    database: Database, world: World, store: LocalBlobStore, content: FileContent
) -> None:
    data = b"0123456789"
    row = add_file(database, store, world, case_id=OPEN_CASE, data=data, file_name="Søn.jpg")
    download = content.download(row, DownloadRequest())
    assert download.status == 200
    assert download.body is not None
    with download.body as body:
        assert b"".join(body) == data
    assert download.headers == {
        "ETag": f'"{hashlib.sha256(data).hexdigest()}"',
        "Accept-Ranges": "bytes",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-cache",
        "Content-Disposition": "attachment; filename=\"S_n.jpg\"; filename*=UTF-8''S%C3%B8n.jpg",
        "Content-Type": "image/jpeg",
        "Content-Length": "10",
    }


def test_a_range_is_206_and_a_known_tag_304(
    database: Database, world: World, store: LocalBlobStore, content: FileContent
) -> None:
    data = b"0123456789"
    row = add_file(database, store, world, case_id=OPEN_CASE, data=data)
    partial = content.download(row, DownloadRequest(range="bytes=-3"))
    assert (partial.status, partial.headers["Content-Range"]) == (206, "bytes 7-9/10")
    assert partial.headers["Content-Length"] == "3"
    assert partial.body is not None
    with partial.body as body:
        assert b"".join(body) == b"789"
    etag = partial.headers["ETag"]
    unchanged = content.download(row, DownloadRequest(if_none_match=etag, range="bytes=0-1"))
    assert (unchanged.status, unchanged.body) == (304, None)
    stale = content.download(row, DownloadRequest(range="bytes=0-1", if_range='"other"'))
    assert stale.status == 200
    assert stale.body is not None
    stale.body.close()


def test_a_range_past_the_end_is_416_naming_the_size(
    database: Database, world: World, store: LocalBlobStore, content: FileContent
) -> None:
    row = add_file(database, store, world, case_id=OPEN_CASE, data=b"0123456789")
    with pytest.raises(RangeNotSatisfiable) as refused:
        content.download(row, DownloadRequest(range="bytes=10-"))
    assert refused.value.status == 416
    assert refused.value.headers() == {"Content-Range": "bytes */10"}


def test_a_blob_missing_behind_its_row_is_a_server_error(
    database: Database, world: World, store: LocalBlobStore, content: FileContent
) -> None:
    row = add_file(database, store, world, case_id=OPEN_CASE)
    store.delete(row.blob_id)
    with pytest.raises(GenericError, match="missing") as failed:
        content.open(row)
    assert failed.value.status == 500


@pytest.mark.parametrize(
    ("name", "inline"),
    [("photo.jpg", True), ("page.html", False), ("drawing.svg", False), ("data.xml", False)],
)
def test_inline_is_only_for_passive_previews(
    database: Database,
    world: World,
    store: LocalBlobStore,
    content: FileContent,
    name: str,
    inline: bool,
) -> None:
    row = add_file(database, store, world, case_id=OPEN_CASE, file_name=name)
    download = content.download(row, DownloadRequest(), inline=True)
    assert download.body is not None
    download.body.close()
    assert download.headers["Content-Disposition"].startswith("inline" if inline else "attachment")
    assert ("Content-Security-Policy" in download.headers) is not inline
