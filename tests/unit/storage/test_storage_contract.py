"""The BlobStore contract (§3.4, §5 gc), run over every backend.

A backend joins the suite by adding a param to ``backend``: a store plus two helpers
that observe and age its staging area (temp files; for S3, multipart uploads).
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

import pytest
from tests.s3_support import S3Sandbox

from ecb_files.storage import (
    BlobInfo,
    BlobStore,
    InvalidBlobId,
    LocalBlobStore,
    is_valid_blob_id,
    new_blob_id,
)

MIB = 1024 * 1024


class Backend(Protocol):
    store: BlobStore

    def staged_count(self) -> int:
        """How many staged (unpublished) blobs exist in the backend."""
        ...

    def backdate_staging(self, seconds: float) -> None:
        """Make every staged blob look last written ``seconds`` ago."""
        ...


class LocalBackend:
    def __init__(self, root: Path) -> None:
        self.store: BlobStore = LocalBlobStore(root)
        self._tmp = root / "tmp"

    def staged_count(self) -> int:
        return sum(1 for _ in self._tmp.iterdir())

    def backdate_staging(self, seconds: float) -> None:
        then = time.time() - seconds
        for path in self._tmp.iterdir():
            os.utime(path, (then, then))


class S3Backend:
    """Staged blobs are the bucket's incomplete multipart uploads (on a real S3 API over
    HTTP; see conftest.py)."""

    def __init__(self, sandbox: S3Sandbox) -> None:
        self.store: BlobStore = sandbox.store("ecb/blobs")
        self._sandbox = sandbox

    def staged_count(self) -> int:
        return len(self._sandbox.uploads())

    def backdate_staging(self, seconds: float) -> None:
        self._sandbox.backdate_staging(seconds)


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "local":
        yield LocalBackend(tmp_path / "blobs")
    elif request.param == "s3":
        # Asked for only here, so the local runs never start the S3 server.
        yield S3Backend(request.getfixturevalue("s3"))
    else:  # pragma: no cover - a new backend param without a branch here
        raise AssertionError(f"no backend {request.param!r}")


@pytest.fixture
def store(backend: Backend) -> BlobStore:
    return backend.store


def put(store: BlobStore, *chunks: bytes) -> str:
    staged = store.stage()
    for chunk in chunks:
        staged.write(chunk)
    staged.seal()
    staged.publish()
    return staged.blob_id


def read(store: BlobStore, blob_id: str) -> bytes:
    with store.open(blob_id) as f:
        return f.read()


def published(store: BlobStore) -> dict[str, BlobInfo]:
    return {info.blob_id: info for info in store.iter_blobs()}


def assert_nothing_left(backend: Backend, blob_id: str) -> None:
    assert backend.staged_count() == 0
    assert published(backend.store) == {}
    with pytest.raises(FileNotFoundError):
        backend.store.open(blob_id)


def test_round_trip_returns_exactly_the_bytes_written(store: BlobStore) -> None:
    """§3.4: stored bytes are exactly the bytes sent."""
    blob_id = put(store, b"hello ", b"", b"world\x00\xff")
    assert read(store, blob_id) == b"hello world\x00\xff"


def test_round_trip_of_several_mebibytes_in_chunks(store: BlobStore) -> None:
    """§3.4/§6: chunked writes of ~1 MiB, as the ingest worker makes them."""
    data = os.urandom(3 * MIB + 12345)
    blob_id = put(store, *(data[i : i + MIB] for i in range(0, len(data), MIB)))
    assert hashlib.sha256(read(store, blob_id)).digest() == hashlib.sha256(data).digest()


def test_an_empty_blob_can_be_stored(store: BlobStore) -> None:
    """The store itself puts no lower bound on size (the API refuses empty files)."""
    blob_id = put(store)
    assert read(store, blob_id) == b""
    assert published(store)[blob_id].size == 0


def test_writes_may_come_from_a_worker_thread(store: BlobStore) -> None:
    """§6: decode, hash and write run off the event loop."""
    staged = store.stage()
    with ThreadPoolExecutor(max_workers=1) as pool:
        for chunk in (b"a" * 1000, b"b" * 1000):
            pool.submit(staged.write, chunk).result()
        pool.submit(staged.seal).result()
    staged.publish()
    assert read(store, staged.blob_id) == b"a" * 1000 + b"b" * 1000


def test_stage_makes_a_fresh_server_id_every_time(store: BlobStore) -> None:
    """§1: file ids are server-made, never from the client."""
    first, second = store.stage(), store.stage()
    try:
        assert is_valid_blob_id(first.blob_id)
        assert is_valid_blob_id(second.blob_id)
        assert first.blob_id != second.blob_id
    finally:
        first.abort()
        second.abort()


def test_a_sealed_blob_is_invisible_until_published(store: BlobStore) -> None:
    """§3.4 all or nothing: nothing is visible before publish."""
    staged = store.stage()
    staged.write(b"data")
    staged.seal()
    with pytest.raises(FileNotFoundError):
        store.open(staged.blob_id)
    assert published(store) == {}
    staged.publish()
    assert read(store, staged.blob_id) == b"data"


@pytest.mark.parametrize("stage_reached", ["written", "sealed", "published"])
def test_abort_leaves_nothing_behind(backend: Backend, stage_reached: str) -> None:
    """§3.4: a refused or dropped request leaves no blob, staged or published."""
    staged = backend.store.stage()
    staged.write(b"x" * 10_000)
    if stage_reached in ("sealed", "published"):
        staged.seal()
    if stage_reached == "published":
        staged.publish()
    staged.abort()
    assert_nothing_left(backend, staged.blob_id)


def test_abort_right_after_stage_leaves_nothing(backend: Backend) -> None:
    """§3.4: a request dropped before its first byte leaves nothing."""
    staged = backend.store.stage()
    staged.abort()
    assert_nothing_left(backend, staged.blob_id)


def test_abort_is_idempotent(backend: Backend) -> None:
    """§3.4: cleanup paths may abort more than once."""
    staged = backend.store.stage()
    staged.write(b"x")
    staged.seal()
    staged.publish()
    staged.abort()
    staged.abort()
    assert_nothing_left(backend, staged.blob_id)


def test_abort_of_one_blob_leaves_the_others(store: BlobStore) -> None:
    """§3.4: aborting is precise; other requests' blobs stay."""
    kept = put(store, b"keep me")
    staged = store.stage()
    staged.write(b"drop me")
    staged.abort()
    assert read(store, kept) == b"keep me"
    assert set(published(store)) == {kept}


def test_write_after_seal_is_a_programming_error(store: BlobStore) -> None:
    """The life cycle is write* → seal → publish; anything else is a bug, said loudly."""
    staged = store.stage()
    staged.seal()
    with pytest.raises(RuntimeError, match="sealed"):
        staged.write(b"late")
    staged.abort()


def test_seal_twice_is_a_programming_error(store: BlobStore) -> None:
    """The life cycle is write* → seal → publish."""
    staged = store.stage()
    staged.seal()
    with pytest.raises(RuntimeError, match="sealed"):
        staged.seal()
    staged.abort()


def test_publish_before_seal_is_a_programming_error(store: BlobStore) -> None:
    """The life cycle is write* → seal → publish: nothing unsealed becomes visible."""
    staged = store.stage()
    staged.write(b"half")
    with pytest.raises(RuntimeError, match="being written"):
        staged.publish()
    staged.abort()
    assert published(store) == {}


def test_write_after_abort_is_a_programming_error(store: BlobStore) -> None:
    """An aborted blob takes no more bytes."""
    staged = store.stage()
    staged.abort()
    with pytest.raises(RuntimeError, match="aborted"):
        staged.write(b"late")


def test_iter_blobs_lists_only_published_blobs_with_size_and_time(store: BlobStore) -> None:
    """§5 gc: published blobs are listed with their size and an aware UTC time."""
    before = datetime.now(UTC) - timedelta(seconds=5)
    small = put(store, b"abc")
    large = put(store, b"z" * 70_000)
    pending = store.stage()
    pending.write(b"not yet")
    pending.seal()
    try:
        listed = published(store)
        assert set(listed) == {small, large}
        assert listed[small].size == 3
        assert listed[large].size == 70_000
        for info in listed.values():
            assert info.modified.utcoffset() == timedelta(0)
            assert before <= info.modified <= datetime.now(UTC) + timedelta(seconds=5)
    finally:
        pending.abort()


def test_iter_blobs_of_an_empty_store_is_empty(store: BlobStore) -> None:
    """§5 gc: a fresh store lists nothing."""
    assert list(store.iter_blobs()) == []


def test_remove_stale_staging_removes_only_old_staged_blobs(backend: Backend) -> None:
    """§5 gc --min-age: staged blobs older than the age go, younger ones stay."""
    old = backend.store.stage()
    old.write(b"abandoned by a crash")
    backend.backdate_staging(600)
    fresh = backend.store.stage()
    fresh.write(b"still uploading")
    assert backend.store.remove_stale_staging(300) == 1
    assert backend.staged_count() == 1
    fresh.seal()
    fresh.publish()
    assert read(backend.store, fresh.blob_id) == b"still uploading"
    old.abort()  # the file is gone already: abort must not mind


def test_remove_stale_staging_keeps_everything_younger_than_the_age(backend: Backend) -> None:
    """§5 gc: nothing younger than --min-age is touched."""
    staged = backend.store.stage()
    staged.write(b"x")
    backend.backdate_staging(100)
    assert backend.store.remove_stale_staging(3600) == 0
    assert backend.staged_count() == 1
    staged.abort()


def test_remove_stale_staging_never_touches_published_blobs(store: BlobStore) -> None:
    """§5 gc: stale-staging cleanup is about temp data only."""
    blob_id = put(store, b"published")
    assert store.remove_stale_staging(0) == 0
    assert read(store, blob_id) == b"published"


def test_remove_stale_staging_refuses_a_negative_age(store: BlobStore) -> None:
    with pytest.raises(ValueError, match="negative"):
        store.remove_stale_staging(-1)


def test_delete_removes_a_blob_and_is_idempotent(store: BlobStore) -> None:
    """§5 gc: deleting twice, or deleting an unknown id, is not an error."""
    blob_id = put(store, b"bye")
    store.delete(blob_id)
    store.delete(blob_id)
    store.delete(new_blob_id())
    with pytest.raises(FileNotFoundError):
        store.open(blob_id)
    assert published(store) == {}


def test_open_of_an_unknown_id_raises_file_not_found(store: BlobStore) -> None:
    """§9: `files get` of an unknown id fails cleanly."""
    with pytest.raises(FileNotFoundError):
        store.open(new_blob_id())


BAD_IDS = [
    "../x",
    "../../etc/passwd",
    "/etc/passwd",
    "A" * 32,
    "0123456789ABCDEF0123456789abcdef",
    "0" * 31,
    "0" * 33,
    "",
    "g" * 32,
    "0" * 32 + "\n",
    "00/" + "0" * 29,
    "0" * 30 + "..",
]


@pytest.mark.parametrize("bad_id", BAD_IDS)
def test_ids_other_than_32_lower_hex_digits_are_refused(store: BlobStore, bad_id: str) -> None:
    """Blob ids never carry a client's path to the storage."""
    with pytest.raises(InvalidBlobId):
        store.open(bad_id)
    with pytest.raises(InvalidBlobId):
        store.delete(bad_id)


def test_check_passes_on_a_healthy_store(store: BlobStore) -> None:
    """§8 /readyz: a usable store answers the probe."""
    store.check()
    store.check()
    assert list(store.iter_blobs()) == []


# Ranged reads (§11.2 downloads): the same bytes from every backend, in bounded chunks.


def read_range(store: BlobStore, blob_id: str, start: int, length: int | None) -> list[bytes]:
    with store.open_range(blob_id, start, length) as chunks:
        return list(chunks)


@pytest.mark.parametrize(
    ("start", "length"),
    [(0, None), (0, 1), (0, 10), (3, 4), (9, 1), (9, None), (5, None), (10, None), (10, 0)],
)
def test_a_range_reads_exactly_its_bytes(store: BlobStore, start: int, length: int | None) -> None:
    data = b"0123456789"
    blob_id = put(store, data)
    end = None if length is None else start + length
    assert b"".join(read_range(store, blob_id, start, length)) == data[start:end]


def test_a_whole_blob_comes_in_chunks_of_a_mebibyte_at_most(store: BlobStore) -> None:
    """§6: a download holds one chunk at a time, whatever the blob's size."""
    data = os.urandom(3 * MIB + 777)
    blob_id = put(store, *(data[i : i + MIB] for i in range(0, len(data), MIB)))
    chunks = read_range(store, blob_id, 0, None)
    assert max(len(chunk) for chunk in chunks) <= MIB
    assert b"".join(chunks) == data


def test_a_range_in_the_middle_of_a_large_blob(store: BlobStore) -> None:
    data = os.urandom(2 * MIB + 5)
    blob_id = put(store, data)
    start, length = MIB - 3, MIB + 7
    with store.open_range(blob_id, start, length) as chunks:
        assert chunks.remaining == length
        got = b"".join(chunks)
        assert chunks.remaining == 0
    assert got == data[start : start + length]


def test_a_range_of_an_unknown_blob_is_file_not_found(store: BlobStore) -> None:
    with pytest.raises(FileNotFoundError):
        store.open_range(new_blob_id(), 0, None)
    with pytest.raises(FileNotFoundError):
        store.open_range(new_blob_id(), 0, 0)


def test_a_range_refuses_an_id_the_server_could_not_have_made(store: BlobStore) -> None:
    with pytest.raises(InvalidBlobId):
        store.open_range("../etc/passwd", 0, None)


def test_a_range_past_the_end_is_a_caller_bug(store: BlobStore) -> None:
    blob_id = put(store, b"0123456789")
    with pytest.raises(ValueError, match="outside"):
        store.open_range(blob_id, 5, 6)


def test_ranges_may_be_read_from_worker_threads_at_once(store: BlobStore) -> None:
    """Downloads read off the event loop, many at a time, from one store."""
    data = os.urandom(MIB)
    blob_id = put(store, data)
    pieces = [(i * 1000, 5000) for i in range(16)]
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(lambda p: b"".join(read_range(store, blob_id, *p)), pieces))
    assert got == [data[s : s + n] for s, n in pieces]
