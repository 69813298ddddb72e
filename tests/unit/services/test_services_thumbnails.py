"""Thumbnails (§11.2): made on the first request, kept as a blob named by a row, read
back afterwards, made once when asked for at once, and removed by gc with their file."""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import delete, select
from tests.db_support import OPEN_CASE, World, add_file

from ecb_files.db import Database, models
from ecb_files.errors import FileNotFound, InvalidRequest, UnprocessableContent
from ecb_files.services.content import FileContent
from ecb_files.services.gc import collect_garbage
from ecb_files.services.thumbnails import Thumbnails, longest_side_of
from ecb_files.storage import LocalBlobStore


def jpeg(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 200, 30)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def thumbnails(database: Database, store: LocalBlobStore) -> Thumbnails:
    return Thumbnails(database, store, FileContent(database, store))


def kept_rows(database: Database) -> list[models.Thumbnail]:
    with database.read() as unit:
        return list(unit.scalars(select(models.Thumbnail)))


def blob_ids(store: LocalBlobStore) -> set[str]:
    return {info.blob_id for info in store.iter_blobs()}


def test_made_on_first_request_then_read_from_the_kept_blob(
    database: Database, world: World, store: LocalBlobStore, thumbnails: Thumbnails
) -> None:
    row = add_file(database, store, world, case_id=OPEN_CASE, data=jpeg(640, 480))
    first = thumbnails.get(row, 256)
    assert Image.open(io.BytesIO(first.content)).size == (256, 192)
    assert first.media_type == "image/jpeg"
    [kept] = kept_rows(database)
    assert (kept.file_id, kept.longest_side, kept.size) == (row.id, 256, len(first.content))
    with store.open(kept.blob_id) as blob:
        assert blob.read() == first.content
    # The second request reads the kept blob: change it, and the change is what comes back.
    path = store.blob_path(kept.blob_id)
    path.write_bytes(b"the kept thumbnail")
    assert thumbnails.get(row, 256).content == b"the kept thumbnail"
    assert len(kept_rows(database)) == 1


def test_each_size_is_a_thumbnail_of_its_own(
    database: Database, world: World, store: LocalBlobStore, thumbnails: Thumbnails
) -> None:
    row = add_file(database, store, world, case_id=OPEN_CASE, data=jpeg(640, 480))
    sizes = {Image.open(io.BytesIO(thumbnails.get(row, n).content)).size for n in (64, 1024)}
    assert sizes == {(64, 48), (1024, 768)}
    assert sorted(k.longest_side for k in kept_rows(database)) == [64, 1024]


def test_first_requests_at_once_keep_one_thumbnail(
    database: Database, world: World, store: LocalBlobStore, thumbnails: Thumbnails
) -> None:
    row = add_file(database, store, world, case_id=OPEN_CASE, data=jpeg(2000, 1500))
    before = blob_ids(store)
    start = threading.Barrier(6)
    results: list[bytes] = []

    def ask() -> None:
        start.wait()
        results.append(thumbnails.get(row, 300).content)

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 6
    [kept] = kept_rows(database)
    # Only the kept blob remains: the others were dropped by the requests that lost.
    assert blob_ids(store) - before == {kept.blob_id}


def test_gc_removes_a_thumbnail_when_its_file_goes_and_keeps_it_before(
    database: Database, world: World, store: LocalBlobStore, thumbnails: Thumbnails
) -> None:
    row = add_file(database, store, world, case_id=OPEN_CASE, data=jpeg(100, 100))
    thumbnails.get(row, 64)
    [kept] = kept_rows(database)
    later = datetime.now(UTC) + timedelta(hours=2)
    collect_garbage(database, store, min_age_seconds=3600, now=later)
    assert kept.blob_id in blob_ids(store)
    with database.write() as unit:
        unit.execute(delete(models.StoredFile).where(models.StoredFile.id == row.id))
    assert kept_rows(database) == []
    report = collect_garbage(database, store, min_age_seconds=3600, now=later)
    assert kept.blob_id not in blob_ids(store)
    assert report.blobs_removed == 2  # the file's blob and its thumbnail's


@pytest.mark.parametrize("name", ["report.pdf", "notes.txt", "drawing.svg", "noextension"])
def test_a_file_that_is_no_image_has_no_thumbnail(
    database: Database, world: World, store: LocalBlobStore, thumbnails: Thumbnails, name: str
) -> None:
    row = add_file(database, store, world, case_id=OPEN_CASE, file_name=name)
    with pytest.raises(FileNotFound):
        thumbnails.get(row, 256)


def test_an_image_that_cannot_be_decoded_is_refused_and_nothing_kept(
    database: Database, world: World, store: LocalBlobStore, thumbnails: Thumbnails
) -> None:
    row = add_file(database, store, world, case_id=OPEN_CASE, data=b"\xff\xd8\xff not a jpeg")
    with pytest.raises(UnprocessableContent) as refused:
        thumbnails.get(row, 256)
    assert refused.value.status == 422
    assert kept_rows(database) == []


@pytest.mark.parametrize("size", ["63", "1025", "-1", "abc", "", "२५६", "256.0"])
def test_a_size_outside_64_to_1024_is_refused(size: str) -> None:
    with pytest.raises(InvalidRequest, match="64 to 1024"):
        longest_side_of(size)


def test_the_size_defaults_to_256() -> None:
    assert (longest_side_of(None), longest_side_of("64"), longest_side_of("1024")) == (
        256,
        64,
        1024,
    )
