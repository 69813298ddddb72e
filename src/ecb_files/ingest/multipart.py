"""Streaming multipart reader (RFC 2046 §5.1, RFC 7578) for bodies too large to hold (§10).

Push-style and without I/O, like the rest of ``ingest``: :meth:`MultipartReader.feed`
takes the body in chunks of any size, :meth:`MultipartReader.finish` says it has ended.
A :class:`PartHandler` learns of each part the moment its headers end
(``part_begin`` with its :class:`PartHeaders`), then receives its bytes in slices of
whatever arrived (``part_data``), then ``part_end``. The bytes are never accumulated,
so memory stays proportional to the chunk size whatever the part's size.

The delimiter search is python-multipart's ``MultipartParser``; this module adapts it:
its exceptions become :class:`~ecb_files.errors.InvalidRequest` naming the part, the
bounds are the project's (``Limits.max_part_header_bytes`` for the headers of one part,
``Limits.max_parts`` for their number), its silent acceptance of a body that stops
without a closing delimiter is refused, and ``Content-Disposition`` is read here, with
RFC 5987 ``filename*`` (which python-multipart drops) preferred over ``filename`` as
RFC 6266 says.

Parts are numbered from 0 in body order, like JSON array indexes; messages name a part
as ``part 2 ('photo')``, or ``part 2`` while its name is not known. The reader knows no
part's meaning: what a part is for is its handler's business, so one reader serves
every multipart endpoint. An exception a handler raises propagates out of ``feed`` or
``finish`` and ends the read; after any exception the reader takes nothing more.
"""

from __future__ import annotations

import hashlib
import logging
import re
import urllib.parse
from dataclasses import dataclass
from typing import Protocol

from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser

from ecb_files.config import Limits
from ecb_files.errors import InvalidRequest

# python-multipart logs a warning for every malformed body it meets, before raising:
# that is a partner's bad input, answered with a 400 naming it and logged as a refusal
# with its reason (api/responses.py), not a fault of the service to print on stderr.
logging.getLogger("python_multipart").setLevel(logging.ERROR)

# RFC 2046 §5.1.1: a boundary is 1 to 70 characters.
MAX_BOUNDARY_CHARS = 70
# python-multipart's own header bounds are per line and per count; the bound here is on
# the bytes of all headers of a part together, so its own are set out of the way.
_UNBOUNDED = 2**62
# RFC 7578 §4.7 deprecates Content-Transfer-Encoding; these are what real senders use.
_IDENTITY_ENCODINGS = frozenset({"7bit", "8bit", "binary"})
TRANSFER_ENCODINGS = _IDENTITY_ENCODINGS | {"base64"}

# One parameter of a header value: ``; name=token`` or ``; name="quoted \" string"``.
_PARAMETER = re.compile(r'\s*;\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)', re.DOTALL)
_QUOTED_PAIR = re.compile(r"\\(.)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class PartHeaders:
    """What the headers of one part say; every header name lower-cased.

    ``name`` and ``filename`` come from ``Content-Disposition`` (``filename*`` wins over
    ``filename``); ``disposition`` is its type (``form-data``, ``attachment``, …) or
    ``None`` without that header. ``content_type`` is the ``Content-Type`` header as
    sent (``None`` without one); ``transfer_encoding`` is ``Content-Transfer-Encoding``
    lower-cased, ``None`` without one, else one of :data:`TRANSFER_ENCODINGS`.
    ``headers`` holds every header in order, for what the fields above do not cover.
    """

    index: int
    name: str | None
    filename: str | None
    disposition: str | None
    content_type: str | None
    transfer_encoding: str | None
    headers: tuple[tuple[str, str], ...]

    @property
    def base64(self) -> bool:
        """Whether the part's bytes are base64 (``Content-Transfer-Encoding: base64``)."""
        return self.transfer_encoding == "base64"

    def label(self) -> str:
        """The part as messages name it: ``part 2 ('photo')``, or ``part 2``."""
        return part_label(self.index, self.name)


def part_label(index: int, name: str | None) -> str:
    return f"part {index}" if name is None else f"part {index} ({name!r})"


class PartHandler(Protocol):
    """Receives the parts of a body in order. Exceptions it raises end the read."""

    def part_begin(self, headers: PartHeaders) -> None:
        """A part starts; its headers have ended."""
        ...

    def part_data(self, data: bytes) -> None:
        """The next bytes of the current part (never empty)."""
        ...

    def part_end(self) -> None:
        """The current part has ended (its closing delimiter was met)."""
        ...


def parse_multipart_content_type(value: str | None) -> tuple[str, str]:
    """``multipart/<subtype>; boundary=…`` → (subtype lower-cased, boundary).

    Raises ``InvalidRequest`` when the type is not multipart, or its boundary parameter
    is missing, empty or over :data:`MAX_BOUNDARY_CHARS` characters (§10).
    """
    media_type, parameters = split_header_value(value or "")
    kind, _, subtype = media_type.partition("/")
    if kind != "multipart" or not subtype:
        raise InvalidRequest(
            f"Content-Type: {value!r} is not a multipart type", reason="not_multipart"
        )
    boundary = parameters.get("boundary")
    if not boundary:
        raise InvalidRequest(
            f"Content-Type: multipart/{subtype} without its boundary parameter",
            reason="multipart_boundary_missing",
        )
    if len(boundary) > MAX_BOUNDARY_CHARS or not boundary.isascii():
        raise InvalidRequest(
            f"Content-Type: the multipart boundary must be 1 to {MAX_BOUNDARY_CHARS} "
            f"ASCII characters, got {len(boundary)}",
            reason="multipart_boundary_invalid",
        )
    return subtype, boundary


def split_header_value(value: str) -> tuple[str, dict[str, str]]:
    """``type; a=1; b="x y"`` → (``type`` lower-cased, {a: 1, b: x y}); parameter names
    lower-cased, quotes and backslash escapes resolved, the first of a repeated name
    kept. Text that is no parameter is ignored, as most readers do."""
    head, separator, _ = value.partition(";")
    parameters: dict[str, str] = {}
    rest = value[len(head) :] if separator else ""
    for match in _PARAMETER.finditer(rest):
        name, raw = match.group(1).lower(), match.group(2).strip()
        if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
            raw = _QUOTED_PAIR.sub(r"\1", raw[1:-1])
        parameters.setdefault(name, raw)
    return head.strip().lower(), parameters


def decode_ext_value(value: str) -> str:
    """RFC 5987 ``charset'language'percent-encoded`` → the text; ``ValueError`` if it is
    not one (UTF-8 and ISO-8859-1 only, the two RFC 5987 requires)."""
    charset, quote, rest = value.partition("'")
    _language, quote2, encoded = rest.partition("'")
    if not quote or not quote2:
        raise ValueError("not charset'language'value")
    charset = charset.strip().lower()
    if charset not in ("utf-8", "iso-8859-1"):
        raise ValueError(f"charset {charset!r} is not UTF-8 or ISO-8859-1")
    return urllib.parse.unquote(encoded, encoding=charset, errors="strict")


class MultipartReader:
    """Reads one multipart body pushed in chunks (see the module docstring)."""

    def __init__(self, boundary: str, handler: PartHandler, limits: Limits) -> None:
        self._handler = handler
        self._max_header_bytes = limits.max_part_header_bytes
        self._max_parts = limits.max_parts
        self._parser = MultipartParser(
            boundary.encode("ascii"),
            {
                "on_part_begin": self._on_part_begin,
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
                "on_part_data": self._on_part_data,
                "on_part_end": self._on_part_end,
                "on_end": self._on_end,
            },
            max_header_count=_UNBOUNDED,
            max_header_size=_UNBOUNDED,
        )
        self._parts = 0  # parts begun so far; the current one is self._parts - 1
        self._phase = "preamble"  # → headers → data → between → … → end
        self._field = bytearray()
        self._value = bytearray()
        self._header_bytes = 0
        self._headers: list[tuple[str, str]] = []
        self._name: str | None = None  # of the current part, once its headers are read
        self._received = 0
        self._failed = False

    @property
    def parts(self) -> int:
        """Parts begun so far."""
        return self._parts

    def feed(self, data: bytes) -> None:
        if self._failed:
            raise RuntimeError("the multipart reader failed; it takes nothing more")
        start = self._received
        self._received += len(data)
        try:
            self._parser.write(data)
        except MultipartParseError as exc:
            self._failed = True
            offset = start + (exc.offset if exc.offset >= 0 else 0)
            raise self._malformed(f"malformed multipart at byte {offset}: {exc}") from None
        except BaseException:
            self._failed = True
            raise

    def finish(self) -> None:
        """The body has ended: refuse it unless its closing delimiter was met."""
        if self._failed:
            raise RuntimeError("the multipart reader failed; it takes nothing more")
        self._parser.finalize()
        if self._phase == "end":
            return
        self._failed = True
        if self._phase == "headers":
            raise self._malformed("the body ends inside the part's headers (no empty line)")
        if self._phase == "preamble":
            raise InvalidRequest(
                "multipart body: no delimiter line (--boundary) was found",
                reason="multipart_malformed",
            )
        raise self._malformed("the body ends without the closing delimiter (--boundary--)")

    # -- python-multipart callbacks -------------------------------------------------------

    def _on_part_begin(self) -> None:
        self._parts += 1
        if self._parts > self._max_parts:
            raise InvalidRequest(
                f"multipart body: more than maxParts {self._max_parts} parts",
                reason="too_many_parts",
            )
        self._phase = "headers"
        self._headers = []
        self._header_bytes = 0
        self._name = None

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._count_header_bytes(end - start)
        self._field += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._count_header_bytes(end - start)
        self._value += data[start:end]

    def _on_header_end(self) -> None:
        self._count_header_bytes(len(b": \r\n"))  # the line as usually written
        name = _header_text(self._field).strip().lower()
        value = _header_text(self._value).strip()
        self._field.clear()
        self._value.clear()
        self._headers.append((name, value))
        if name == "content-disposition":
            self._name = split_header_value(value)[1].get("name")

    def _on_headers_finished(self) -> None:
        headers = self._part_headers()
        self._phase = "data"
        self._handler.part_begin(headers)

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        self._handler.part_data(data[start:end])

    def _on_part_end(self) -> None:
        self._phase = "between"
        self._handler.part_end()

    def _on_end(self) -> None:
        self._phase = "end"

    # -- headers --------------------------------------------------------------------------

    def _count_header_bytes(self, size: int) -> None:
        # Each header line counts as ``name: value\r\n``. Counted as they arrive, so a
        # part sending endless headers is refused within one chunk of the bound, never held.
        self._header_bytes += size
        if self._header_bytes > self._max_header_bytes:
            raise self._malformed(
                f"its headers are longer than maxPartHeaderBytes {self._max_header_bytes} bytes",
                reason="part_headers_too_long",
            )

    def _part_headers(self) -> PartHeaders:
        seen: dict[str, str] = {}
        for name, value in self._headers:
            if name in _SINGLE_HEADERS and name in seen:
                raise self._malformed(f"has two {_SINGLE_HEADERS[name]} headers")
            seen.setdefault(name, value)
        disposition, filename = None, None
        if "content-disposition" in seen:
            disposition, parameters = split_header_value(seen["content-disposition"])
            filename = self._filename(parameters)
        encoding = seen.get("content-transfer-encoding")
        if encoding is not None:
            encoding = encoding.lower()
            if encoding not in TRANSFER_ENCODINGS:
                raise self._malformed(
                    f"Content-Transfer-Encoding {encoding!r} is not supported "
                    "(base64, 7bit, 8bit or binary)",
                    reason="part_transfer_encoding",
                )
        return PartHeaders(
            index=self._parts - 1,
            name=self._name,
            filename=filename,
            disposition=disposition or None,
            content_type=seen.get("content-type"),
            transfer_encoding=encoding,
            headers=tuple(self._headers),
        )

    def _filename(self, parameters: dict[str, str]) -> str | None:
        extended = parameters.get("filename*")
        if extended is not None:
            try:
                return decode_ext_value(extended)
            except ValueError as exc:
                raise self._malformed(
                    f"Content-Disposition filename* is not an RFC 5987 value: {exc}",
                    reason="part_filename_invalid",
                ) from None
        return parameters.get("filename")

    def _malformed(self, what: str, *, reason: str = "multipart_malformed") -> InvalidRequest:
        if self._parts == 0:
            return InvalidRequest(f"multipart body: {what}", reason=reason)
        return InvalidRequest(f"{part_label(self._parts - 1, self._name)}: {what}", reason=reason)


class BoundaryFreeSha256:
    """SHA-256 of a multipart body as if its boundary were a fixed one.

    Senders pick a new random boundary for every request (curl, httpx, browsers), so a
    retry of the same parts differs from the first attempt only there: the boundary
    is replaced by a fixed token before hashing, and two bodies with the same parts
    hash alike. Push-style like the reader: :meth:`update` with every chunk.
    """

    _TOKEN = b"\x00"  # never in a boundary (RFC 2046 §5.1.1)

    def __init__(self, boundary: str) -> None:
        self._boundary = boundary.encode("ascii")
        self._hash = hashlib.sha256()
        self._carry = b""  # a tail that may be the start of a boundary

    def update(self, data: bytes) -> None:
        data = self._carry + data if self._carry else data
        view, boundary, start = memoryview(data), self._boundary, 0
        while (found := data.find(boundary, start)) != -1:
            self._hash.update(view[start:found])
            self._hash.update(self._TOKEN)
            start = found + len(boundary)
        keep = max(start, len(data) - len(boundary) + 1)
        self._hash.update(view[start:keep])
        self._carry = data[keep:]

    def hexdigest(self) -> str:
        final = self._hash.copy()
        final.update(self._carry)
        return final.hexdigest()


# Headers a part may carry once: two would leave its meaning to the reader's whim.
_SINGLE_HEADERS = {
    "content-disposition": "Content-Disposition",
    "content-type": "Content-Type",
    "content-transfer-encoding": "Content-Transfer-Encoding",
}


def _header_text(raw: bytearray) -> str:
    # RFC 7578 §5.1: senders put UTF-8 into header values (file names) directly; bytes
    # that are not UTF-8 are read as ISO-8859-1, as HTTP/1.1 reads obs-text.
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")
