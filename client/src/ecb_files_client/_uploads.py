"""The files of a submission: where their bytes come from, and how to read them again.

A file is a path, bytes, or a binary file object. Paths are opened afresh for every
attempt and bytes are simply reread; a file object is rewound to where it stood when the
submission began, and one that cannot seek can be sent once only (a retry then raises
:class:`~ecb_files_client.BodyNotRepeatable`). Sizes are known ahead for paths, bytes,
regular files and seekable streams; for any other stream the size is unknown and the
body goes out with chunked transfer encoding.
"""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ecb_files_client import _filetypes as filetypes
from ecb_files_client._checks import FileFacts, file_label
from ecb_files_client._exceptions import BodyNotRepeatable, LocalValidationError


class Readable(Protocol):
    """A binary file object: ``read`` is all that is needed; ``seek``/``tell`` are used
    when present (to rewind for a retry), ``fileno`` to learn a regular file's size."""

    def read(self, size: int, /) -> bytes | None: ...


Source = str | os.PathLike[str] | bytes | bytearray | memoryview | Readable


@dataclass(frozen=True)
class Upload:
    """One file to submit, with its metadata.

    ``source`` is a path (``str`` or ``PathLike``), the bytes themselves, or a binary
    file object (read from its current position). ``file_name`` defaults to the path's
    or the file object's base name (bytes need one); ``content_type`` defaults to the
    canonical type for the extension, from the same table as the server (§4).
    ``is_restricted`` is honoured by submitForCase only, ``is_damage_image`` by
    submitForDamageNotification only; setting either for the other endpoint is refused
    with ``ValueError`` rather than silently dropped.
    """

    source: Source
    file_name: str | None = None
    content_type: str | None = None
    description: str | None = None
    is_restricted: bool = False
    is_damage_image: bool = False


@dataclass(frozen=True)
class UploadInfo:
    """What a progress listener is told of one file."""

    index: int
    file_name: str
    size: int | None


class PreparedFile:
    """An :class:`Upload` with its name, type and size settled, ready to be read."""

    def __init__(self, index: int, upload: Upload) -> None:
        self.index = index
        self.upload = upload
        self.file_name = _file_name(index, upload)
        guessed = filetypes.guess_content_type(self.file_name)
        # A disallowed extension gets a neutral type, so the check names the extension.
        self.content_type = upload.content_type or guessed or filetypes.OCTET_STREAM
        self.description = upload.description
        self.is_restricted = upload.is_restricted
        self.is_damage_image = upload.is_damage_image
        source = upload.source
        self._data = _as_data(source)
        self._stream = _as_stream(source)
        self._path = _as_path(source)
        self._start = None if self._stream is None else _position(self._stream)
        self._reads = 0
        self.size = self._measure()

    @property
    def label(self) -> str:
        return file_label(self.index, self.file_name)

    @property
    def info(self) -> UploadInfo:
        return UploadInfo(self.index, self.file_name, self.size)

    @property
    def facts(self) -> FileFacts:
        return FileFacts(self.file_name, self.content_type, self.size, self.description)

    @property
    def restartable(self) -> bool:
        """Whether the bytes can be read from the start (again) for the next attempt."""
        return self._stream is None or self._start is not None or self._reads == 0

    def _measure(self) -> int | None:
        if self._data is not None:
            return self._data.nbytes
        if self._stream is not None:
            return _stream_size(self._stream, self._start)
        assert self._path is not None
        try:
            info = os.stat(self._path)
        except OSError as error:
            raise self._unreadable(error) from error
        if stat.S_ISDIR(info.st_mode):
            raise LocalValidationError(f"{self.label}: {self._path!r} is a directory")
        if not stat.S_ISREG(info.st_mode):
            # A FIFO or a device is read like a stream of unknown size.
            return None
        return info.st_size

    @contextmanager
    def open(self) -> Iterator[Readable]:
        """The bytes from the start, for one attempt."""
        self._reads += 1
        if self._data is not None:
            yield io.BytesIO(self._data)
            return
        if self._stream is not None:
            if self._reads > 1:
                if self._start is None:
                    raise BodyNotRepeatable(
                        f"{self.label} is a stream that cannot seek, so it cannot be sent "
                        "again; pass a path or a seekable file object to allow retries"
                    )
                _seek(self._stream, self._start)
            yield self._stream  # the caller's object: never closed here
            return
        assert self._path is not None
        try:
            handle = open(self._path, "rb")  # noqa: SIM115 — closed by the with below
        except OSError as error:
            raise self._unreadable(error) from error
        with handle:
            yield handle

    def _unreadable(self, error: OSError) -> LocalValidationError:
        return LocalValidationError(f"{self.label}: cannot read {self._path!r}: {error.strerror}")


def prepare(files: Iterable[Upload | Source]) -> list[PreparedFile]:
    """The files of one submission, each an :class:`Upload`, a path or a file object."""
    if isinstance(files, str | bytes | os.PathLike):
        # One path where a list was meant: iterating it would submit each character.
        raise TypeError("files must be a list of Upload objects, paths or file objects")
    prepared = []
    for index, item in enumerate(files):
        upload = item if isinstance(item, Upload) else Upload(item)
        prepared.append(PreparedFile(index, upload))
    return prepared


def _file_name(index: int, upload: Upload) -> str:
    if upload.file_name is not None:
        return upload.file_name
    source = upload.source
    if _as_data(source) is not None:
        raise ValueError(f"files[{index}]: bytes need a file_name (Upload(data, file_name=...))")
    stream = _as_stream(source)
    if stream is not None:
        name = getattr(stream, "name", None)
        if not isinstance(name, str) or not name:
            raise ValueError(
                f"files[{index}]: a file object without a name needs file_name "
                "(Upload(stream, file_name=...))"
            )
        return Path(name).name
    return Path(_as_path(source) or "").name


def _as_data(source: Source) -> memoryview | None:
    if isinstance(source, bytes | bytearray | memoryview):
        return memoryview(source).cast("B")
    return None


def _as_stream(source: Source) -> Readable | None:
    if isinstance(source, str | bytes | bytearray | memoryview | os.PathLike):
        return None
    return source


def _as_path(source: Source) -> str | None:
    if isinstance(source, str | os.PathLike):
        return os.fsdecode(os.fspath(source))
    return None


def _position(stream: Readable) -> int | None:
    """Where a seekable stream stands now (its start for every attempt), else None."""
    seekable, tell = getattr(stream, "seekable", None), getattr(stream, "tell", None)
    with suppress(OSError, ValueError, TypeError):
        if callable(seekable) and callable(tell) and seekable():
            return int(tell())
    return None


def _seek(stream: Readable, offset: int, whence: int = io.SEEK_SET) -> int:
    seek = getattr(stream, "seek", None)
    if not callable(seek):
        raise OSError("the stream cannot seek")
    return int(seek(offset, whence))


def _stream_size(stream: Readable, start: int | None) -> int | None:
    fileno = getattr(stream, "fileno", None)
    with suppress(OSError, ValueError, TypeError):
        if callable(fileno) and start is not None:
            info = os.fstat(fileno())
            if stat.S_ISREG(info.st_mode):
                return max(info.st_size - start, 0)
    if start is None:
        return None
    with suppress(OSError, ValueError, TypeError):
        end = _seek(stream, 0, io.SEEK_END)
        _seek(stream, start)
        return max(end - start, 0)
    return None
