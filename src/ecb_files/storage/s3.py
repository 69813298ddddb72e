"""The S3 blob store: blobs as objects in one bucket, under an optional key prefix.

Layout under ``<prefix>/`` (the prefix may be empty)::

    <id[:2]>/<id>       a published blob, or the key of its in-progress multipart upload

A staged blob is a multipart upload to its final key, so publishing copies nothing:

    write   bytes go into a part buffer; every full buffer is uploaded as one part while
            the request streams (the upload itself is created at the first byte, so a
            blob with data is always visible to gc as an incomplete upload)
    seal    the last, possibly short, part is uploaded: every byte is acknowledged by the
            store, and nothing is visible yet
    publish ``CompleteMultipartUpload``: the object appears atomically
    abort   abort the upload, or delete the object once published

At most one part buffer is held per staged blob, none once it is sealed. Uploads that a
crash left behind are aborted by ``remove_stale_staging`` once their last part is older
than gc's ``--min-age``.

S3 dates an object made by a multipart upload from the upload's *start*, not from its
completion. gc deletes unreferenced blobs older than ``--min-age``, so a blob whose
upload took longer than that could look old in the instant between publish and the
database commit; ``publish`` therefore copies such an object onto itself (a server-side
copy that restamps it) when its upload began more than ``restamp_after_seconds`` ago.

Every boto3/botocore failure is translated here: quota and capacity refusals become
``StorageFull``, everything else (connection, timeout, 5xx, access denied, …)
``StorageUnavailable`` naming the S3 error code; a missing object on ``open`` is
``FileNotFoundError``. Messages carry no URL, key or credential; the cause is chained.
"""

from __future__ import annotations

import errno
import io
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO

import boto3  # type: ignore[import-untyped]
from boto3.s3.transfer import TransferConfig  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from ecb_files.config import ConfigError
from ecb_files.errors import StorageError, StorageFull, StorageUnavailable
from ecb_files.storage.base import (
    BlobInfo,
    BlobRange,
    new_blob_id,
    validate_blob_id,
)
from ecb_files.storage.lifecycle import Lifecycle, Phase

log = logging.getLogger("ecb_files.storage")

MIB = 1024 * 1024
DEFAULT_PART_BYTES = 8 * MIB
MIN_PART_BYTES = 5 * MIB  # S3 refuses a shorter part unless it is the last one
_MAX_PARTS = 10_000
DEFAULT_RESTAMP_AFTER_SECONDS = 300.0
# Objects above this are copied by parts when restamped (CopyObject's own limit).
_SINGLE_COPY_MAX_BYTES = 5 * 1024 * MIB
_DEFAULT_REGION = "us-east-1"
# Above the default number of worker threads with S3 (config.REMOTE_WORKER_THREADS; set
# by ECB_FILES_WORKER_THREADS), which may all talk to S3 at once.
_MAX_POOL_CONNECTIONS = 64
_READ_CHUNK_BYTES = 1 * MIB

_BOTO_ERRORS = (BotoCoreError, ClientError)
# Refusals for lack of space: Ceph RGW's user/bucket quota (403 QuotaExceeded), MinIO's
# bucket quota (400 XMinioAdminBucketQuotaExceeded) and full drives (507
# XMinioStorageFull). Any 507 counts too, whatever its code. EntityTooLarge is not here:
# it is a per-request size rule (our parts are far below it), not a full store.
_FULL_CODES = frozenset(
    {"QuotaExceeded", "XMinioAdminBucketQuotaExceeded", "XMinioStorageFull", "InsufficientStorage"}
)
_MISSING_OBJECT_CODES = frozenset({"NoSuchKey", "NotFound", "404"})
_GONE_UPLOAD_CODES = frozenset({"NoSuchUpload", "404"})
_ERROR_CODE_CHARS = re.compile(r"[^A-Za-z0-9._-]")
_BLOB_KEY = re.compile(r"([0-9a-f]{2})/([0-9a-f]{32})")


def _error_code(exc: Any) -> str:
    """The S3 error code of a ``ClientError``, reduced to characters safe to show."""
    code = str(exc.response.get("Error", {}).get("Code") or "unknown")
    return _ERROR_CODE_CHARS.sub("", code)[:64] or "unknown"


def _http_status(exc: Any) -> int | None:
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return status if isinstance(status, int) else None


def _storage_error(exc: Exception, action: str) -> StorageError:
    """The protocol's exception for a botocore failure; the message may reach a client,
    so it says what failed and the S3 code, never an endpoint or a key."""
    if isinstance(exc, ClientError):
        code = _error_code(exc)
        if code in _FULL_CODES or _http_status(exc) == 507:
            return StorageFull(f"object storage is full: could not {action} ({code})")
        return StorageUnavailable(f"object storage could not {action} ({code})")
    # Connection refused, timeouts, missing credentials: the class names the cause, its
    # message would name the endpoint.
    return StorageUnavailable(f"object storage could not {action} ({type(exc).__name__})")


class S3StagedBlob:
    """A blob being written as a multipart upload; see ``StagedBlob`` for the contract.

    One lock serialises the methods, so an ``abort`` from another thread waits for the
    part being uploaded instead of racing it.
    """

    def __init__(self, store: S3BlobStore, blob_id: str) -> None:
        self._store = store
        self._blob_id = blob_id
        self._key = store.key_for(blob_id)
        self._lock = threading.Lock()
        self._lifecycle = Lifecycle(blob_id)
        self._buffer = bytearray()
        self._size = 0
        self._upload_id: str | None = None
        self._upload_started = 0.0  # time.monotonic() when the upload was created
        self._parts: list[dict[str, Any]] = []
        # Set before CompleteMultipartUpload is sent: if its answer is lost, the object
        # may exist, and cleanup must delete it.
        self._object_may_exist = False

    @property
    def blob_id(self) -> str:
        return self._blob_id

    def write(self, data: bytes) -> None:
        with self._lock:
            self._lifecycle.require(Phase.WRITING, "write")
            if not data:
                return
            with self._discarded_on_failure():
                self._ensure_upload()
                self._buffer += data
                self._size += len(data)
                if len(self._buffer) >= self._store.part_bytes:
                    self._upload_buffered_part()

    def seal(self) -> None:
        with self._lock:
            self._lifecycle.require(Phase.WRITING, "seal")
            with self._discarded_on_failure():
                self._ensure_upload()
                # An upload needs one part at least, even an empty one.
                if self._buffer or not self._parts:
                    self._upload_buffered_part()
            self._lifecycle.sealed()

    def publish(self) -> None:
        with self._lock:
            self._lifecycle.require(Phase.SEALED, "publish")
            assert self._upload_id is not None  # sealing created it
            with self._discarded_on_failure():
                self._object_may_exist = True
                self._store.complete_upload(self._key, self._upload_id, self._parts)
                self._upload_id = None
                upload_age = time.monotonic() - self._upload_started
                if upload_age > self._store.restamp_after_seconds:
                    self._store.restamp(self._key, self._size)
            self._parts = []
            self._lifecycle.published()

    def abort(self) -> None:
        """Discard the blob. Never raises: a failed cleanup call is logged and left to
        ``ecb-files gc``; calling ``abort`` again retries it."""
        with self._lock:
            self._lifecycle.aborted()
            self._buffer = bytearray()
            self._release()

    def _ensure_upload(self) -> None:
        if self._upload_id is None:
            self._upload_id = self._store.create_upload(self._key)
            self._upload_started = time.monotonic()

    def _upload_buffered_part(self) -> None:
        assert self._upload_id is not None
        number = len(self._parts) + 1
        if number > _MAX_PARTS:
            raise StorageUnavailable(
                f"object storage could not take a blob of over {_MAX_PARTS} parts "
                f"of {self._store.part_bytes} bytes"
            )
        part = self._store.upload_part(self._key, self._upload_id, number, self._buffer)
        self._parts.append(part)
        # A new buffer rather than clearing the old one: botocore may still hold it.
        self._buffer = bytearray()

    @contextmanager
    def _discarded_on_failure(self) -> Iterator[None]:
        """A failed step leaves nothing behind (best effort), then the error goes on."""
        try:
            yield
        except StorageError:
            self._lifecycle.aborted()
            self._buffer = bytearray()
            self._release()
            raise

    def _release(self) -> None:
        """Abort the upload and delete the object if it may exist; keep what failed, so a
        later call retries it."""
        if self._upload_id is not None:
            try:
                self._store.abort_upload(self._key, self._upload_id)
            except StorageError as error:
                log.warning("could not abort the upload of blob %s: %s", self._blob_id, error)
                return
            self._upload_id = None
            self._parts = []
        if self._object_may_exist:
            try:
                self._store.delete(self._blob_id)
            except StorageError as error:
                log.warning("could not delete blob %s: %s", self._blob_id, error)
                return
            self._object_may_exist = False


class _ObjectReader(io.RawIOBase):
    """A ``GetObject`` body as a raw stream: reads translate botocore's errors, and
    ``close`` releases the connection."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._read(len(view))
        view[: len(data)] = data
        return len(data)

    def read(self, size: int = -1) -> bytes:
        # The body's own bytes, without RawIOBase's copy through a buffer.
        return self.readall() if size < 0 else self._read(size)

    def readall(self) -> bytes:
        # The default reads 8 KiB at a time; blobs are up to hundreds of MiB.
        chunks = []
        while chunk := self._read(_READ_CHUNK_BYTES):
            chunks.append(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()

    def _read(self, size: int) -> bytes:
        try:
            data = self._body.read(size)
        except _BOTO_ERRORS as exc:
            raise _storage_error(exc, "read a blob") from exc
        assert isinstance(data, bytes)
        return data


class S3BlobStore:
    """Blobs as objects in ``bucket`` under ``prefix``. Safe to share between threads and
    between processes on any number of hosts.

    Credentials and region come from the usual AWS environment variables and files
    (``us-east-1`` when none is set); the explicit keyword arguments exist for tests.
    No request is made until the store is used; an unusable AWS profile is a
    ``ConfigError``.
    """

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        *,
        part_bytes: int = DEFAULT_PART_BYTES,
        restamp_after_seconds: float = DEFAULT_RESTAMP_AFTER_SECONDS,
        region_name: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 60.0,
        max_attempts: int = 3,
    ) -> None:
        if part_bytes < MIN_PART_BYTES:
            raise ValueError(f"part_bytes must be at least {MIN_PART_BYTES} (S3's minimum)")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.part_bytes = part_bytes
        self.restamp_after_seconds = restamp_after_seconds
        self._key_prefix = f"{self.prefix}/" if self.prefix else ""
        try:
            session = boto3.session.Session(
                aws_access_key_id=aws_access_key_id,
                aws_secret_access_key=aws_secret_access_key,
                region_name=region_name,
            )
        except BotoCoreError as exc:  # e.g. AWS_PROFILE names a profile that does not exist
            raise ConfigError(
                f"the AWS configuration for S3 storage cannot be used ({type(exc).__name__})"
            ) from exc
        config = Config(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            retries={"mode": "standard", "max_attempts": max_attempts},
            max_pool_connections=_MAX_POOL_CONNECTIONS,
            # S3-compatible stores behind a custom endpoint rarely resolve
            # bucket.host names; AWS itself prefers virtual-hosted style.
            s3={"addressing_style": "path" if endpoint_url else "auto"},
        )
        self.region: str = session.region_name or _DEFAULT_REGION
        self._client = session.client(
            "s3", endpoint_url=endpoint_url, region_name=self.region, config=config
        )

    def __repr__(self) -> str:
        return f"S3BlobStore(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def key_for(self, blob_id: str) -> str:
        blob_id = validate_blob_id(blob_id)
        return f"{self._key_prefix}{blob_id[:2]}/{blob_id}"

    def stage(self) -> S3StagedBlob:
        return S3StagedBlob(self, new_blob_id())

    def open(self, blob_id: str) -> BinaryIO:
        response = self._get_object(blob_id)
        return io.BufferedReader(_ObjectReader(response["Body"]), buffer_size=_READ_CHUNK_BYTES)

    def open_range(self, blob_id: str, start: int, length: int | None) -> BlobRange:
        """A ranged ``GetObject``: S3 sends only the bytes asked for, and they are read
        from the connection chunk by chunk."""
        if start < 0 or (length is not None and length < 0):
            raise ValueError("a blob range cannot start or extend below zero")
        if length == 0:
            # S3 cannot express an empty range; the blob must still exist.
            self._head_object(blob_id)
            return BlobRange(io.BytesIO(b""), 0)
        if length is not None:
            response = self._get_object(blob_id, Range=f"bytes={start}-{start + length - 1}")
        elif start > 0:
            try:
                response = self._get_object(blob_id, Range=f"bytes={start}-")
            except ValueError:
                if self._head_object(blob_id) != start:
                    raise
                return BlobRange(io.BytesIO(b""), 0)  # from the very end: nothing
        else:
            response = self._get_object(blob_id)
        sent = int(response["ContentLength"])
        reader = _ObjectReader(response["Body"])
        if length is not None and sent != length:
            reader.close()
            raise ValueError(f"range {start}+{length} lies outside the blob")
        return BlobRange(reader, sent)

    def delete(self, blob_id: str) -> None:
        # DeleteObject of a missing key succeeds: idempotent as the protocol wants.
        self._call("delete a blob", self._client.delete_object, Key=self.key_for(blob_id))

    def iter_blobs(self) -> Iterator[BlobInfo]:
        pages = self._pages("list blobs", "list_objects_v2", Prefix=self._key_prefix)
        for page in pages:
            for item in page.get("Contents", ()):
                blob_id = self._blob_id_of(item["Key"])
                if blob_id is not None:
                    modified = item["LastModified"].astimezone(UTC)
                    yield BlobInfo(blob_id, int(item["Size"]), modified)

    def remove_stale_staging(self, older_than_seconds: float) -> int:
        """Abort the incomplete uploads under the prefix whose last part (or, with no
        part, whose start) is older than ``older_than_seconds``. Keys that are not ours
        are left alone."""
        if older_than_seconds < 0:
            raise ValueError("older_than_seconds must not be negative")
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than_seconds)
        stale = [
            (upload["Key"], upload["UploadId"])
            for page in self._pages(
                "list incomplete uploads", "list_multipart_uploads", Prefix=self._key_prefix
            )
            for upload in page.get("Uploads", ())
            if self._blob_id_of(upload["Key"]) is not None and upload["Initiated"] < cutoff
        ]
        removed = 0
        for key, upload_id in stale:
            last_written = self._last_part_time(key, upload_id)
            if last_written is not None and last_written >= cutoff:
                continue  # still being written
            if self.abort_upload(key, upload_id):
                removed += 1
        return removed

    def check(self) -> None:
        """Ready when the bucket answers ``HeadBucket`` with these credentials."""
        try:
            self._call("reach its bucket", self._client.head_bucket)
        except StorageError as error:
            # Readiness reports one thing, "not usable", whatever the cause.
            raise StorageUnavailable(str(error)) from error

    # The multipart steps, for S3StagedBlob.

    def create_upload(self, key: str) -> str:
        response = self._call(
            "start an upload",
            self._client.create_multipart_upload,
            Key=key,
            ContentType="application/octet-stream",
        )
        return str(response["UploadId"])

    def upload_part(self, key: str, upload_id: str, number: int, data: bytearray) -> dict[str, Any]:
        response = self._call(
            "write a blob",
            self._client.upload_part,
            Key=key,
            UploadId=upload_id,
            PartNumber=number,
            Body=data,
        )
        # Checksums that botocore sent with the part must be named again on completion.
        part = {name: value for name, value in response.items() if name.startswith("Checksum")}
        part.update(PartNumber=number, ETag=response["ETag"])
        return part

    def complete_upload(self, key: str, upload_id: str, parts: list[dict[str, Any]]) -> None:
        self._call(
            "publish a blob",
            self._client.complete_multipart_upload,
            Key=key,
            UploadId=upload_id,
            MultipartUpload={"Parts": parts},
        )

    def abort_upload(self, key: str, upload_id: str) -> bool:
        """Abort an incomplete upload; ``False`` if it was already gone."""
        try:
            self._client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except ClientError as exc:
            if _error_code(exc) in _GONE_UPLOAD_CODES:
                return False
            raise _storage_error(exc, "discard an upload") from exc
        except BotoCoreError as exc:
            raise _storage_error(exc, "discard an upload") from exc
        return True

    def restamp(self, key: str, size: int) -> None:
        """Copy the object onto itself so its date is now (see the module docstring)."""
        published = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        try:
            self._client.copy(
                CopySource={"Bucket": self.bucket, "Key": key},
                Bucket=self.bucket,
                Key=key,
                ExtraArgs={
                    "MetadataDirective": "REPLACE",
                    "Metadata": {"published": published},
                    "ContentType": "application/octet-stream",
                },
                Config=TransferConfig(
                    multipart_threshold=_SINGLE_COPY_MAX_BYTES, use_threads=False
                ),
            )
        except _BOTO_ERRORS as exc:
            raise _storage_error(exc, "publish a blob") from exc
        log.info("restamped blob key %s of %d bytes after a long upload", key, size)

    # Helpers.

    def _get_object(self, blob_id: str, **kwargs: Any) -> Any:
        key = self.key_for(blob_id)
        try:
            return self._client.get_object(Bucket=self.bucket, Key=key, **kwargs)
        except ClientError as exc:
            code = _error_code(exc)
            if code in _MISSING_OBJECT_CODES:
                raise FileNotFoundError(errno.ENOENT, "no such blob", blob_id) from None
            if code == "InvalidRange":
                raise ValueError("the range lies outside the blob") from None
            raise _storage_error(exc, "read a blob") from exc
        except BotoCoreError as exc:
            raise _storage_error(exc, "read a blob") from exc

    def _head_object(self, blob_id: str) -> int:
        """The blob's size."""
        try:
            response = self._client.head_object(Bucket=self.bucket, Key=self.key_for(blob_id))
        except ClientError as exc:
            if _error_code(exc) in _MISSING_OBJECT_CODES:
                raise FileNotFoundError(errno.ENOENT, "no such blob", blob_id) from None
            raise _storage_error(exc, "read a blob") from exc
        except BotoCoreError as exc:
            raise _storage_error(exc, "read a blob") from exc
        return int(response["ContentLength"])

    def _blob_id_of(self, key: str) -> str | None:
        """The blob id a key names, or ``None`` for keys this store did not make."""
        if not key.startswith(self._key_prefix):
            return None
        match = _BLOB_KEY.fullmatch(key[len(self._key_prefix) :])
        if match is None or not match.group(2).startswith(match.group(1)):
            return None
        return match.group(2)

    def _last_part_time(self, key: str, upload_id: str) -> datetime | None:
        """When the upload's newest part was written; ``None`` with no part, or if the
        upload is gone meanwhile (completed or aborted: aborting it is then a no-op)."""
        pages = self._client.get_paginator("list_parts").paginate(
            Bucket=self.bucket, Key=key, UploadId=upload_id
        )
        newest: datetime | None = None
        try:
            for page in pages:
                for part in page.get("Parts", ()):
                    modified: datetime = part["LastModified"]
                    newest = modified if newest is None else max(newest, modified)
        except ClientError as exc:
            if _error_code(exc) in _GONE_UPLOAD_CODES:
                return None
            raise _storage_error(exc, "list upload parts") from exc
        except BotoCoreError as exc:
            raise _storage_error(exc, "list upload parts") from exc
        return newest

    def _call(self, action: str, operation: Callable[..., Any], **kwargs: Any) -> Any:
        try:
            return operation(Bucket=self.bucket, **kwargs)
        except _BOTO_ERRORS as exc:
            raise _storage_error(exc, action) from exc

    def _pages(self, action: str, operation: str, **kwargs: Any) -> Iterator[Any]:
        pages = iter(self._client.get_paginator(operation).paginate(Bucket=self.bucket, **kwargs))
        while True:
            try:
                page = next(pages)
            except StopIteration:
                return
            except _BOTO_ERRORS as exc:
                raise _storage_error(exc, action) from exc
            yield page
