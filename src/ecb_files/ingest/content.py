"""One file's content: touch the bytes once (§3.1, §3.4, §6, §10.1).

Each slice of a file's content goes, in one pass, through base64 decoding (for a JSON
``content`` string or a part sent with ``Content-Transfer-Encoding: base64``; raw
multipart bytes skip it) → the size count (refused the moment it passes
``maxFileBytes``, before the slice is hashed or written) → SHA-256 → the
:class:`~ecb_files.ingest.sink.BlobSink` and, when the service scans for malware, the
file's :class:`~ecb_files.ingest.sink.ContentScan` (§12.1).

The first bytes (``domain.signatures.HEAD_BYTES`` at most) are kept aside until the
file is complete: what they are is judged against the file's name then (the name may
come after the content), and what is found is reported after step 3.5 (§9).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from ecb_files.config import Limits
from ecb_files.domain import filetypes, signatures
from ecb_files.errors import InvalidRequest, PayloadTooLarge
from ecb_files.ingest.base64_stream import Base64Error, Base64StreamDecoder
from ecb_files.ingest.sink import BlobSink, ContentScan


@dataclass(frozen=True, slots=True)
class ContentFindings:
    """What §12.1 found inside one file, reported after step 3.5 of §3.2.

    ``problem``: why its first bytes do not fit its name (→ 415), or ``None``.
    ``scan``: its malware scan, whose :meth:`malware` verdict may still be on its way.
    """

    problem: str | None = None
    scan: ContentScan | None = None

    def malware(self) -> str | None:
        """The malware signature found, or ``None``; blocks until the scanner answered."""
        return None if self.scan is None else self.scan.verdict()


NO_FINDINGS = ContentFindings()


class FileContent:
    """Decode (optionally), measure, hash and store one file's content as it streams.

    ``label`` renders the file for messages (``payload.files[2] ('photo.jpg')``); it is
    called only when a fault is found, so it can name a ``fileName`` that comes after
    ``content`` in the object. ``field`` follows the label in messages about the
    content itself (``.content`` for the JSON member). Call :meth:`write` for every
    slice (JSON escapes already resolved), then :meth:`finish` when the content ends.
    With ``base64=False`` the slices are the file's bytes as they are. With a ``scan``,
    every decoded byte goes to it too, in the same pass.
    """

    __slots__ = (
        "_decoder",
        "_field",
        "_hash",
        "_head",
        "_label",
        "_max_bytes",
        "_scan",
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
        scan: ContentScan | None = None,
    ) -> None:
        self._max_bytes = limits.max_file_bytes
        self._sink = sink
        self._label = label
        self._field = field
        self._decoder = Base64StreamDecoder() if base64 else None
        self._hash = hashlib.sha256()
        self._size = 0
        self._sha256: str | None = None
        self._head = bytearray()
        self._scan = scan

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
            pieces = self._decoder.decode_pieces(data)
        except Base64Error as exc:
            # Bytes before the fault were met first: they may pass the size bound.
            if exc.decoded:
                self._take(exc.decoded)
            raise self._invalid_base64(exc) from None
        for decoded in pieces:
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
        if self._scan is not None:
            self._scan.seal()  # the scanner works while the blob is made durable
        self._sink.seal()

    def findings(self, file_name: str) -> ContentFindings:
        """What §12.1 finds in the finished content of a file named ``file_name``."""
        head, self._head = bytes(self._head), bytearray()
        problem = signatures.content_problem(filetypes.extension_of(file_name), head)
        return ContentFindings(problem, self._scan)

    def _take(self, decoded: bytes) -> None:
        self._size += len(decoded)
        if self._size > self._max_bytes:
            raise PayloadTooLarge(
                f"{self._label()}: the file is larger than maxFileBytes {self._max_bytes} bytes",
                reason="file_too_large",
            )
        missing = signatures.HEAD_BYTES - len(self._head)
        if missing > 0:
            self._head += decoded[:missing]
        self._hash.update(decoded)
        self._sink.write(decoded)
        if self._scan is not None:
            self._scan.write(decoded)

    def _invalid_base64(self, exc: Base64Error) -> InvalidRequest:
        return InvalidRequest(f"{self._label()}{self._field}: {exc}", reason="invalid_base64")
