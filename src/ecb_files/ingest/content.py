"""One file's content: touch the bytes once (§3.1, §3.4, §6, §10.1).

Each slice of a file's content goes, in one pass, through base64 decoding (for a JSON
``content`` string or a part sent with ``Content-Transfer-Encoding: base64``; raw
multipart bytes skip it) → the size count (refused the moment it passes
``maxFileBytes``, before the slice is hashed or written) → SHA-256 → the
:class:`~ecb_files.ingest.sink.BlobSink`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from ecb_files.config import Limits
from ecb_files.errors import InvalidRequest, PayloadTooLarge
from ecb_files.ingest.base64_stream import Base64Error, Base64StreamDecoder
from ecb_files.ingest.sink import BlobSink


class FileContent:
    """Decode (optionally), measure, hash and store one file's content as it streams.

    ``label`` renders the file for messages (``payload.files[2] ('photo.jpg')``); it is
    called only when a fault is found, so it can name a ``fileName`` that comes after
    ``content`` in the object. ``field`` follows the label in messages about the
    content itself (``.content`` for the JSON member). Call :meth:`write` for every
    slice (JSON escapes already resolved), then :meth:`finish` when the content ends.
    With ``base64=False`` the slices are the file's bytes as they are.
    """

    __slots__ = (
        "_decoder",
        "_field",
        "_hash",
        "_label",
        "_max_bytes",
        "_sha256",
        "_sink",
        "_size",
    )

    def __init__(
        self,
        limits: Limits,
        sink: BlobSink,
        label: Callable[[], str],
        *,
        base64: bool = True,
        field: str = ".content",
    ) -> None:
        self._max_bytes = limits.max_file_bytes
        self._sink = sink
        self._label = label
        self._field = field
        self._decoder = Base64StreamDecoder() if base64 else None
        self._hash = hashlib.sha256()
        self._size = 0
        self._sha256: str | None = None

    @property
    def size(self) -> int:
        """Decoded bytes so far (the file's size once finished)."""
        return self._size

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the decoded bytes; available after :meth:`finish`."""
        if self._sha256 is None:
            raise RuntimeError("the content has not finished yet")
        return self._sha256

    def write(self, data: bytes) -> None:
        if self._decoder is None:
            self._take(data)
            return
        try:
            decoded = self._decoder.decode(data)
        except Base64Error as exc:
            # Bytes before the fault were met first: they may pass the size bound.
            if exc.decoded:
                self._take(exc.decoded)
            raise self._invalid_base64(exc) from None
        if decoded:
            self._take(decoded)

    def finish(self) -> None:
        """The content has ended: decode its last group, refuse an empty file, seal."""
        if self._decoder is not None:
            try:
                decoded = self._decoder.finish()
            except Base64Error as exc:
                raise self._invalid_base64(exc) from None
            if decoded:
                self._take(decoded)
        if self._size == 0:
            what = "decodes to 0 bytes" if self._decoder is not None else "is empty"
            raise InvalidRequest(
                f"{self._label()}{self._field}: {what}; at least 1 byte is required",
                reason="empty_file",
            )
        self._sha256 = self._hash.hexdigest()
        self._sink.seal()

    def _take(self, decoded: bytes) -> None:
        self._size += len(decoded)
        if self._size > self._max_bytes:
            raise PayloadTooLarge(
                f"{self._label()}: the file is larger than maxFileBytes {self._max_bytes} bytes",
                reason="file_too_large",
            )
        self._hash.update(decoded)
        self._sink.write(decoded)

    def _invalid_base64(self, exc: Base64Error) -> InvalidRequest:
        return InvalidRequest(f"{self._label()}{self._field}: {exc}", reason="invalid_base64")
