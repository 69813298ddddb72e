"""LocalBlobStore specifics: layout, durability (fsync), and error mapping (§3.4)."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO, cast

import pytest

from ecb_files.storage import LocalBlobStore, StorageFull, StorageUnavailable
from ecb_files.storage import local as local_module

KIB = 1024


@pytest.fixture
def store(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


def put(store: LocalBlobStore, data: bytes) -> str:
    staged = store.stage()
    staged.write(data)
    staged.seal()
    staged.publish()
    return staged.blob_id


def write_and_seal(store: LocalBlobStore, *chunks: bytes) -> None:
    staged = store.stage()
    try:
        for chunk in chunks:
            staged.write(chunk)
        staged.seal()
    finally:
        staged.abort()


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


# --- layout ---------------------------------------------------------------------------


def test_a_staged_blob_is_a_part_file_in_tmp(store: LocalBlobStore) -> None:
    """Layout: root/tmp/<id>.part while staged."""
    staged = store.stage()
    staged.write(b"abc")
    assert files_under(store.root) == [store.root / "tmp" / f"{staged.blob_id}.part"]
    staged.abort()


def test_a_published_blob_lives_in_its_fan_out_directory(store: LocalBlobStore) -> None:
    """Layout: root/<id[:2]>/<id> once published; tmp/ is empty again."""
    blob_id = put(store, b"abc")
    assert files_under(store.root) == [store.root / blob_id[:2] / blob_id]
    assert (store.root / blob_id[:2] / blob_id).read_bytes() == b"abc"


def test_the_store_creates_its_root_and_tmp(tmp_path: Path) -> None:
    """§8: the storage directory is created if missing."""
    root = tmp_path / "a" / "b" / "blobs"
    LocalBlobStore(root)
    assert (root / "tmp").is_dir()


def test_a_root_that_is_a_file_is_unavailable(tmp_path: Path) -> None:
    """§8 /readyz: a storage path that cannot be a directory is reported, not crashed on."""
    root = tmp_path / "blobs"
    root.write_bytes(b"not a directory")
    with pytest.raises(StorageUnavailable):
        LocalBlobStore(root)


def test_iter_blobs_ignores_what_is_not_a_blob(store: LocalBlobStore) -> None:
    """§5 gc: only files named like blobs, in the right fan-out directory, are listed."""
    blob_id = put(store, b"real")
    other = "ab" + blob_id[2:] if not blob_id.startswith("ab") else "cd" + blob_id[2:]
    (store.root / "README").write_text("operator notes")
    (store.root / blob_id[:2] / "junk").write_text("x")
    (store.root / blob_id[:2] / other).write_text("in the wrong fan-out directory")
    (store.root / "zz").mkdir()
    (store.root / "zz" / ("f" * 32)).write_text("bad fan-out name")
    (store.root / blob_id[:2] / (blob_id[:2] + "0" * 30)).mkdir()
    assert [info.blob_id for info in store.iter_blobs()] == [blob_id]


def test_remove_stale_staging_ignores_foreign_files_in_tmp(store: LocalBlobStore) -> None:
    """§5 gc: only our own temp files are removed, however old the others are."""
    foreign = store.root / "tmp" / "keep-me.txt"
    foreign.write_text("not ours")
    staged = store.stage()
    staged.write(b"x")
    long_ago = time.time() - 86_400
    for path in (foreign, store.part_path(staged.blob_id)):
        os.utime(path, (long_ago, long_ago))
    assert store.remove_stale_staging(3600) == 1
    assert foreign.exists()
    staged.abort()


def test_publishing_restarts_the_age_gc_counts_from(store: LocalBlobStore) -> None:
    """§5 gc --min-age: a blob whose upload began long ago is young once published, so gc
    cannot take it for an orphan before the request commits."""
    staged = store.stage()
    staged.write(b"slow upload")
    long_ago = time.time() - 7200
    os.utime(store.part_path(staged.blob_id), (long_ago, long_ago))
    staged.seal()
    staged.publish()
    (info,) = store.iter_blobs()
    assert info.modified > datetime.now(UTC) - timedelta(minutes=1)


def test_the_error_message_names_no_path(store: LocalBlobStore, tmp_path: Path) -> None:
    """§3.2: descriptions never contain a file-system path."""
    (store.root / "tmp").rmdir()
    with pytest.raises(StorageUnavailable) as caught:
        store.stage()
    assert str(tmp_path) not in str(caught.value)
    assert "tmp" not in str(caught.value)


# --- durability -----------------------------------------------------------------------


class FsyncSpy:
    def __init__(self) -> None:
        self.kinds: list[str] = []
        self.dirs: list[tuple[int, int]] = []  # (st_dev, st_ino) of fsync'd directories

    def __call__(self, fd: int) -> None:
        st = os.fstat(fd)
        self.kinds.append("dir" if stat.S_ISDIR(st.st_mode) else "file")
        if stat.S_ISDIR(st.st_mode):
            self.dirs.append((st.st_dev, st.st_ino))
        _real_fsync(fd)


_real_fsync = os.fsync


def ident(path: Path) -> tuple[int, int]:
    st = path.stat()
    return (st.st_dev, st.st_ino)


@pytest.fixture
def fsyncs(monkeypatch: pytest.MonkeyPatch) -> FsyncSpy:
    spy = FsyncSpy()
    monkeypatch.setattr(os, "fsync", spy)
    return spy


def test_seal_fsyncs_the_file(store: LocalBlobStore, fsyncs: FsyncSpy) -> None:
    """§3.4 durable before 200: the bytes are fsync'd before the blob can be published."""
    staged = store.stage()
    staged.write(b"x" * 100)
    staged.seal()
    assert fsyncs.kinds == ["file"]
    staged.abort()


def test_publish_fsyncs_the_fan_out_directory(store: LocalBlobStore, fsyncs: FsyncSpy) -> None:
    """§3.4 durable before 200: the rename is made durable by an fsync of its directory."""
    staged = store.stage()
    staged.write(b"x")
    staged.seal()
    fsyncs.kinds.clear()
    staged.publish()
    fanout = store.root / staged.blob_id[:2]
    assert fsyncs.dirs[-1] == ident(fanout)


def test_a_new_fan_out_directory_is_made_durable_in_root(
    store: LocalBlobStore, fsyncs: FsyncSpy
) -> None:
    """§3.4: a fan-out directory created on demand has its parent (root) fsync'd."""
    staged = store.stage()
    staged.seal()
    staged.publish()
    assert ident(store.root) in fsyncs.dirs
    assert fsyncs.dirs.index(ident(store.root)) < fsyncs.dirs.index(
        ident(store.root / staged.blob_id[:2])
    )


def test_a_fan_out_directory_made_by_another_process_is_synced_once(
    store: LocalBlobStore, fsyncs: FsyncSpy
) -> None:
    """§3.4: a directory another process created may not be durable yet: sync root, once."""
    fanout = store.root / "ab"
    fanout.mkdir()
    store.ensure_fanout_dir(fanout)
    store.ensure_fanout_dir(fanout)
    assert fsyncs.dirs == [ident(store.root)]


def blob_ids(monkeypatch: pytest.MonkeyPatch, *ids: str) -> None:
    """The store's next staged blobs get ``ids`` (to place two in one fan-out directory)."""
    queue = iter(ids)
    monkeypatch.setattr(local_module, "new_blob_id", lambda: next(queue))


def test_publishing_into_a_fan_out_directory_removed_behind_the_stores_back(
    store: LocalBlobStore, monkeypatch: pytest.MonkeyPatch, fsyncs: FsyncSpy
) -> None:
    """§3.4: the store remembers the fan-out directories it made durable; one that an
    operator removed since is made again (and durable again) by the next publish."""
    first, second = "ab" + "0" * 30, "ab" + "1" * 30
    blob_ids(monkeypatch, first, second)
    assert put(store, b"first") == first
    fanout = store.root / "ab"
    (fanout / first).unlink()
    fanout.rmdir()
    fsyncs.dirs.clear()
    assert put(store, b"second") == second
    assert (fanout / second).read_bytes() == b"second"
    assert files_under(store.root) == [fanout / second]
    assert ident(store.root) in fsyncs.dirs  # the new directory's entry is durable
    assert fsyncs.dirs[-1] == ident(fanout)  # and so is the rename into it


def test_a_known_fan_out_directory_is_not_made_again(
    store: LocalBlobStore, monkeypatch: pytest.MonkeyPatch, fsyncs: FsyncSpy
) -> None:
    """A second blob in a fan-out directory the store made needs no mkdir and no fsync
    of the root: only the rename is made durable."""
    blob_ids(monkeypatch, "cd" + "0" * 30, "cd" + "1" * 30)
    put(store, b"first")
    fsyncs.dirs.clear()
    made: list[Path] = []
    real_mkdir = Path.mkdir

    def spy_mkdir(self: Path, *args: object, **kwargs: object) -> None:
        made.append(self)
        real_mkdir(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "mkdir", spy_mkdir)
    put(store, b"second")
    assert made == []
    assert fsyncs.dirs == [ident(store.root / "cd")]


# --- errors through a seam: a file that fails like a full disk or a broken one -----------


class FailingFile:
    """Writes go to a real temp file until ``fail_on`` is called, then raise ``error``."""

    def __init__(self, real: BinaryIO, fail_on: str, error: OSError) -> None:
        self._real = real
        self._fail_on = fail_on
        self._error = error

    def write(self, data: bytes) -> int:
        if self._fail_on == "write":
            raise self._error
        return self._real.write(data)

    def flush(self) -> None:
        if self._fail_on == "flush":
            raise self._error
        self._real.flush()

    def fileno(self) -> int:
        return self._real.fileno()

    def close(self) -> None:
        self._real.close()


def install_failing_file(monkeypatch: pytest.MonkeyPatch, fail_on: str, error: OSError) -> None:
    real_open = local_module._open_part

    def open_failing(path: Path) -> BinaryIO:
        return cast(BinaryIO, FailingFile(real_open(path), fail_on, error))

    monkeypatch.setattr(local_module, "_open_part", open_failing)


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT], ids=["ENOSPC", "EDQUOT"])
def test_a_space_error_on_write_becomes_storage_full_and_leaves_nothing(
    store: LocalBlobStore, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    """§3.4 storage full: ENOSPC/EDQUOT → StorageFull (507), and the temp file is gone."""
    install_failing_file(monkeypatch, "write", OSError(code, os.strerror(code)))
    staged = store.stage()
    with pytest.raises(StorageFull):
        staged.write(b"x" * 10)
    assert files_under(store.root) == []
    staged.abort()


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT], ids=["ENOSPC", "EDQUOT"])
def test_a_space_error_on_seal_becomes_storage_full_and_leaves_nothing(
    store: LocalBlobStore, monkeypatch: pytest.MonkeyPatch, code: int
) -> None:
    """§3.4 storage full: space refused only when flushing (delayed allocation, quotas)."""
    install_failing_file(monkeypatch, "flush", OSError(code, os.strerror(code)))
    staged = store.stage()
    staged.write(b"x" * 10)
    with pytest.raises(StorageFull):
        staged.seal()
    assert files_under(store.root) == []
    staged.abort()


def test_other_io_errors_become_storage_unavailable_and_leave_nothing(
    store: LocalBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """§3.2: a failing disk is a 503, not a 507, and nothing remains."""
    install_failing_file(monkeypatch, "write", OSError(errno.EIO, os.strerror(errno.EIO)))
    staged = store.stage()
    with pytest.raises(StorageUnavailable):
        staged.write(b"x")
    assert files_under(store.root) == []


def test_a_failed_publish_leaves_nothing(
    store: LocalBlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """§3.4: if the rename cannot be made durable, the blob does not stay published."""
    staged = store.stage()
    staged.write(b"x")
    staged.seal()

    def broken_fsync_dir(path: Path) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(local_module, "_fsync_dir", broken_fsync_dir)
    with pytest.raises(StorageUnavailable):
        staged.publish()
    assert files_under(store.root) == []
    staged.abort()


# --- errors on a real, small file system -------------------------------------------------


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs; needs root and the right to mount (skipped elsewhere)."""
    mountpoint = tmp_path / "small"
    mountpoint.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mountpoint)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield mountpoint
    finally:
        if subprocess.run(["umount", str(mountpoint)], check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(mountpoint)], check=False)


def test_a_full_disk_raises_storage_full_and_leaves_nothing(small_fs: Path) -> None:
    """§3.4 storage full: a real ENOSPC → StorageFull, and the partial file is removed."""
    store = LocalBlobStore(small_fs / "blobs")
    with pytest.raises(StorageFull):
        write_and_seal(store, *[b"\xab" * (256 * KIB)] * 8)
    assert files_under(store.root) == []


def test_uploads_succeed_again_once_space_is_freed(small_fs: Path) -> None:
    """§3.4: the service accepts uploads again as soon as space is freed."""
    store = LocalBlobStore(small_fs / "blobs")
    filler = put(store, b"f" * (900 * KIB))
    with pytest.raises(StorageFull):
        write_and_seal(store, b"y" * (300 * KIB))
    store.delete(filler)
    blob_id = put(store, b"y" * (300 * KIB))
    with store.open(blob_id) as f:
        assert f.read() == b"y" * (300 * KIB)


def test_check_fails_on_a_read_only_file_system(small_fs: Path) -> None:
    """§8 /readyz: storage that cannot take writes is not ready."""
    store = LocalBlobStore(small_fs / "blobs")
    store.check()
    subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], check=True)
    with pytest.raises(StorageUnavailable):
        store.check()
    with pytest.raises(StorageUnavailable):
        store.stage()


def test_check_fails_when_the_directory_is_gone(store: LocalBlobStore) -> None:
    """§8 /readyz: a vanished storage directory is reported."""
    (store.root / "tmp").rmdir()
    with pytest.raises(StorageUnavailable, match="missing"):
        store.check()
