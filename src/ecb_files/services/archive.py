"""A ZIP of files, streamed as it is written (§11.3 "download all"; the API's
``…/case/{caseId}/files.zip``).

No temporary copy and no seeking: ``zipfile`` writes to a sink that cannot seek, so
each entry carries its sizes and CRC in a data descriptor after its bytes, and the
archive is handed on chunk by chunk as each file's bytes are read (``FileContent``).
Entries are stored, not compressed: photos, PDFs and Office files are compressed
already, and the archive then streams at the speed of the reads. ZIP64 records are
used where a file or the archive outgrows the classic format's 4 GiB.

Entry names are the files' names, made unique (case-insensitively, as Windows and
macOS extract them): the second ``photo.jpg`` becomes ``photo (2).jpg``.

Which files go in is the caller's choice: those the reader sees
(``services/visibility.py``). Reading blocks: call ``read_chunk`` from a worker thread.
"""

from __future__ import annotations

import re
import uuid
import zipfile
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC

from ecb_files.services.content import FileContent, StoredContent
from ecb_files.services.pagination import MAX_LIMIT, PageRequest, decode_cursor
from ecb_files.services.read_models import FileView
from ecb_files.services.reading import Reader
from ecb_files.services.visibility import Viewer

_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


def unique_entry_names(file_names: Iterable[str]) -> list[str]:
    """The names in order, each made unique by a `` (n)`` before its extension."""
    taken: set[str] = set()
    unique: list[str] = []
    for name in file_names:
        stem, dot, extension = name.rpartition(".")
        if not stem:  # no dot, or only a leading one: the number goes at the end
            stem, dot, extension = name, "", ""
        candidate, number = name, 1
        while candidate.casefold() in taken:
            number += 1
            candidate = f"{stem} ({number}){dot}{extension}"
        taken.add(candidate.casefold())
        unique.append(candidate)
    return unique


class _Sink:
    """Where ``zipfile`` writes: it collects the bytes until they are taken. It can
    ``tell`` but not ``seek``, which puts ``zipfile`` in its streaming mode."""

    def __init__(self) -> None:
        self._pending: list[bytes] = []
        self._position = 0

    def write(self, data: bytes, /) -> int:
        if data:
            self._pending.append(bytes(data))
            self._position += len(data)
        return len(data)

    def tell(self) -> int:
        return self._position

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass

    def take(self) -> bytes:
        taken = b"".join(self._pending)
        self._pending = []
        return taken


class ZipStream:
    """The ZIP of ``files``, produced one chunk per ``read_chunk`` (``b""`` at the end).

    Holds at most one chunk of a file's bytes, plus the entry headers around it.
    ``close`` releases the file being read if the download stops early.
    """

    def __init__(self, content: FileContent, files: Sequence[StoredContent]) -> None:
        self._chunks = self._produce(content, files)

    def read_chunk(self) -> bytes:
        # Some steps write nothing (an entry's first read): ask until there is output.
        for chunk in self._chunks:
            if chunk:
                return chunk
        return b""

    def close(self) -> None:
        self._chunks.close()

    @staticmethod
    def _produce(
        content: FileContent, files: Sequence[StoredContent]
    ) -> Generator[bytes, None, None]:
        sink = _Sink()
        names = unique_entry_names(file.file_name for file in files)
        with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:
            for file, name in zip(files, names, strict=True):
                entry = zipfile.ZipInfo(name, _zip_time(file))
                entry.compress_type = zipfile.ZIP_STORED
                # The size decides whether the entry needs ZIP64 fields before its bytes.
                entry.file_size = file.size
                with content.open(file) as chunks, archive.open(entry, "w") as member:
                    for chunk in chunks:
                        member.write(chunk)
                        yield sink.take()
                yield sink.take()
        yield sink.take()


def _zip_time(file: StoredContent) -> tuple[int, int, int, int, int, int]:
    moment = file.created_at.astimezone(UTC)
    stamp = (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)
    return max(stamp, _ZIP_EPOCH)


@dataclass
class CaseArchive:
    """The ZIP of the files a viewer sees on a case, and the name to save it under."""

    file_name: str
    stream: ZipStream
    files: list[FileView]


class CaseArchives:
    """ZIPs of a case's files for the API (``…/case/{caseId}/files.zip``) and the page."""

    def __init__(self, reader: Reader, content: FileContent) -> None:
        self._reader = reader
        self._content = content

    def open(self, viewer: Viewer, case_id: uuid.UUID) -> CaseArchive:
        """``ClaimNotFound`` for a case the viewer does not see; else its visible files,
        oldest first (so a repeated name's later file gets the `` (2)``)."""
        case = self._reader.case(viewer, case_id)
        files = self._visible_files(viewer, case_id)
        files.reverse()  # the lists are newest first
        if files:
            # Once the 200 has gone out, a store that is down can only cut the download:
            # asking first turns an outage already there into a 503 with Retry-After.
            self._content.check_store()
        return CaseArchive(
            f"case-{_name_safe(case.number)}.zip", ZipStream(self._content, files), files
        )

    def _visible_files(self, viewer: Viewer, case_id: uuid.UUID) -> list[FileView]:
        found: list[FileView] = []
        request = PageRequest(limit=MAX_LIMIT)
        while True:
            page = self._reader.case_files(viewer, case_id, request)
            found.extend(page.items)
            if page.next_cursor is None:
                return found
            request = PageRequest(limit=MAX_LIMIT, after=decode_cursor(page.next_cursor))


def _name_safe(number: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", number).strip("._") or "files"
