"""The blob store protocol: where submitted bytes live, whatever the backend.

A blob is an opaque byte string under a server-made id (32 lower-case hex digits,
a uuid4). It is written in two phases, so a request's blobs become visible only when
all of them are complete (§3.4, all or nothing; durable before 200)::

    staged = store.stage()            # fresh id; temp file / multipart upload
    staged.write(chunk) ...           # appends, from a worker thread
    staged.seal()                     # all bytes written and durable in staging
    staged.publish()                  # visible under staged.blob_id, atomically, durably
    # on any failure, before or after publish:
    staged.abort()                    # nothing of it remains

Blobs that a crash left behind (published without a database row, or staged and never
published) are found by ``iter_blobs`` / ``remove_stale_staging`` and removed by
``ecb-files gc``.

Errors: every method turns the backend's failures into one of the project's two storage
errors (``ecb_files.errors``), so no caller needs to know the backend::

    StorageError
    ├── StorageFull          the disk or bucket refused a write for lack of space → 507
    └── StorageUnavailable   backend unreachable, I/O failure not about space     → 503

Reading: ``open_range(blob_id, start, length)`` returns a ``BlobRange``, the bytes
``start`` to ``start + length`` (to the end when ``length`` is ``None``) in bounded
chunks, for downloads in O(1) memory (local: a seek; S3: a ranged ``GetObject``)::

    with store.open_range(blob_id, 1000, 5000) as chunks:
        for chunk in chunks:          # from a worker thread: each read blocks
            ...

``open`` and ``open_range`` of an unknown id raise ``FileNotFoundError``; an id that is
not 32 lower-case hex digits raises ``InvalidBlobId`` (a ``ValueError``) before the
backend is touched.
Messages never contain a file-system path or a credential; the cause is chained.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO, Protocol

from ecb_files.errors import StorageUnavailable

_BLOB_ID = re.compile(r"[0-9a-f]{32}")


class InvalidBlobId(ValueError):
    """A blob id that the server could not have made; refused before any storage access."""


def new_blob_id() -> str:
    """A fresh server-made blob id: a uuid4 as 32 lower-case hex digits."""
    return uuid.uuid4().hex


def is_valid_blob_id(blob_id: object) -> bool:
    return isinstance(blob_id, str) and _BLOB_ID.fullmatch(blob_id) is not None


def validate_blob_id(blob_id: object) -> str:
    """``blob_id`` itself if it is 32 lower-case hex digits, else ``InvalidBlobId``.

    Ids are turned into paths and object keys: this check is what keeps a client's
    string (``../x``, an absolute path) from ever reaching the file system.
    """
    if isinstance(blob_id, str) and _BLOB_ID.fullmatch(blob_id):
        return blob_id
    raise InvalidBlobId("blob id must be 32 lower-case hexadecimal digits")


@dataclass(frozen=True)
class BlobInfo:
    """A published blob, as ``iter_blobs`` reports it to gc."""

    blob_id: str
    size: int
    modified: datetime  # timezone-aware, UTC: when the blob was published


class StagedBlob(Protocol):
    """One blob being written; see the module docstring for the life cycle.

    Calls happen in order ``write*`` → ``seal`` → ``publish``; ``abort`` may come at
    any point, any number of times. Any method may raise ``StorageFull`` or
    ``StorageUnavailable``; after a failed ``write``, ``seal`` or ``publish`` nothing of
    the blob remains, and ``abort`` is still safe to call. Out-of-order calls are bugs
    and raise ``RuntimeError``.
    """

    @property
    def blob_id(self) -> str:
        """The server-made id the blob is published under; never the client's file name."""
        ...

    def write(self, data: bytes) -> None:
        """Append ``data``. May be called many times, from a worker thread."""
        ...

    def seal(self) -> None:
        """All content is written: make it durable in staging.

        Local: flush and fsync the temp file, then close it. S3: upload the last part.
        """
        ...

    def publish(self) -> None:
        """Make the blob visible under ``blob_id``, atomically and durably.

        Local: rename the temp file into place, then fsync its directory. S3: complete
        the multipart upload.
        """
        ...

    def abort(self) -> None:
        """Discard the blob, staged or already published. Idempotent; a missing file or
        object is not an error."""
        ...


READ_CHUNK_BYTES = 1024 * 1024


def check_range(start: int, length: int | None, size: int) -> None:
    """Refuse a range outside a blob of ``size`` bytes (a bug in the caller, which
    checks a client's ``Range`` against the file's recorded size first)."""
    if start < 0 or (length is not None and length < 0):
        raise ValueError("a blob range cannot start or extend below zero")
    if start > size or (length is not None and start + length > size):
        raise ValueError(f"range {start}+{length} lies outside a blob of {size} bytes")


class Readable(Protocol):
    """What a ``BlobRange`` reads from: a file, or an object store's response body."""

    def read(self, size: int = -1, /) -> bytes: ...

    def close(self) -> None: ...


class BlobRange:
    """A byte range of one blob, read in chunks of at most ``chunk_bytes``.

    Holds one open file or connection, released by ``close`` (or the ``with`` block).
    Reading past what the source holds is an integrity failure, not a short answer: the
    caller promised ``length`` bytes (a download sent its ``Content-Length``), so a source
    that ends early raises ``StorageUnavailable``.
    """

    def __init__(
        self, source: Readable, length: int, *, chunk_bytes: int = READ_CHUNK_BYTES
    ) -> None:
        if length < 0:
            raise ValueError("length must not be negative")
        self._source = source
        self._left = length
        self._chunk_bytes = chunk_bytes

    @property
    def remaining(self) -> int:
        return self._left

    def read_chunk(self) -> bytes:
        """The next chunk; ``b""`` once the range is read."""
        if self._left == 0:
            return b""
        try:
            chunk = self._source.read(min(self._left, self._chunk_bytes))
        except OSError as exc:  # a local file's; S3's reader translates its own
            reason = exc.strerror or type(exc).__name__
            raise StorageUnavailable(f"storage could not read a blob ({reason})") from exc
        if not chunk:
            raise StorageUnavailable("a stored blob ended before its recorded size")
        self._left -= len(chunk)
        return chunk

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self.read_chunk():
            yield chunk

    def close(self) -> None:
        self._source.close()

    def __enter__(self) -> BlobRange:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class BlobStore(Protocol):
    """Where blobs live. Implementations are safe to share between threads and processes."""

    def stage(self) -> StagedBlob:
        """Start a new blob under a fresh server-made id."""
        ...

    def open(self, blob_id: str) -> BinaryIO:
        """The published blob's bytes, for reading. ``FileNotFoundError`` if unknown."""
        ...

    def open_range(self, blob_id: str, start: int, length: int | None) -> BlobRange:
        """``length`` bytes of the published blob from offset ``start`` (to its end when
        ``length`` is ``None``); ``start`` must lie within the blob. ``FileNotFoundError``
        if unknown. The caller closes it."""
        ...

    def delete(self, blob_id: str) -> None:
        """Remove a published blob. Idempotent."""
        ...

    def iter_blobs(self) -> Iterator[BlobInfo]:
        """Every published blob, in no particular order (for gc)."""
        ...

    def remove_stale_staging(self, older_than_seconds: float) -> int:
        """Remove staged blobs (temp files; S3: incomplete multipart uploads) last written
        more than ``older_than_seconds`` ago. Returns how many were removed."""
        ...

    def check(self) -> None:
        """Readiness probe: return if the store can take writes, else ``StorageUnavailable``."""
        ...
