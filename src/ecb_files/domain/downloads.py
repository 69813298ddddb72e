"""The HTTP rules of a file download (§11.2 ``…/content``), without I/O.

- ``parse_range``: one ``Range: bytes=…`` against the file's size (RFC 9110 §14). A
  header asking for several ranges is answered with the whole file (200): RFC 9110
  lets a server ignore ``Range``, and a ``multipart/byteranges`` answer is a format no
  partner client needs. A syntactically invalid header is ignored the same way;
  a valid single range that lies past the end is unsatisfiable (416).
- ``etag_matches``: ``If-None-Match`` (weak comparison, ``*``) and ``If-Range``.
- ``content_disposition``: always ``attachment``, with an ASCII ``filename`` and the
  exact name in ``filename*`` (RFC 6266, RFC 8187), so no name can break the header.
- ``runs_in_a_browser``: the types a browser would render or run (HTML, SVG, XML,
  XHTML, anything not known to be passive); they get ``Content-Security-Policy:
  sandbox`` and are never shown inline.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class ByteRange:
    """Bytes ``start`` to ``start + length`` of a file of ``size`` bytes."""

    start: int
    length: int
    size: int

    @property
    def content_range(self) -> str:
        return f"bytes {self.start}-{self.start + self.length - 1}/{self.size}"


class Unsatisfiable(Exception):
    """A single, valid range that no byte of the file falls in (→ 416)."""


_RANGE = re.compile(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", re.IGNORECASE)


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one range ``header`` asks for, or ``None`` to send the whole file.

    ``bytes=A-B``, ``bytes=A-`` and the suffix ``bytes=-N`` (the last N bytes);
    ``B`` past the end is cut to the end. Raises ``Unsatisfiable`` when ``A`` is at
    or past the end, or for ``bytes=-0``.
    """
    if header is None or "," in header:
        return None
    match = _RANGE.fullmatch(header)
    if match is None:
        return None
    first, last = match.group(1), match.group(2)
    if not first and not last:
        return None
    if not first:
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise Unsatisfiable
        length = min(suffix, size)
        return ByteRange(size - length, length, size)
    start = int(first)
    if last and int(last) < start:
        return None  # invalid syntax: ignored, as RFC 9110 §14.1.1 says
    if start >= size:
        raise Unsatisfiable
    end = min(int(last), size - 1) if last else size - 1
    return ByteRange(start, end - start + 1, size)


def etag_of(sha256: str) -> str:
    """The strong entity tag of a file's content: its SHA-256, quoted."""
    return f'"{sha256.lower()}"'


def etag_matches(header: str | None, etag: str) -> bool:
    """Whether an ``If-None-Match`` list names ``etag`` (weakly) or is ``*``."""
    if header is None:
        return False
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in header.split(","))


def range_still_applies(if_range: str | None, etag: str) -> bool:
    """``If-Range``: the range is served only if it names the current (strong) tag.
    A date there cannot be strong for us (RFC 9110 §13.1.5): the whole file then."""
    return if_range is None or if_range.strip() == etag


# RFC 8187 attr-char beyond letters and digits; everything else is percent-encoded.
_ATTR_CHAR_EXTRAS = "!#$&+-.^_`|~"
# In the quoted fallback: quotes and backslashes would end or escape the string, "%"
# is decoded by some browsers, ";" and "," split the header for naive parsers.
_UNSAFE_IN_FALLBACK = re.compile(r'[^\x20-\x7e]|["\\%;,]')


def content_disposition(file_name: str) -> str:
    """``attachment; filename="<ASCII>"; filename*=UTF-8''<percent-encoded>``.

    The fallback keeps what ASCII can say of the name (``Café`` → ``Cafe``) and
    replaces the rest with ``_`` (``Søn`` → ``S_n``); the exact name rides in
    ``filename*``, which every current browser prefers. No character of any name can
    end the header or add a parameter: the fallback is printable ASCII without quotes
    or backslashes, and ``filename*`` is percent-encoded.
    """
    return (
        f'attachment; filename="{ascii_fallback(file_name)}"; '
        f"filename*=UTF-8''{quote(file_name, safe=_ATTR_CHAR_EXTRAS)}"
    )


def ascii_fallback(file_name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", file_name)
    without_marks = "".join(c for c in decomposed if not unicodedata.combining(c))
    fallback = _UNSAFE_IN_FALLBACK.sub("_", without_marks).strip()
    return fallback or "download"


# Types a browser shows without running anything in them. ``application/octet-stream``
# is not one: it says "unknown", and the bytes may be anything.
_PASSIVE_PREFIXES = ("image/", "audio/", "video/", "font/")
_PASSIVE_TYPES = frozenset(
    {
        "application/pdf",
        "application/zip",
        "application/x-zip-compressed",
        "application/json",
        "application/rtf",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.ms-outlook",
        "application/pkcs7-signature",
        "application/x-pkcs7-signature",
        "message/rfc822",
        "text/plain",
        "text/csv",
        "text/calendar",
        "text/vcard",
        "text/x-vcard",
    }
)
_PASSIVE_TYPE_PREFIXES = ("application/vnd.openxmlformats-", "application/vnd.oasis.opendocument.")
# Whatever the declared type, a browser sniffing or a user opening the saved file would
# treat these as documents with markup and scripts.
_ACTIVE_EXTENSIONS = frozenset(
    {"html", "htm", "htmls", "shtml", "xhtml", "xht", "mht"}
    | {"svg", "svgz", "xml", "xsl", "xsd", "rels", "vml"}
)


def media_type_of(content_type: str) -> str:
    """The bare, lower-case ``type/subtype`` of a stored content type."""
    return content_type.split(";", 1)[0].strip().lower()


def runs_in_a_browser(content_type: str, file_name: str) -> bool:
    """Whether a browser could render active content from this file (see the module doc)."""
    extension = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if extension in _ACTIVE_EXTENSIONS:
        return True
    media_type = media_type_of(content_type)
    if media_type == "image/svg+xml" or media_type.endswith("+xml"):
        return True
    if media_type.startswith(_PASSIVE_PREFIXES) or media_type in _PASSIVE_TYPES:
        return False
    return not media_type.startswith(_PASSIVE_TYPE_PREFIXES)


_SAFE_MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")


def served_media_type(content_type: str) -> str:
    """The ``Content-Type`` to send: the stored type without its parameters, or
    ``application/octet-stream`` if it is not a plain ``type/subtype``."""
    media_type = media_type_of(content_type)
    if _SAFE_MEDIA_TYPE.fullmatch(media_type):
        return media_type
    return "application/octet-stream"
