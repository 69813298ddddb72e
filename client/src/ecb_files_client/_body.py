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

import base64
import hashlib
import json
from collections.abc import Generator, Sequence
from dataclasses import dataclass

from ecb_files_client._streamed import Piece, StreamedBody
from ecb_files_client._uploads import PreparedFile

_SHA256_HEX_CHARS = 64
_CONTENT_END = b'","sha256":"'


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


class SubmissionBody(StreamedBody):
    """The JSON body of one submission: as many fresh streams of it as attempts need."""

    content_type = "application/json"

    def __init__(
        self, envelope: Envelope, files: Sequence[PreparedFile], max_file_bytes: int | None
    ) -> None:
        super().__init__(files, max_file_bytes)
        self._head = self._render_head(envelope)
        self._file_heads = [self._render_file_head(envelope, f) for f in self.files]
        self._tail = b"]}}"

    @property
    def content_length(self) -> int | None:
        """The exact length in bytes, or None when a file's size is unknown."""
        if any(f.size is None for f in self.files):
            return None
        length = len(self._head) + len(self._tail) + max(len(self.files) - 1, 0)
        for file, head in zip(self.files, self._file_heads, strict=True):
            assert file.size is not None
            length += len(head) + base64_length(file.size)
            length += len(_CONTENT_END) + _SHA256_HEX_CHARS + 2
        return length

    def pieces(self) -> Generator[Piece, None, None]:
        """A fresh stream of the whole body (files reopened or rewound)."""
        self._start_attempt()
        yield Piece(self._head)
        for file, head in zip(self.files, self._file_heads, strict=True):
            yield Piece((b"," if file.index else b"") + head, file.index)
            yield from self._content(file)
        yield Piece(self._tail, end=True)

    def _content(self, file: PreparedFile) -> Generator[Piece, None, None]:
        digest = hashlib.sha256()
        carry = b""
        for data in self.read(file):
            digest.update(data)
            if carry:
                data = carry + data
            usable = len(data) - len(data) % 3
            carry = data[usable:]
            if usable:
                encoded = base64.b64encode(memoryview(data)[:usable])
                self.sent_sizes[file.index] += usable
                yield Piece(encoded, file.index, usable)
        if carry:
            self.sent_sizes[file.index] += len(carry)
            yield Piece(base64.b64encode(carry), file.index, len(carry))
        hexdigest = digest.hexdigest()
        self.digests[file.index] = hexdigest
        yield Piece(_CONTENT_END + hexdigest.encode("ascii") + b'"}', file.index, file_done=True)

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
