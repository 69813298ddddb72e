"""``multipart/form-data`` bodies (RFC 7578), generated as a stream (§10).

A body is one JSON part, always first, then one part per file carrying its raw bytes::

    --<boundary>\\r\\n
    Content-Disposition: form-data; name="submission"\\r\\n
    Content-Type: application/json\\r\\n
    \\r\\n
    {…}\\r\\n
    --<boundary>\\r\\n
    Content-Disposition: form-data; name="file-0"; filename="photo.jpg"\\r\\n
    Content-Type: image/jpeg\\r\\n
    \\r\\n
    <the file's bytes>\\r\\n
    --<boundary>--\\r\\n

Files are read one piece at a time while the body is sent, and every size is known
ahead for paths, bytes and seekable streams, so the exact ``Content-Length`` is too: the
framing plus the files' sizes. The boundary is drawn once per body (not per attempt), so
every attempt sends the same bytes, as an idempotent retry needs. It is 128 random bits,
and each file is watched for it while it streams all the same: a file holding it would
end its part early, so such a file is refused instead of being sent cut.

:class:`MultipartSubmissionBody` is the binary form of the two submit endpoints
(§10.1). Its first part names each file's SHA-256, so those files are read once ahead
to hash them (before the first attempt opens its request; retries reuse the hashes)
and hashed again while sent, which catches a file changed in between.
"""

from __future__ import annotations

import abc
import hashlib
import json
import secrets
import unicodedata
import urllib.parse
from collections.abc import Generator, Sequence
from typing import Any

from ecb_files_client._body import Envelope
from ecb_files_client._checks import file_label
from ecb_files_client._exceptions import LocalValidationError
from ecb_files_client._streamed import Piece, StreamedBody, changed_while_sent
from ecb_files_client._uploads import PreparedFile

CRLF = b"\r\n"
_SHA256_PLACEHOLDER = "0" * 64  # hex digests are always 64 characters
# Characters a quoted filename="…" carries as they are in every parser; anything else
# goes in filename* (RFC 5987), with an ASCII stand-in in filename for old parsers.
_PLAIN_FILENAME_CHARS = frozenset(chr(c) for c in range(0x20, 0x7F) if chr(c) not in '"\\')


def new_boundary() -> str:
    """A boundary no file will hold by chance: 128 random bits (42 characters ≤ 70)."""
    return f"ecb-files-{secrets.token_hex(16)}"


def json_bytes(value: object) -> bytes:
    """Compact, ASCII-escaped JSON: the same value always gives the same bytes."""
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"), allow_nan=False).encode(
        "ascii"
    )


def content_disposition(name: str, file_name: str | None = None) -> str:
    """``form-data; name="…"`` with the file's name, ``filename*`` (RFC 5987) if needed."""
    value = f'form-data; name="{name}"'
    if file_name is None:
        return value
    if all(char in _PLAIN_FILENAME_CHARS for char in file_name):
        return f'{value}; filename="{file_name}"'
    quoted = urllib.parse.quote(file_name, safe="", encoding="utf-8")
    return f"{value}; filename=\"{ascii_stand_in(file_name)}\"; filename*=UTF-8''{quoted}"


def ascii_stand_in(file_name: str) -> str:
    """The name in plain ASCII for ``filename``: accents dropped, anything else ``_``."""
    decomposed = unicodedata.normalize("NFKD", file_name)
    kept = (char for char in decomposed if not unicodedata.combining(char))
    return "".join(char if char in _PLAIN_FILENAME_CHARS else "_" for char in kept)


def part_head(disposition: str, content_type: str) -> bytes:
    """A part's header lines and the blank line that ends them."""
    if not content_type.isascii() or not content_type.isprintable():
        # It becomes a header line: a line break in it would forge headers.
        raise LocalValidationError(
            f"contentType {content_type!r}: only printable ASCII can go in a part header"
        )
    return (f"Content-Disposition: {disposition}\r\nContent-Type: {content_type}\r\n\r\n").encode(
        "ascii"
    )


class MultipartBody(StreamedBody):
    """A JSON part, then each file's raw bytes in a part of its own.

    Subclasses render the JSON part (:meth:`lead`), which may announce the SHA-256 of
    the files :meth:`hashes_ahead` says to hash before sending.
    """

    lead_name: str
    lead_content_type: str
    base64 = False

    def __init__(
        self,
        files: Sequence[PreparedFile],
        max_file_bytes: int | None,
        *,
        part_names: Sequence[str],
        boundary: str | None = None,
    ) -> None:
        super().__init__(files, max_file_bytes)
        self.boundary = boundary or new_boundary()
        self.content_type = f"multipart/form-data; boundary={self.boundary}"
        self.part_names = list(part_names)
        self._delimiter = b"\r\n--" + self.boundary.encode("ascii")
        self._file_heads = [
            part_head(content_disposition(name, file.file_name), file.content_type)
            for name, file in zip(self.part_names, self.files, strict=True)
        ]
        self._announced: list[str | None] | None = None

    @abc.abstractmethod
    def lead(self, digests: Sequence[str | None]) -> bytes:
        """The JSON part's content, naming each file's SHA-256 where given."""

    def hashes_ahead(self, file: PreparedFile) -> bool:
        """Whether the JSON part announces this file's SHA-256 (so it is read twice)."""
        return False

    @property
    def content_length(self) -> int | None:
        if any(f.size is None for f in self.files):
            return None
        placeholders = [_SHA256_PLACEHOLDER if self.hashes_ahead(f) else None for f in self.files]
        length = len(self._lead_head()) + len(self.lead(placeholders))
        for file, head in zip(self.files, self._file_heads, strict=True):
            assert file.size is not None
            length += len(self._delimiter) + 2 + len(head) + file.size
        return length + len(self._delimiter) + len(b"--\r\n")

    def prepare(self) -> None:
        # Once, for every attempt: the JSON part must be the same bytes each time. Done
        # before the request opens, so that reading a large file twice cannot stall a
        # body the server is waiting for.
        if self._announced is None:
            self._announced = [self._hash(f) if self.hashes_ahead(f) else None for f in self.files]

    def reads_ahead(self) -> list[PreparedFile]:
        if self._announced is not None:
            return []
        return [file for file in self.files if self.hashes_ahead(file)]

    def pieces(self) -> Generator[Piece, None, None]:
        self.prepare()
        announced = self._announced
        assert announced is not None
        self._start_attempt()
        dash_boundary = b"--" + self.boundary.encode("ascii")
        yield Piece(self._lead_head() + self.lead(announced) + CRLF)
        for file, head in zip(self.files, self._file_heads, strict=True):
            yield Piece(dash_boundary + CRLF + head, file.index)
            yield from self._content(file, announced[file.index])
        yield Piece(dash_boundary + b"--\r\n", end=True)

    def _lead_head(self) -> bytes:
        opening = b"--" + self.boundary.encode("ascii") + CRLF
        return opening + part_head(content_disposition(self.lead_name), self.lead_content_type)

    def _content(self, file: PreparedFile, announced: str | None) -> Generator[Piece, None, None]:
        digest = hashlib.sha256()
        # The part's head ends with CRLF, so a file starting with "--<boundary>" would
        # close the part at once: watch from the line break before the content.
        tail = CRLF
        for data in self.read(file):
            tail = self._watch_boundary(file, tail, data)
            digest.update(data)
            self.sent_sizes[file.index] += len(data)
            yield Piece(data, file.index, len(data))
        hexdigest = digest.hexdigest()
        if announced is not None and announced != hexdigest:
            # Raised before the part is closed: the server sees a cut body, stores nothing.
            raise changed_while_sent(file, "its SHA-256 is not the one read before sending")
        self.digests[file.index] = hexdigest
        # The line break that ends the part: it carries the news that the file is done.
        yield Piece(CRLF, file.index, file_done=True)

    def _watch_boundary(self, file: PreparedFile, tail: bytes, data: bytes) -> bytes:
        """Refuse a file holding the delimiter; the bytes to carry into the next check."""
        keep = len(self._delimiter) - 1
        if self._delimiter in tail + data[:keep] or self._delimiter in data:
            raise LocalValidationError(
                f"{file.label}: the file holds this request's multipart boundary; "
                "send it again (a new boundary is drawn) or send it as JSON"
            )
        return data[-keep:] if len(data) >= keep else (tail + data)[-keep:]

    def _hash(self, file: PreparedFile) -> str:
        digest = hashlib.sha256()
        for data in self.read(file):
            digest.update(data)
        return digest.hexdigest()


class MultipartSubmissionBody(MultipartBody):
    """The binary form of a submission (§10.1): ``submission`` part, then the files."""

    lead_name = "submission"
    lead_content_type = "application/json"

    def __init__(
        self,
        envelope: Envelope,
        files: Sequence[PreparedFile],
        max_file_bytes: int | None,
        *,
        boundary: str | None = None,
    ) -> None:
        self._envelope = envelope
        names = [f"file-{file.index}" for file in files]
        super().__init__(files, max_file_bytes, part_names=names, boundary=boundary)

    def content_label(self, file: PreparedFile) -> str:
        # Parts are numbered from 0 in body order, the submission part first.
        part = f"part {file.index + 1} ({self.part_names[file.index]!r})"
        return f"{part} for {file_label(file.index, file.file_name)}"

    def hashes_ahead(self, file: PreparedFile) -> bool:
        # Only what can be read twice: a stream of unknown size goes unannounced, and the
        # SHA-256 the server reports is still compared with the one computed while sent.
        return file.size is not None

    def lead(self, digests: Sequence[str | None]) -> bytes:
        envelope = self._envelope
        document: dict[str, Any] = {"securityToken": envelope.security_token}
        if envelope.timestamp is not None:
            document["timestamp"] = envelope.timestamp
        entries = []
        for name, file, digest in zip(self.part_names, self.files, digests, strict=True):
            entry: dict[str, Any] = {
                "part": name,
                "fileName": file.file_name,
                "contentType": file.content_type,
            }
            if file.description is not None:
                entry["description"] = file.description
            if file.is_restricted and envelope.honours_is_restricted:
                entry["isRestricted"] = True
            if file.is_damage_image and envelope.honours_is_damage_image:
                entry["isDamageImage"] = True
            if digest is not None:
                entry["sha256"] = digest
            entries.append(entry)
        document["payload"] = {
            "id": envelope.target_id,
            "insuranceCompanyAlias": envelope.alias,
            "userEmail": envelope.user_email,
            "files": entries,
        }
        return json_bytes(document)
