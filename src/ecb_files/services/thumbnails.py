"""Thumbnails of image files (§11.2 ``…/thumbnail?size=N``): made once, then kept.

A thumbnail is made on its first request (``media/thumbnails.py``: a JPEG whose longer
side is N, EXIF orientation applied) and kept as a blob in the store, named by a row of
its own (``db/thumbnails.py``, one per file and size). Later requests read that blob.
When a file's row goes, its thumbnail rows go with it (a cascade), and ``ecb-files gc``
removes the blobs no row names any more. Two first requests at once, in one process or
several, may both make it: one row wins, and the other request drops its own blob.

The image is decoded from a seekable source: a local blob is read in place, a small
file from its row; an S3 object is first copied to a temporary file (in memory up to
``SPOOL_IN_MEMORY_BYTES``). Every method blocks: call it from a worker thread.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO

from ecb_files.db import Database, thumbnails
from ecb_files.errors import FileNotFound, InvalidRequest, UnprocessableContent
from ecb_files.media.thumbnails import MEDIA_TYPE, ImageRefused, make_thumbnail
from ecb_files.services.content import FileContent, StoredContent
from ecb_files.storage import BlobStore

log = logging.getLogger("ecb_files.services")

#: The extensions a thumbnail is made for (§11.2); other files answer 404.
IMAGE_EXTENSIONS = frozenset(
    {"jpg", "jpeg", "jpe", "png", "gif", "bmp", "tif", "tiff", "heic", "avif"}
)
SMALLEST_SIDE = 64
LARGEST_SIDE = 1024
DEFAULT_SIDE = 256
SPOOL_IN_MEMORY_BYTES = 8 * 1024 * 1024
#: Images decoded at once per process: decoding may take hundreds of MB
#: (``media/thumbnails.py``), and the worker threads are shared with the uploads.
CONCURRENT_DECODES = 2


@dataclass(frozen=True)
class ThumbnailImage:
    content: bytes
    media_type: str
    etag: str


def has_thumbnail(file_name: str) -> bool:
    return "." in file_name and file_name.rsplit(".", 1)[1].lower() in IMAGE_EXTENSIONS


def longest_side_of(size: str | None) -> int:
    """The ``size`` query parameter as a number of pixels; ``InvalidRequest`` if it is
    not a whole number from 64 to 1024."""
    if size is None:
        return DEFAULT_SIDE
    if not size.isascii() or not size.isdigit() or not (SMALLEST_SIDE <= int(size) <= LARGEST_SIDE):
        raise InvalidRequest(
            f"size: must be a whole number of pixels from {SMALLEST_SIDE} to {LARGEST_SIDE}"
        )
    return int(size)


class Thumbnails:
    def __init__(
        self,
        database: Database,
        store: BlobStore,
        content: FileContent,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._database = database
        self._store = store
        self._content = content
        self._clock = clock
        self._decoding = threading.BoundedSemaphore(CONCURRENT_DECODES)

    def get(self, file: StoredContent, longest_side: int) -> ThumbnailImage:
        """The thumbnail of ``file`` (one the reader may see) whose longer side is
        ``longest_side``. ``FileNotFound`` for a file that is not an image of §11.2's
        kinds; ``UnprocessableContent`` when its bytes cannot be made into one."""
        if not has_thumbnail(file.file_name):
            raise FileNotFound(f"file {file.id} is not an image: it has no thumbnail")
        etag = f'"{file.sha256.lower()}-{longest_side}"'
        kept = self._kept(file, longest_side)
        if kept is None:
            kept = self._make_and_keep(file, longest_side)
        return ThumbnailImage(kept, MEDIA_TYPE, etag)

    def _kept(self, file: StoredContent, longest_side: int) -> bytes | None:
        with self._database.read() as unit:
            blob_id = thumbnails.find(unit, file.id, longest_side)
        if blob_id is None:
            return None
        try:
            with self._store.open_range(blob_id, 0, None) as chunks:
                return b"".join(chunks)
        except FileNotFoundError:
            # Its row is there, its blob is not (restored from a backup without the
            # blobs, say): made anew below, under a row that already exists.
            log.warning("thumbnail blob %s of file %s is missing; making it anew", blob_id, file.id)
            return self._make(file, longest_side)

    def _make_and_keep(self, file: StoredContent, longest_side: int) -> bytes:
        image = self._make(file, longest_side)
        staged = self._store.stage()
        try:
            staged.write(image)
            staged.seal()
            staged.publish()
            kept = thumbnails.keep(
                self._database,
                file.id,
                longest_side,
                blob_id=staged.blob_id,
                size=len(image),
                now=self._clock(),
            )
        except BaseException:
            staged.abort()
            raise
        if kept != staged.blob_id:
            staged.abort()  # another request kept the same thumbnail first
        return image

    def _make(self, file: StoredContent, longest_side: int) -> bytes:
        with self._decoding, self._seekable(file) as source:
            try:
                return make_thumbnail(source, longest_side)
            except ImageRefused as refusal:
                raise UnprocessableContent(
                    f"file {file.id}: {refusal}", reason="thumbnail_refused"
                ) from None

    def _seekable(self, file: StoredContent) -> BinaryIO:
        source = self._content.open_file(file)
        if source.seekable():
            return source
        with source:
            spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY_BYTES)  # noqa: SIM115
            try:
                shutil.copyfileobj(source, spool, length=1024 * 1024)
                spool.seek(0)
            except BaseException:
                spool.close()
                raise
            return spool  # type: ignore[return-value]  # a BinaryIO in all but name
