"""``SmallBlobs`` / ``SmallOrSpilledBlob``: small files kept in memory for their database
row, larger ones spilled into the blob store as they stream (§8
``ECB_FILES_SMALL_FILE_BYTES``, docs/storage.md "Small files: kept with their rows"),
with the request's memory bounded (§6), against a real ``LocalBlobStore`` in a tmp dir."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from ecb_files.storage import LocalBlobStore
from ecb_files.storage.small_blobs import SmallBlobs, SmallOrSpilledBlob

MAX_INLINE = 10
BUDGET = 15


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


@pytest.fixture
def blobs(store: LocalBlobStore) -> SmallBlobs:
    return SmallBlobs(store, max_inline_bytes=MAX_INLINE, request_budget=BUDGET)


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def published(store: LocalBlobStore, blob: SmallOrSpilledBlob) -> bytes:
    with store.open(blob.blob_id) as stored:
        return stored.read()


def written(blobs: SmallBlobs, *chunks: bytes) -> SmallOrSpilledBlob:
    blob = blobs.stage()
    for chunk in chunks:
        blob.write(chunk)
    return blob


# --- a blob that stays small --------------------------------------------------------------


def test_a_small_blob_stays_in_memory_and_nothing_reaches_the_store(
    store: LocalBlobStore, blobs: SmallBlobs
) -> None:
    """§8 ECB_FILES_SMALL_FILE_BYTES: a file up to the small size is kept for its row;
    the store holds no file for it, staged or published."""
    blob = written(blobs, b"hello", b", ")
    assert files_under(store.root) == []
    blob.seal()
    assert blob.inline_content == b"hello, "
    assert files_under(store.root) == []


def test_a_blob_of_exactly_max_inline_bytes_stays_small(
    store: LocalBlobStore, blobs: SmallBlobs
) -> None:
    """§8: "files up to this size" — the bound itself is still small."""
    blob = written(blobs, b"x" * MAX_INLINE)
    blob.seal()
    assert blob.inline_content == b"x" * MAX_INLINE
    assert files_under(store.root) == []


def test_publishing_a_small_blob_does_nothing_to_the_store(
    store: LocalBlobStore, blobs: SmallBlobs
) -> None:
    """§8 (docs/storage.md): a small file is stored by the database with its row, so its
    publish leaves the store untouched."""
    blob = written(blobs, b"small")
    blob.seal()
    blob.publish()
    assert files_under(store.root) == []
    with pytest.raises(FileNotFoundError):
        store.open(blob.blob_id)
    assert blob.inline_content == b"small"


def test_small_blobs_are_numbered_in_the_order_they_were_staged(blobs: SmallBlobs) -> None:
    """docs/storage.md: a file kept with its row has a time-ordered id (a version-7 GUID's
    32 hex digits), so the content table's index on it grows at its end."""
    ids = [written(blobs, b"x").blob_id for _ in range(BUDGET)]
    assert ids == sorted(ids)
    assert {uuid.UUID(blob_id).version for blob_id in ids} == {7}
    assert all(blob_id == uuid.UUID(blob_id).hex for blob_id in ids)


def test_inline_content_is_none_before_seal(blobs: SmallBlobs) -> None:
    """§3.4 two phases: the content is only there once every byte is written."""
    blob = written(blobs, b"abc")
    assert blob.inline_content is None
    blob.seal()
    assert blob.inline_content == b"abc"


def test_a_small_blob_has_a_server_made_id(blobs: SmallBlobs) -> None:
    """§3.4 (docs/storage.md): a blob id is 32 lower-case hex digits, made by the server."""
    first, second = blobs.stage(), blobs.stage()
    for blob in (first, second):
        assert len(blob.blob_id) == 32
        assert blob.blob_id == blob.blob_id.lower()
        int(blob.blob_id, 16)
    assert first.blob_id != second.blob_id


# --- a blob that spills -------------------------------------------------------------------


def test_a_blob_growing_past_max_inline_spills_held_bytes_first(
    store: LocalBlobStore, blobs: SmallBlobs
) -> None:
    """§3.4 exact bytes: a blob that grows past the small size is written to the store,
    what it held first and every later byte after, in order."""
    blob = written(blobs, b"ab", b"cd")
    assert files_under(store.root) == []
    blob.write(b"efghijk")  # 11 bytes: one past the bound
    assert len(files_under(store.root)) == 1  # staged in the store now
    blob.write(b"lmn")
    blob.seal()
    assert blob.inline_content is None
    blob.publish()
    assert published(store, blob) == b"abcdefghijklmn"


def test_a_single_write_larger_than_max_inline_goes_to_the_store(
    store: LocalBlobStore, blobs: SmallBlobs
) -> None:
    """§8: a file above the small size goes to the blob store, bytes unchanged."""
    data = bytes(range(256)) * 4
    blob = written(blobs, data)
    blob.seal()
    blob.publish()
    assert blob.inline_content is None
    assert published(store, blob) == data


def test_inline_content_is_none_for_a_spilled_blob_before_and_after_seal(
    blobs: SmallBlobs,
) -> None:
    """§8: a spilled file is the blob store's, so it has no content for its row."""
    blob = written(blobs, b"x" * (MAX_INLINE + 1))
    assert blob.inline_content is None
    blob.seal()
    assert blob.inline_content is None


def test_aborting_a_spilled_staged_blob_leaves_nothing_in_the_store(
    store: LocalBlobStore, blobs: SmallBlobs
) -> None:
    """§3.4 all or nothing: a refused request's spilled blob is discarded while staged."""
    blob = written(blobs, b"x" * (MAX_INLINE + 5))
    assert files_under(store.root) != []
    blob.abort()
    assert files_under(store.root) == []


def test_aborting_a_published_spilled_blob_removes_it_from_the_store(
    store: LocalBlobStore, blobs: SmallBlobs
) -> None:
    """§3.4: "a refusal discards every blob of the request, staged or published"."""
    blob = written(blobs, b"y" * (MAX_INLINE * 3))
    blob.seal()
    blob.publish()
    assert published(store, blob) == b"y" * (MAX_INLINE * 3)
    blob.abort()
    assert files_under(store.root) == []
    with pytest.raises(FileNotFoundError):
        store.open(blob.blob_id)


# --- the request's budget -----------------------------------------------------------------


def test_the_blob_that_passes_the_request_budget_spills_and_the_others_stay_small(
    store: LocalBlobStore, blobs: SmallBlobs
) -> None:
    """§6 memory bounded: the request's blobs together hold at most the budget; the one
    that would pass it spills, even though it is small on its own."""
    first = written(blobs, b"a" * MAX_INLINE)  # budget left: 5
    second = written(blobs, b"b" * 6)  # 6 > 5: spills
    third = written(blobs, b"c" * 5)  # exactly what is left: stays
    for blob in (first, second, third):
        blob.seal()
    assert first.inline_content == b"a" * MAX_INLINE
    assert second.inline_content is None
    assert third.inline_content == b"c" * 5
    second.publish()
    assert published(store, second) == b"b" * 6
    assert len(files_under(store.root)) == 1


def test_an_aborted_small_blob_gives_its_budget_back(blobs: SmallBlobs) -> None:
    """§6: what an aborted blob held no longer counts against the request."""
    first = written(blobs, b"a" * MAX_INLINE)
    first.abort()
    second = written(blobs, b"b" * MAX_INLINE)  # needs 10 of 15: only if 10 came back
    second.seal()
    assert second.inline_content == b"b" * MAX_INLINE


def test_a_spilled_blob_gives_back_what_it_held(store: LocalBlobStore, blobs: SmallBlobs) -> None:
    """§6: once a blob spills, the bytes it held in memory are the store's; its share of
    the budget is free for the next blob."""
    spilling = written(blobs, b"s" * 8, b"s" * 3)  # held 8, then spilled at 11
    small = written(blobs, b"t" * MAX_INLINE)  # needs 10 of 15: only if 8 came back
    spilling.seal()
    small.seal()
    assert spilling.inline_content is None
    assert small.inline_content == b"t" * MAX_INLINE
    spilling.publish()
    assert published(store, spilling) == b"s" * 11


def test_without_budget_every_blob_spills(store: LocalBlobStore) -> None:
    """§8: ``ECB_FILES_SMALL_FILE_BYTES=0`` sends every file to the blob store."""
    blobs = SmallBlobs(store, max_inline_bytes=0, request_budget=0)
    blob = written(blobs, b"z")
    blob.seal()
    blob.publish()
    assert blob.inline_content is None
    assert published(store, blob) == b"z"


# --- out of order -------------------------------------------------------------------------


@pytest.mark.parametrize("size", [3, MAX_INLINE + 1], ids=["small", "spilled"])
def test_a_write_after_seal_is_refused(blobs: SmallBlobs, size: int) -> None:
    """§3.4 two phases (write* → seal → publish): out-of-order calls are bugs
    and raise RuntimeError."""
    blob = written(blobs, b"x" * size)
    blob.seal()
    with pytest.raises(RuntimeError, match="sealed"):
        blob.write(b"more")
    blob.abort()


@pytest.mark.parametrize("size", [3, MAX_INLINE + 1], ids=["small", "spilled"])
def test_publish_before_seal_is_refused(
    store: LocalBlobStore, blobs: SmallBlobs, size: int
) -> None:
    """§3.4 two phases: publish comes after seal, else RuntimeError; nothing
    is published."""
    blob = written(blobs, b"x" * size)
    with pytest.raises(RuntimeError, match="not sealed"):
        blob.publish()
    blob.abort()
    assert files_under(store.root) == []
