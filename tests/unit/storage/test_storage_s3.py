"""The S3 backend beyond the shared contract (§3.4, §5 gc, §6, §8), against a
real S3 API over HTTP (moto's server; see tests/s3_support.py)."""

from __future__ import annotations

import hashlib
import logging
import os
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from tests.s3_support import (
    ACCESS_KEY,
    REGION,
    SECRET_KEY,
    S3Sandbox,
    closed_port_url,
    refusing_s3_server,
)

from ecb_files.storage import StorageFull, StorageUnavailable, new_blob_id
from ecb_files.storage.s3 import MIN_PART_BYTES, S3BlobStore

MIB = 1024 * 1024
PART = 8 * MIB  # the default part size


def chunks(total_mib: int) -> list[bytes]:
    """``total_mib`` distinct 1 MiB chunks, as the ingest worker writes them."""
    return [os.urandom(MIB) for _ in range(total_mib)]


def parts_of(s3: S3Sandbox, upload: dict[str, Any]) -> list[dict[str, Any]]:
    listing = s3.client.list_parts(Bucket=s3.bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    parts: list[dict[str, Any]] = listing.get("Parts", [])
    return parts


def object_bytes(s3: S3Sandbox, key: str) -> bytes:
    body: bytes = s3.client.get_object(Bucket=s3.bucket, Key=key)["Body"].read()
    return body


def unreachable_store(url: str, **options: Any) -> S3BlobStore:
    return S3BlobStore(
        "ecb-files",
        "blobs",
        url,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        **options,
    )


# Streaming, visibility, layout


def test_a_large_blob_is_uploaded_part_by_part_while_it_is_written(s3: S3Sandbox) -> None:
    """§6: 20 MiB in 1 MiB chunks leaves as parts as soon as each 8 MiB fills up."""
    store = s3.store("blobs")
    staged = store.stage()
    data = chunks(20)
    for written, chunk in enumerate(data, start=1):
        staged.write(chunk)
        [upload] = s3.uploads()
        assert len(parts_of(s3, upload)) == written * MIB // PART
    staged.seal()
    [upload] = s3.uploads()
    assert [part["Size"] for part in parts_of(s3, upload)] == [PART, PART, 4 * MIB]
    staged.publish()
    assert object_bytes(s3, store.key_for(staged.blob_id)) == b"".join(data)
    assert s3.uploads() == []


def test_a_staged_blob_holds_at_most_one_part_in_memory(s3: S3Sandbox) -> None:
    """§6: memory per staged blob stays within one part buffer, whatever the size."""
    store = s3.store("blobs", part_bytes=MIN_PART_BYTES)
    chunk = os.urandom(MIB)
    staged = store.stage()
    tracemalloc.start()
    try:
        held = []
        for _ in range(24):
            staged.write(chunk)
            snapshot = tracemalloc.take_snapshot().filter_traces(
                [tracemalloc.Filter(True, "*/ecb_files/storage/s3.py")]
            )
            held.append(sum(stat.size for stat in snapshot.statistics("filename")))
        staged.seal()
        after_seal = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(True, "*/ecb_files/storage/s3.py")]
        )
    finally:
        tracemalloc.stop()
    assert max(held) <= MIN_PART_BYTES + MIB + 64 * 1024
    assert sum(stat.size for stat in after_seal.statistics("filename")) < 64 * 1024
    staged.abort()


def test_a_sealed_blob_is_durable_in_the_store_but_invisible(s3: S3Sandbox) -> None:
    """§3.4: after seal every byte is acknowledged by S3, and no object exists yet."""
    store = s3.store("blobs")
    staged = store.stage()
    staged.write(b"all of it")
    staged.seal()
    [upload] = s3.uploads()
    assert upload["Key"] == store.key_for(staged.blob_id)
    assert [part["Size"] for part in parts_of(s3, upload)] == [9]
    assert s3.keys() == []
    staged.publish()
    assert s3.keys() == [store.key_for(staged.blob_id)]


def test_objects_are_keyed_prefix_fanout_id(s3: S3Sandbox) -> None:
    """Layout: <prefix>/<id[:2]>/<id>, and no prefix at all when none is configured."""
    with_prefix, bare = s3.store("prod/blobs"), s3.store("")
    first, second = with_prefix.stage(), bare.stage()
    for staged in (first, second):
        staged.write(b"x")
        staged.seal()
        staged.publish()
    assert sorted(s3.keys()) == sorted(
        [
            f"prod/blobs/{first.blob_id[:2]}/{first.blob_id}",
            f"{second.blob_id[:2]}/{second.blob_id}",
        ]
    )


def test_a_blob_is_created_only_by_its_first_byte(s3: S3Sandbox) -> None:
    """A request dropped before any content costs no S3 call and leaves nothing."""
    staged = s3.store("blobs").stage()
    staged.write(b"")
    assert s3.uploads() == []
    staged.abort()
    assert s3.uploads() == []


# Abort leaves nothing


def test_abort_in_the_middle_of_a_large_upload_leaves_nothing(s3: S3Sandbox) -> None:
    """§3.4: a refused request or a disconnect mid-stream leaves no object and no upload."""
    staged = s3.store("blobs").stage()
    for chunk in chunks(17):
        staged.write(chunk)
    assert len(parts_of(s3, s3.uploads()[0])) == 2
    staged.abort()
    assert s3.uploads() == []
    assert s3.keys() == []


def test_abort_after_publish_deletes_the_object(s3: S3Sandbox) -> None:
    """§3.4: a request refused after its blobs were published leaves none of them."""
    staged = s3.store("blobs").stage()
    for chunk in chunks(9):
        staged.write(chunk)
    staged.seal()
    staged.publish()
    assert len(s3.keys()) == 1
    staged.abort()
    assert s3.keys() == []
    assert s3.uploads() == []


def test_a_publish_that_fails_leaves_nothing_and_says_unavailable(s3: S3Sandbox) -> None:
    """§3.4: if the upload vanished (gc aborted it), publish fails cleanly: 503, no blob."""
    store = s3.store("blobs", max_attempts=1)
    staged = store.stage()
    staged.write(b"slow upload")
    staged.seal()
    s3.backdate_staging(7200)
    assert store.remove_stale_staging(3600) == 1
    # S3 answers NoSuchUpload; moto fails with a 500 instead. Either is a 503 for us.
    with pytest.raises(StorageUnavailable):
        staged.publish()
    assert s3.keys() == []
    staged.abort()


def test_a_failed_abort_is_logged_not_raised_and_a_retry_finishes(
    s3: S3Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """§3.4/§5: cleanup never masks the request's own error; gc or a retry cleans up."""
    store = s3.store("blobs")
    staged = store.stage()
    staged.write(b"x")
    # The same staged blob, seen through a store whose endpoint went down:
    staged._store = unreachable_store(closed_port_url(), max_attempts=1)
    with caplog.at_level(logging.WARNING, logger="ecb_files.storage"):
        staged.abort()
    assert staged.blob_id in caplog.text
    assert len(s3.uploads()) == 1
    staged._store = store
    staged.abort()
    assert s3.uploads() == []


# gc: stale incomplete uploads


def test_stale_uploads_are_aborted_by_the_age_of_their_last_part(s3: S3Sandbox) -> None:
    """§5 gc: an upload that started long ago but wrote a part just now is still alive."""
    store = s3.store("blobs")
    abandoned, slow = store.stage(), store.stage()
    for staged in (abandoned, slow):
        staged.write(os.urandom(PART))
    s3.backdate_staging(7200)
    slow.write(os.urandom(PART))  # a fresh part
    assert store.remove_stale_staging(3600) == 1
    [alive] = s3.uploads()
    assert alive["Key"] == store.key_for(slow.blob_id)
    slow.seal()
    slow.publish()
    abandoned.abort()


def test_stale_upload_cleanup_leaves_other_keys_alone(s3: S3Sandbox) -> None:
    """§5 gc: only uploads to keys this store makes, under its prefix, are touched."""
    blob_id = new_blob_id()
    foreign = [
        f"blobs/{blob_id[:2]}/{blob_id}.bak",
        f"blobs/zz/{blob_id}",
        f"blobs/{blob_id}",
        f"other/{blob_id[:2]}/{blob_id}",
        f"blobs-old/{blob_id[:2]}/{blob_id}",
    ]
    for key in foreign:
        s3.client.create_multipart_upload(Bucket=s3.bucket, Key=key)
    s3.backdate_staging(7200)
    assert s3.store("blobs").remove_stale_staging(0) == 0
    assert sorted(upload["Key"] for upload in s3.uploads()) == sorted(foreign)


def test_iter_blobs_lists_only_this_stores_keys(s3: S3Sandbox) -> None:
    """§5 gc: objects that are not blobs of this store are never candidates for deletion."""
    store = s3.store("blobs")
    staged = store.stage()
    staged.write(b"mine")
    staged.seal()
    staged.publish()
    blob_id = new_blob_id()
    for key in (
        f"blobs/{blob_id[:2]}/{blob_id}.bak",
        f"blobs/zz/{blob_id}",
        f"blobs-old/{blob_id[:2]}/{blob_id}",
        f"{blob_id[:2]}/{blob_id}",
        "blobs/README",
    ):
        s3.client.put_object(Bucket=s3.bucket, Key=key, Body=b"not a blob of this store")
    assert [info.blob_id for info in store.iter_blobs()] == [staged.blob_id]


def test_a_long_upload_is_restamped_at_publish(s3: S3Sandbox) -> None:
    """§5 gc: S3 dates a multipart object from its start; a long upload is re-dated when
    published, so gc cannot take it for an old orphan before its row is committed."""
    quick = s3.store("blobs")
    slow = s3.store("blobs", restamp_after_seconds=0.0)
    blobs = []
    for store in (quick, slow):
        staged = store.stage()
        staged.write(b"content")
        staged.seal()
        staged.publish()
        blobs.append(store.key_for(staged.blob_id))
    quick_head, slow_head = (s3.client.head_object(Bucket=s3.bucket, Key=key) for key in blobs)
    assert "published" not in quick_head["Metadata"]
    assert "published" in slow_head["Metadata"]
    assert object_bytes(s3, blobs[1]) == b"content"
    assert s3.uploads() == []


# Reads


def test_open_streams_the_object(s3: S3Sandbox) -> None:
    """§5 `files get`: reads come in pieces of the size asked for, and close cleanly."""
    store = s3.store("blobs")
    data = b"".join(chunks(3)) + b"tail"
    staged = store.stage()
    staged.write(data)
    staged.seal()
    staged.publish()
    digest = hashlib.sha256()
    with store.open(staged.blob_id) as stream:
        first = stream.read(1000)
        assert len(first) == 1000
        digest.update(first)
        while piece := stream.read(MIB):
            assert len(piece) <= MIB
            digest.update(piece)
    assert stream.closed
    assert digest.digest() == hashlib.sha256(data).digest()


def test_a_stream_closed_early_releases_the_connection(s3: S3Sandbox) -> None:
    """Reading a little of many blobs must not exhaust the connection pool."""
    store = s3.store("blobs")
    staged = store.stage()
    staged.write(os.urandom(2 * MIB))
    staged.seal()
    staged.publish()
    for _ in range(80):  # more than the pool's 64 connections
        with store.open(staged.blob_id) as stream:
            assert len(stream.read(10)) == 10
    with pytest.raises(ValueError, match="closed"):
        stream.read(1)


# Concurrency


def test_many_blobs_stream_at_once_from_worker_threads(s3: S3Sandbox) -> None:
    """§6: uploads run concurrently from the worker threads; each lands intact."""
    store = s3.store("blobs", part_bytes=MIN_PART_BYTES)

    def upload(seed: int) -> tuple[str, bytes]:
        data = os.urandom(6 * MIB + seed)
        staged = store.stage()
        for start in range(0, len(data), MIB):
            staged.write(data[start : start + MIB])
        staged.seal()
        staged.publish()
        return staged.blob_id, hashlib.sha256(data).digest()

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(upload, range(8)))
    for blob_id, digest in results:
        with store.open(blob_id) as stream:
            assert hashlib.sha256(stream.read()).digest() == digest
    assert s3.uploads() == []


# Failures of the store


def test_an_unreachable_endpoint_is_unavailable_quickly() -> None:
    """§8 /readyz: nothing listening → StorageUnavailable within seconds, naming no URL."""
    url = closed_port_url()
    store = unreachable_store(url)
    started = time.monotonic()
    with pytest.raises(StorageUnavailable) as caught:
        store.check()
    assert time.monotonic() - started < 10
    assert "127.0.0.1" not in str(caught.value)


@pytest.mark.parametrize(
    "operation",
    ["write", "seal", "open", "delete", "iter_blobs", "remove_stale_staging"],
)
def test_every_operation_on_an_unreachable_endpoint_is_unavailable(operation: str) -> None:
    """§3.4: a store that is down is a 503, never a crash with a botocore error."""
    store = unreachable_store(closed_port_url(), max_attempts=1)
    staged = store.stage()
    calls = {
        "write": lambda: staged.write(b"x"),
        "seal": staged.seal,
        "open": lambda: store.open(new_blob_id()),
        "delete": lambda: store.delete(new_blob_id()),
        "iter_blobs": lambda: list(store.iter_blobs()),
        "remove_stale_staging": lambda: store.remove_stale_staging(60),
    }
    with pytest.raises(StorageUnavailable, match="EndpointConnectionError"):
        calls[operation]()
    staged.abort()


def test_a_missing_bucket_is_unavailable(s3: S3Sandbox) -> None:
    """§8 /readyz: a bucket that does not exist makes the store not ready."""
    store = S3BlobStore(
        "no-such-bucket-here",
        "",
        s3.endpoint_url,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    with pytest.raises(StorageUnavailable, match="404"):
        store.check()
    with pytest.raises(StorageUnavailable, match="NoSuchBucket"):
        store.stage().write(b"x")


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (403, "QuotaExceeded"),  # Ceph RGW user or bucket quota
        (400, "XMinioAdminBucketQuotaExceeded"),  # MinIO bucket quota
        (507, "XMinioStorageFull"),  # MinIO drives full
        (507, "SomethingElse"),  # any 507 is a full store
    ],
)
def test_a_store_that_refuses_for_space_is_full(status: int, code: str) -> None:
    """§3.4 storage full: the quota and capacity refusals of S3 stores become 507."""
    with refusing_s3_server(status, code) as url:
        staged = unreachable_store(url, max_attempts=1).stage()
        with pytest.raises(StorageFull, match=code):
            staged.write(b"x")
        staged.abort()


@pytest.mark.parametrize(
    ("status", "code"),
    [(403, "AccessDenied"), (503, "SlowDown"), (500, "InternalError"), (400, "EntityTooLarge")],
)
def test_other_refusals_are_unavailable_with_their_code(status: int, code: str) -> None:
    """§3.4: anything but space is a 503 that names the S3 error code for the logs."""
    with refusing_s3_server(status, code) as url:
        store = unreachable_store(url, max_attempts=1)
        with pytest.raises(StorageUnavailable, match=code) as caught:
            store.stage().write(b"x")
        assert not isinstance(caught.value, StorageFull)
        assert "127.0.0.1" not in str(caught.value)
        # HeadBucket answers have no body: the HTTP status stands in for the code.
        with pytest.raises(StorageUnavailable, match=f"\\({status}\\)"):
            store.check()


def test_a_part_size_below_the_s3_minimum_is_refused() -> None:
    """S3 refuses parts under 5 MiB (except the last): such a store could never publish."""
    with pytest.raises(ValueError, match="part_bytes"):
        unreachable_store("http://127.0.0.1:1", part_bytes=MIN_PART_BYTES - 1)
