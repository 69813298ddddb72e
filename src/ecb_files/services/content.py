"""A file's stored bytes, for downloads (§11.2 ``…/content``), thumbnails and ZIPs.

The bytes live in one of two places (``storage/small_blobs.py``): a small file's in
the database with its row, every other file's in the blob store. ``FileContent.open``
hides which, and reads either way in bounded chunks; ``FileContent.download`` adds
the HTTP decisions of ``domain/downloads.py`` (304, 206, 416, headers).

Who may read a file is not decided here: callers pass a file the reader may see
(``services/visibility.py``). Every method blocks (database, disk, S3): call it from a
worker thread, and read the returned ``BlobRange`` there too.
"""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO, Protocol

from ecb_files.db import Database, files
from ecb_files.domain.downloads import (
    ByteRange,
    Unsatisfiable,
    content_disposition,
    etag_matches,
    etag_of,
    parse_range,
    range_still_applies,
    runs_in_a_browser,
    served_media_type,
)
from ecb_files.errors import GenericError, RangeNotSatisfiable
from ecb_files.storage import BlobRange, BlobStore

log = logging.getLogger("ecb_files.services")


class StoredContent(Protocol):
    """What reading a file needs of its record (a visible file row has it)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def file_name(self) -> str: ...
    @property
    def content_type(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def sha256(self) -> str: ...
    @property
    def blob_id(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...


@dataclass(frozen=True)
class DownloadRequest:
    """The request headers a download depends on."""

    range: str | None = None
    if_none_match: str | None = None
    if_range: str | None = None


@dataclass
class Download:
    """A download's answer: status, headers and, unless 304, the bytes to send."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: BlobRange | None = None


# Inline display is offered only for passive types a browser previews well (the page's
# image and PDF previews); everything else is an attachment.
_INLINE_PREFIXES = ("image/", "application/pdf")


class FileContent:
    def __init__(self, database: Database, store: BlobStore) -> None:
        self._database = database
        self._store = store

    def open(self, file: StoredContent, start: int = 0, length: int | None = None) -> BlobRange:
        """Bytes ``start`` … ``start + length`` (to the end if ``None``) of ``file``.

        A blob missing from the store while its row exists is a broken deployment, not
        a missing file: ``GenericError`` (500), logged with the ids.
        """
        if length is None:
            length = file.size - start
        with self._database.read() as unit:
            kept = files.small_file_content(unit, file.blob_id)
        if kept is not None:
            return BlobRange(io.BytesIO(kept[start : start + length]), length)
        try:
            return self._store.open_range(file.blob_id, start, length)
        except FileNotFoundError:
            raise _blob_missing(file) from None

    def check_store(self) -> None:
        """Return if the blob store answers, else ``StorageUnavailable``."""
        self._store.check()

    def open_file(self, file: StoredContent) -> BinaryIO:
        """The whole of ``file`` as a file object: seekable for a small file or a local
        blob, a forward-only stream for an S3 object."""
        with self._database.read() as unit:
            kept = files.small_file_content(unit, file.blob_id)
        if kept is not None:
            return io.BytesIO(kept)
        try:
            return self._store.open(file.blob_id)
        except FileNotFoundError:
            raise _blob_missing(file) from None

    def download(
        self,
        file: StoredContent,
        request: DownloadRequest,
        *,
        inline: bool = False,
        before_sending: Callable[[str], None] | None = None,
    ) -> Download:
        """The answer to a ``GET`` of ``file``'s content (§11.2; ``domain/downloads.py``).

        ``inline``: let a browser show it in place (the page's previews) — honoured for
        images and PDFs that run nothing, else the answer stays an attachment.
        ``before_sending(detail)``: called once the answer will carry bytes (not for a
        304 or a 416), before any is read — the audit trail's record (§12.3); ``detail``
        names the range sent, if only part of the file is.
        """
        etag = etag_of(file.sha256)
        headers = {
            "ETag": etag,
            "Accept-Ranges": "bytes",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-cache",
        }
        if etag_matches(request.if_none_match, etag):
            return Download(304, headers)
        media_type = served_media_type(file.content_type)
        active = runs_in_a_browser(file.content_type, file.file_name)
        if active:
            headers["Content-Security-Policy"] = "sandbox"
        if inline and not active and media_type.startswith(_INLINE_PREFIXES):
            headers["Content-Disposition"] = content_disposition(file.file_name).replace(
                "attachment", "inline", 1
            )
        else:
            headers["Content-Disposition"] = content_disposition(file.file_name)
        headers["Content-Type"] = media_type
        wanted = self._range(file, request, etag)
        if before_sending is not None:
            before_sending("" if wanted is None else wanted.content_range)
        if wanted is None:
            headers["Content-Length"] = str(file.size)
            return Download(200, headers, self.open(file))
        headers["Content-Length"] = str(wanted.length)
        headers["Content-Range"] = wanted.content_range
        return Download(206, headers, self.open(file, wanted.start, wanted.length))

    @staticmethod
    def _range(file: StoredContent, request: DownloadRequest, etag: str) -> ByteRange | None:
        if not range_still_applies(request.if_range, etag):
            return None
        try:
            return parse_range(request.range, file.size)
        except Unsatisfiable:
            raise RangeNotSatisfiable(
                f"range {request.range!r} lies outside the file's {file.size} bytes",
                size=file.size,
            ) from None


def _blob_missing(file: StoredContent) -> GenericError:
    log.error("file %s: its blob %s is missing from the store", file.id, file.blob_id)
    return GenericError(f"the stored content of file {file.id} is missing", reason="blob_missing")
