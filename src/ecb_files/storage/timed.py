"""``TimedBlobStore``: any ``BlobStore`` with the time of each call told to a callback
(the service's metrics, docs/behaviour.md §12.3).

The calls that wait on the backend are timed, whatever their outcome: ``stage``
(a temp file, an S3 multipart upload), ``seal`` (the fsync, the last part), ``publish``
(rename + directory fsync, completing the upload), ``abort``, ``open``, ``open_range``
(the open; the reading of its chunks is the download's own time), ``delete`` and
``check``. ``write`` is not: it is called once per chunk of every upload, and its time
is the upload's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import BinaryIO, Protocol, TypeVar

from ecb_files.storage.base import BlobInfo, BlobRange, BlobStore, StagedBlob

T = TypeVar("T")


class Timings(Protocol):
    def observe(self, operation: str, seconds: float) -> None: ...


class TimedBlobStore:
    def __init__(self, inner: BlobStore, timings: Timings) -> None:
        self.inner = inner
        self._timings = timings

    def stage(self) -> StagedBlob:
        return _TimedStagedBlob(_timed(self._timings, "stage", self.inner.stage), self._timings)

    def open(self, blob_id: str) -> BinaryIO:
        return _timed(self._timings, "open", lambda: self.inner.open(blob_id))

    def open_range(self, blob_id: str, start: int, length: int | None) -> BlobRange:
        return _timed(
            self._timings, "open_range", lambda: self.inner.open_range(blob_id, start, length)
        )

    def delete(self, blob_id: str) -> None:
        _timed(self._timings, "delete", lambda: self.inner.delete(blob_id))

    def iter_blobs(self) -> Iterator[BlobInfo]:
        return self.inner.iter_blobs()

    def remove_stale_staging(self, older_than_seconds: float) -> int:
        return self.inner.remove_stale_staging(older_than_seconds)

    def check(self) -> None:
        _timed(self._timings, "check", self.inner.check)


class _TimedStagedBlob:
    def __init__(self, inner: StagedBlob, timings: Timings) -> None:
        self._inner = inner
        self._timings = timings

    @property
    def blob_id(self) -> str:
        return self._inner.blob_id

    def write(self, data: bytes) -> None:
        self._inner.write(data)

    def seal(self) -> None:
        _timed(self._timings, "seal", self._inner.seal)

    def publish(self) -> None:
        _timed(self._timings, "publish", self._inner.publish)

    def abort(self) -> None:
        _timed(self._timings, "abort", self._inner.abort)


def _timed(timings: Timings, operation: str, call: Callable[[], T]) -> T:
    began = time.perf_counter()
    try:
        return call()
    finally:
        timings.observe(operation, time.perf_counter() - began)
