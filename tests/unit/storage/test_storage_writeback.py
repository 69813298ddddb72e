"""A large staged blob is written back as it grows, not all at its seal (§3.4; the
seal's fsync still makes it durable)."""

from __future__ import annotations

import ctypes
import errno
import hashlib
import os
from pathlib import Path

import pytest

from ecb_files.storage import LocalBlobStore, StorageFull, writeback
from ecb_files.storage import local as local_module
from ecb_files.storage.writeback import STEP_BYTES, WritebackPacer

MIB = 1024 * 1024
WRITE, WAIT_BEFORE = 2, 1


class RecordingSyncFileRange:
    """The real ``sync_file_range``, with each call noted."""

    def __init__(self) -> None:
        assert writeback._sync_file_range is not None, "this system has no sync_file_range"
        self._real = writeback._sync_file_range
        self.calls: list[tuple[int, int, int]] = []

    def __call__(self, fd: int, offset: int, length: int, flags: int) -> int:
        self.calls.append((offset, length, flags))
        return self._real(fd, offset, length, flags)


def test_a_large_blob_starts_each_step_and_waits_for_the_one_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """§3.4: every 4 MiB written goes to the disk at once, one step in flight; the blob
    published is the bytes written."""
    recording = RecordingSyncFileRange()
    monkeypatch.setattr(local_module, "_writeback_pacer", lambda: WritebackPacer(recording))
    store = LocalBlobStore(tmp_path / "blobs")
    data = os.urandom(2 * STEP_BYTES + MIB)
    staged = store.stage()
    for start in range(0, len(data), MIB):
        staged.write(data[start : start + MIB])
    assert recording.calls == [
        (0, STEP_BYTES, WRITE),
        (0, STEP_BYTES, WAIT_BEFORE),
        (STEP_BYTES, STEP_BYTES, WRITE),
    ]
    staged.seal()
    staged.publish()
    with store.open(staged.blob_id) as stream:
        assert hashlib.sha256(stream.read()).digest() == hashlib.sha256(data).digest()


def test_a_small_blob_is_left_to_the_seal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """§3.4: a blob shorter than a step is written back by its seal's fsync alone."""
    recording = RecordingSyncFileRange()
    monkeypatch.setattr(local_module, "_writeback_pacer", lambda: WritebackPacer(recording))
    staged = LocalBlobStore(tmp_path / "blobs").stage()
    staged.write(os.urandom(STEP_BYTES - 1))
    staged.seal()
    assert recording.calls == []


def test_a_file_that_cannot_be_written_back_early_is_left_to_the_fsync() -> None:
    """§3.4: a file system that refuses (a pipe stands for one: ESPIPE) leaves the work to
    the seal's fsync, without an error."""
    pacer = WritebackPacer()
    read_end, write_end = os.pipe()
    try:
        pacer.written(write_end, STEP_BYTES)
        assert not pacer.due(10 * STEP_BYTES)  # given up, without an error
    finally:
        os.close(read_end)
        os.close(write_end)


def test_a_failed_writeback_is_an_os_error() -> None:
    """§3.4: a real failure reaches the store, which reports it as a storage error."""
    with pytest.raises(OSError, match="Bad file descriptor") as raised:
        WritebackPacer().written(-1, STEP_BYTES)
    assert raised.value.errno == errno.EBADF


def test_without_sync_file_range_nothing_is_due() -> None:
    """Another system: the seal's fsync does all the work (§3.4)."""
    assert not WritebackPacer(None).due(10 * STEP_BYTES)


def test_a_disk_that_fills_during_writeback_is_storage_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """§3.4: the space refused while a step is written back is a 507, and the staged
    blob is discarded at once."""

    def disk_full(fd: int, offset: int, length: int, flags: int) -> int:
        ctypes.set_errno(errno.ENOSPC)
        return -1

    monkeypatch.setattr(local_module, "_writeback_pacer", lambda: WritebackPacer(disk_full))
    store = LocalBlobStore(tmp_path / "blobs")
    staged = store.stage()
    with pytest.raises(StorageFull):
        staged.write(os.urandom(STEP_BYTES))
    assert list((tmp_path / "blobs" / "tmp").iterdir()) == []
