"""The local-disk blob store.

Layout under ``root``::

    tmp/<id>.part       a staged blob, written (and written back as it grows,
                        ``storage.writeback``) and fsync'd here
    <id[:2]>/<id>       a published blob; 256 fan-out directories, made on demand

Publishing is ``os.replace`` within one file system (atomic), followed by an fsync of
the fan-out directory (durable); a new fan-out directory is made durable by an fsync of
``root``. Every ``OSError`` is turned into ``StorageFull`` (ENOSPC, EDQUOT) or
``StorageUnavailable`` (anything else) at this boundary, and a staged blob whose write,
seal or publish failed is discarded at once, so a failure never leaves bytes behind.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from ecb_files.errors import StorageError, StorageFull, StorageUnavailable
from ecb_files.storage.base import (
    BlobInfo,
    BlobRange,
    is_valid_blob_id,
    new_blob_id,
    validate_blob_id,
)
from ecb_files.storage.base import (
    check_range as _check_range,
)
from ecb_files.storage.lifecycle import Lifecycle, Phase
from ecb_files.storage.writeback import WritebackPacer

_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_FANOUT_DIR = re.compile(r"[0-9a-f]{2}")
# Staged blobs and readiness probes; nothing else in tmp/ is ours to remove.
_STAGING_FILE = re.compile(r"[0-9a-f]{32}\.(?:part|probe)")
# Decoded slices of 192 KiB and more are written as they come; the buffer gathers the
# small pieces a content string with many escapes (`\/`) is cut into. Kept under
# malloc's mmap threshold: a buffer per file must not cost an mmap and an munmap.
_WRITE_BUFFER_BYTES = 64 * 1024


def _storage_error(exc: OSError, action: str) -> StorageError:
    """The protocol's exception for ``exc``; the message names no path (it may reach a
    client), the chained cause keeps it for the logs."""
    reason = exc.strerror or type(exc).__name__
    if exc.errno in _SPACE_ERRNOS:
        return StorageFull(f"local storage is full: could not {action} ({reason})")
    return StorageUnavailable(f"local storage could not {action} ({reason})")


def _open_part(path: Path) -> BinaryIO:
    """Create a staged blob's temp file. Exclusive, so an id can never reuse a file.

    Module-level so tests can substitute a file that fails like a full disk.
    """
    return open(path, "xb", buffering=_WRITE_BUFFER_BYTES)


def _writeback_pacer() -> WritebackPacer:
    """Module-level so tests can watch the calls it makes."""
    return WritebackPacer()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalStagedBlob:
    """A blob being written to ``tmp/<id>.part``; see ``StagedBlob`` for the contract.

    One lock serialises the methods, so an ``abort`` from another thread waits for the
    chunk being written instead of closing the file under it.
    """

    def __init__(self, store: LocalBlobStore, blob_id: str) -> None:
        self._store = store
        self._blob_id = blob_id
        self._part = store.part_path(blob_id)
        self._final = store.blob_path(blob_id)
        self._lock = threading.Lock()
        self._lifecycle = Lifecycle(blob_id)
        self._ever_published = False
        self._size = 0
        self._writeback = _writeback_pacer()
        try:
            self._file: BinaryIO | None = _open_part(self._part)
        except OSError as exc:
            raise _storage_error(exc, "create a temp file") from exc

    @property
    def blob_id(self) -> str:
        return self._blob_id

    def write(self, data: bytes) -> None:
        with self._lock:
            file = self._writing_file("write")
            try:
                file.write(data)
                self._size += len(data)
                if self._writeback.due(self._size):
                    file.flush()
                    self._writeback.written(file.fileno(), self._size)
            except OSError as exc:
                self._discard()
                raise _storage_error(exc, "write a blob") from exc

    def seal(self) -> None:
        with self._lock:
            file = self._writing_file("seal")
            try:
                file.flush()
                # Space is often only refused here (delayed allocation, quotas, NFS).
                os.fsync(file.fileno())
                file.close()
            except OSError as exc:
                self._discard()
                raise _storage_error(exc, "write a blob") from exc
            self._file = None
            self._lifecycle.sealed()

    def publish(self) -> None:
        with self._lock:
            self._lifecycle.require(Phase.SEALED, "publish")
            try:
                # gc ages a published blob from its publication, not from its first byte,
                # so a long upload is never mistaken for an orphan before its commit.
                os.utime(self._part)
                self._store.ensure_fanout_dir(self._final.parent)
                try:
                    os.replace(self._part, self._final)
                except FileNotFoundError:
                    # The fan-out directory was removed behind the store's back.
                    self._store.forget_fanout_dir(self._final.parent)
                    self._store.ensure_fanout_dir(self._final.parent)
                    os.replace(self._part, self._final)
                self._ever_published = True
                _fsync_dir(self._final.parent)
            except OSError as exc:
                self._discard()
                raise _storage_error(exc, "publish a blob") from exc
            self._lifecycle.published()

    def abort(self) -> None:
        with self._lock:
            self._lifecycle.aborted()
            self._close_quietly()
            # Unconditional and missing_ok: a retry after a failed abort finishes the job.
            try:
                self._part.unlink(missing_ok=True)
                if self._ever_published:
                    self._final.unlink(missing_ok=True)
            except OSError as exc:
                raise _storage_error(exc, "discard a blob") from exc

    def _writing_file(self, action: str) -> BinaryIO:
        self._lifecycle.require(Phase.WRITING, action)
        assert self._file is not None  # open for exactly the WRITING phase
        return self._file

    def _close_quietly(self) -> None:
        if self._file is not None:
            # Closing flushes; after a failed write that fails again, and the raw file is
            # closed regardless. The first error is the one worth reporting.
            with contextlib.suppress(OSError):
                self._file.close()
            self._file = None

    def _discard(self) -> None:
        """Best-effort cleanup after a failure; leftovers are for gc, the caller gets the
        original error."""
        self._lifecycle.aborted()
        self._close_quietly()
        for path in (self._part, self._final) if self._ever_published else (self._part,):
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)


class LocalBlobStore:
    """Blobs as files under ``root`` (created if missing). Safe to share between threads,
    and between processes on one host or one shared file system."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._tmp = self.root / "tmp"
        # Fan-out directories this process has made durable (an fsync of root after
        # seeing them): another process may have created one and not yet synced root.
        self._durable_fanouts: set[str] = set()
        try:
            self._make_dir(self.root, parents=True)
            self._make_dir(self._tmp)
        except OSError as exc:
            raise _storage_error(exc, "create its directories") from exc

    def __repr__(self) -> str:
        return f"LocalBlobStore({str(self.root)!r})"

    def part_path(self, blob_id: str) -> Path:
        return self._tmp / f"{validate_blob_id(blob_id)}.part"

    def blob_path(self, blob_id: str) -> Path:
        blob_id = validate_blob_id(blob_id)
        return self.root / blob_id[:2] / blob_id

    def stage(self) -> LocalStagedBlob:
        return LocalStagedBlob(self, new_blob_id())

    def open(self, blob_id: str) -> BinaryIO:
        path = self.blob_path(blob_id)
        try:
            return open(path, "rb")
        except FileNotFoundError:
            raise FileNotFoundError(errno.ENOENT, "no such blob", blob_id) from None
        except OSError as exc:
            raise _storage_error(exc, "read a blob") from exc

    def open_range(self, blob_id: str, start: int, length: int | None) -> BlobRange:
        source = self.open(blob_id)
        try:
            size = os.fstat(source.fileno()).st_size
            _check_range(start, length, size)
            source.seek(start)
        except OSError as exc:
            source.close()
            raise _storage_error(exc, "read a blob") from exc
        except BaseException:
            source.close()
            raise
        return BlobRange(source, size - start if length is None else length)

    def delete(self, blob_id: str) -> None:
        path = self.blob_path(blob_id)
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise _storage_error(exc, "delete a blob") from exc

    def iter_blobs(self) -> Iterator[BlobInfo]:
        try:
            with os.scandir(self.root) as top:
                fanouts = sorted(
                    entry.name
                    for entry in top
                    if _FANOUT_DIR.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False)
                )
        except OSError as exc:
            raise _storage_error(exc, "list blobs") from exc
        for fanout in fanouts:
            # One directory at a time, closed before yielding: gc may delete as it goes.
            try:
                found = self._blobs_in(fanout)
            except OSError as exc:
                raise _storage_error(exc, "list blobs") from exc
            yield from found

    def remove_stale_staging(self, older_than_seconds: float) -> int:
        if older_than_seconds < 0:
            raise ValueError("older_than_seconds must not be negative")
        cutoff = time.time() - older_than_seconds
        removed = 0
        try:
            with os.scandir(self._tmp) as entries:
                candidates = [e for e in entries if _STAGING_FILE.fullmatch(e.name)]
            for entry in candidates:
                try:
                    if entry.stat(follow_symlinks=False).st_mtime >= cutoff:
                        continue
                    os.unlink(entry.path)
                except FileNotFoundError:
                    continue  # published or aborted meanwhile
                removed += 1
        except OSError as exc:
            raise _storage_error(exc, "remove stale temp files") from exc
        return removed

    def check(self) -> None:
        """Ready when ``root`` and ``tmp/`` exist and a file can be created in ``tmp/``."""
        if not self.root.is_dir() or not self._tmp.is_dir():
            raise StorageUnavailable("local storage directory is missing")
        probe = self._tmp / f"{new_blob_id()}.probe"
        try:
            os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            os.unlink(probe)
        except OSError as exc:
            # Readiness reports one thing, "not usable", whatever the cause (full included).
            raise StorageUnavailable(str(_storage_error(exc, "create a file"))) from exc

    def ensure_fanout_dir(self, path: Path) -> None:
        """Make ``path`` (a fan-out directory) exist durably before a blob is renamed in."""
        if path.name in self._durable_fanouts:
            return  # made durable before; nothing removes fan-out directories
        created = self._make_dir(path)
        if created or path.name not in self._durable_fanouts:
            if not created:
                _fsync_dir(self.root)
            self._durable_fanouts.add(path.name)

    def forget_fanout_dir(self, path: Path) -> None:
        self._durable_fanouts.discard(path.name)

    def _blobs_in(self, fanout: str) -> list[BlobInfo]:
        found: list[BlobInfo] = []
        try:
            with os.scandir(self.root / fanout) as entries:
                for entry in entries:
                    if not (is_valid_blob_id(entry.name) and entry.name.startswith(fanout)):
                        continue
                    try:
                        st = entry.stat(follow_symlinks=False)
                    except FileNotFoundError:
                        continue  # deleted meanwhile
                    if stat.S_ISREG(st.st_mode):
                        modified = datetime.fromtimestamp(st.st_mtime, tz=UTC)
                        found.append(BlobInfo(entry.name, st.st_size, modified))
        except FileNotFoundError:
            return []
        return found

    @staticmethod
    def _make_dir(path: Path, *, parents: bool = False) -> bool:
        """Create ``path``; when it is new, fsync its parent so it survives a crash.
        Returns whether it was created."""
        try:
            path.mkdir(parents=parents)
        except FileExistsError:
            if not path.is_dir():
                raise
            return False
        _fsync_dir(path.parent)
        return True
