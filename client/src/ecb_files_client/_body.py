"""The JSON request body of a submission, generated as a stream (§3.1).

Files are read, hashed and base64-encoded one piece at a time while the body is sent,
so memory stays flat whatever the file sizes. The body is written as::

    {"securityToken":…,"timestamp":…,"payload":{"id":…,"insuranceCompanyAlias":…,
     "userEmail":…,"files":[{"fileName":…,"contentType":…,"description":…,
     "isRestricted":true,"content":"<base64>","sha256":"<hex>"},…]}}

``sha256`` comes after ``content`` in each file object: it is computed while the
content streams, and the server checks it when the object closes. Members are in a
fixed order and strings ASCII-escaped, so the same submission always gives the same
bytes — what an idempotent retry needs (the server compares the bodies' digests).

When every size is known the exact length is known ahead: base64 of ``n`` bytes is
``4 * ceil(n / 3)`` characters and the SHA-256 is always 64 hex digits; the body then
goes out with ``Content-Length``, which proxies prefer. A stream of unknown size makes
it chunked.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import AsyncGenerator, Callable, Generator, Sequence
from dataclasses import dataclass

from ecb_files_client._checks import empty_file, too_large
from ecb_files_client._exceptions import LocalValidationError
from ecb_files_client._uploads import PreparedFile

# Raw bytes read per piece: a multiple of 3, so the base64 of consecutive pieces
# concatenates without padding; 1.5 MiB keeps per-piece overhead (a thread hop in the
# async client) negligible and memory small.
PIECE_BYTES = 3 * 512 * 1024
_SHA256_HEX_CHARS = 64
_CONTENT_END = b'","sha256":"'


@dataclass(frozen=True)
class Piece:
    """Bytes of the body; ``file_index`` says which file's content they carry, if any."""

    data: bytes
    file_index: int | None = None
    file_bytes: int = 0  # raw file bytes that ``data`` encodes
    file_done: bool = False
    end: bool = False  # the last piece of the body


def _json(value: str) -> bytes:
    return json.dumps(value, ensure_ascii=True).encode("ascii")


def base64_length(size: int) -> int:
    return 4 * ((size + 2) // 3)


@dataclass(frozen=True)
class Envelope:
    """The members around the files, with the endpoint's honoured flags."""

    security_token: str
    timestamp: str | None
    target_id: str
    alias: str
    user_email: str
    honours_is_restricted: bool
    honours_is_damage_image: bool


class SubmissionBody:
    """The body of one submission: as many fresh streams of it as attempts need."""

    def __init__(
        self, envelope: Envelope, files: Sequence[PreparedFile], max_file_bytes: int | None
    ) -> None:
        """``max_file_bytes`` bounds streams of unknown size as they are read (None: the
        server alone judges)."""
        self._files = list(files)
        self._max_file_bytes = max_file_bytes
        self._head = self._render_head(envelope)
        self._file_heads = [self._render_file_head(envelope, f) for f in self._files]
        self._tail = b"]}}"
        self.digests: list[str | None] = [None] * len(self._files)
        self.sent_sizes: list[int] = [0] * len(self._files)
        self.attempts = 0

    @property
    def content_length(self) -> int | None:
        """The exact length in bytes, or None when a file's size is unknown."""
        if any(f.size is None for f in self._files):
            return None
        length = len(self._head) + len(self._tail) + max(len(self._files) - 1, 0)
        for file, head in zip(self._files, self._file_heads, strict=True):
            assert file.size is not None
            length += len(head) + base64_length(file.size)
            length += len(_CONTENT_END) + _SHA256_HEX_CHARS + 2
        return length

    def unrepeatable(self) -> str | None:
        """The label of a file that cannot be read again for another attempt, if any."""
        for file in self._files:
            if not file.restartable:
                return file.label
        return None

    def pieces(self) -> Generator[Piece, None, None]:
        """A fresh stream of the whole body (files reopened or rewound)."""
        self.attempts += 1
        self.digests = [None] * len(self._files)
        self.sent_sizes = [0] * len(self._files)
        yield Piece(self._head)
        for file, head in zip(self._files, self._file_heads, strict=True):
            yield Piece((b"," if file.index else b"") + head, file.index)
            yield from self._content(file)
        yield Piece(self._tail, end=True)

    def iterate(self, on_piece: Callable[[Piece], None]) -> Generator[bytes, None, None]:
        """The body for a blocking HTTP client; ``on_piece`` after each piece is taken."""
        for piece in self.pieces():
            yield piece.data
            on_piece(piece)

    async def aiterate(self, on_piece: Callable[[Piece], None]) -> AsyncGenerator[bytes, None]:
        """The body for an asyncio HTTP client, ``on_piece`` called on the event loop."""
        pieces = self.pieces()
        try:
            while True:
                # Reading, hashing and encoding block on disk and CPU: off the event loop.
                piece = await asyncio.to_thread(next, pieces, None)
                if piece is None:
                    return
                yield piece.data
                on_piece(piece)
        finally:
            pieces.close()

    def _content(self, file: PreparedFile) -> Generator[Piece, None, None]:
        digest = hashlib.sha256()
        total = 0
        carry = b""
        with file.open() as stream:
            while data := stream.read(PIECE_BYTES):
                if not isinstance(data, bytes | bytearray):
                    raise TypeError(f"{file.label}: open the file in binary mode ('rb')")
                total += len(data)
                self._check_size(file, total, final=False)
                digest.update(data)
                if carry:
                    data = carry + data
                usable = len(data) - len(data) % 3
                carry = data[usable:]
                if usable:
                    encoded = base64.b64encode(memoryview(data)[:usable])
                    self.sent_sizes[file.index] += usable
                    yield Piece(encoded, file.index, usable)
        self._check_size(file, total, final=True)
        if carry:
            self.sent_sizes[file.index] += len(carry)
            yield Piece(base64.b64encode(carry), file.index, len(carry))
        hexdigest = digest.hexdigest()
        self.digests[file.index] = hexdigest
        yield Piece(_CONTENT_END + hexdigest.encode("ascii") + b'"}', file.index, file_done=True)

    def _check_size(self, file: PreparedFile, total: int, *, final: bool) -> None:
        if file.size is None:
            if self._max_file_bytes is None:
                return
            # Unknown ahead: the same bounds, the moment they are passed.
            if total > self._max_file_bytes:
                raise too_large(file.index, file.file_name, self._max_file_bytes)
            if final and total == 0:
                raise empty_file(file.index, file.file_name)
        elif total > file.size or (final and total != file.size):
            raise LocalValidationError(
                f"{file.label}: the file changed while it was being sent "
                f"(expected {file.size} bytes, read {total})"
            )

    @staticmethod
    def _render_head(envelope: Envelope) -> bytes:
        parts = [b'{"securityToken":', _json(envelope.security_token)]
        if envelope.timestamp is not None:
            parts += [b',"timestamp":', _json(envelope.timestamp)]
        parts += [
            b',"payload":{"id":',
            _json(envelope.target_id),
            b',"insuranceCompanyAlias":',
            _json(envelope.alias),
            b',"userEmail":',
            _json(envelope.user_email),
            b',"files":[',
        ]
        return b"".join(parts)

    @staticmethod
    def _render_file_head(envelope: Envelope, file: PreparedFile) -> bytes:
        parts = [
            b'{"fileName":',
            _json(file.file_name),
            b',"contentType":',
            _json(file.content_type),
        ]
        if file.description is not None:
            parts += [b',"description":', _json(file.description)]
        if file.is_restricted and envelope.honours_is_restricted:
            parts.append(b',"isRestricted":true')
        if file.is_damage_image and envelope.honours_is_damage_image:
            parts.append(b',"isDamageImage":true')
        parts.append(b',"content":"')
        return b"".join(parts)
