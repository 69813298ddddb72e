"""Writing a large file back to disk as it grows, instead of all at once at its fsync.

A staged blob is made durable by one fsync when it is sealed. Left to itself, the
kernel holds a 100 MiB upload's pages in memory until then, and the fsync puts all of
them in the disk's queue at once: every small submission committed meanwhile waits
behind that queue for its own log flush (tens to hundreds of milliseconds, the head-of-
line row of bench/README.md). ``WritebackPacer`` starts the writeback of each
``STEP_BYTES`` the moment it is written and lets at most one step be in flight, so the
queue stays short and the last fsync has little left to do.

Linux's ``sync_file_range`` does this; the standard library does not offer it, so it
is called through ``ctypes``. Where it is missing (another system) or refused (a file
system that does not support it), the pacer does nothing and the fsync at the seal does
all the work, as before. ``sync_file_range`` makes nothing durable by itself: the seal's
fsync still decides when a blob is on disk.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
from collections.abc import Callable

STEP_BYTES = 4 * 1024 * 1024

# <linux/fs.h>
_WAIT_BEFORE = 1
_WRITE = 2

# What a file system that cannot do it answers; the seal's fsync does the work instead.
_UNSUPPORTED = frozenset({errno.ENOSYS, errno.EINVAL, errno.ESPIPE, errno.EOPNOTSUPP})

SyncFileRange = Callable[[int, int, int, int], int]


def _load_sync_file_range() -> SyncFileRange | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        function = ctypes.CDLL(name, use_errno=True).sync_file_range
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    function.restype = ctypes.c_int
    return function


_sync_file_range = _load_sync_file_range()


class WritebackPacer:
    """For one file written front to back: ``written(fd, size)`` after each write, with
    the file's size so far (everything up to it handed to the kernel, not buffered)."""

    def __init__(self, sync_file_range: SyncFileRange | None = _sync_file_range) -> None:
        self._sync_file_range = sync_file_range
        self._started = 0  # bytes whose writeback has been started

    def due(self, size: int) -> bool:
        """Whether ``written`` has a step to start at ``size`` (the caller flushes first)."""
        return self._sync_file_range is not None and size - self._started >= STEP_BYTES

    def written(self, fd: int, size: int) -> None:
        """Wait for the steps started before, then start the writeback up to ``size``."""
        if not self.due(size):
            return
        if self._started and not self._call(fd, 0, self._started, _WAIT_BEFORE):
            return
        if self._call(fd, self._started, size - self._started, _WRITE):
            self._started = size

    def _call(self, fd: int, offset: int, length: int, flags: int) -> bool:
        assert self._sync_file_range is not None
        if self._sync_file_range(fd, offset, length, flags) == 0:
            return True
        code = ctypes.get_errno()
        if code in _UNSUPPORTED:
            self._sync_file_range = None  # left to the seal's fsync from now on
            return False
        raise OSError(code, os.strerror(code))
