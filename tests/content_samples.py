"""First bytes of each format the §12.1 sniffer knows, for tests that send files by name.

``sample_for(name)`` gives content that passes the signature check for ``name``: the
format's first bytes for a sniffed extension (docs/file-types.md), a few plain bytes for
any other.
"""

from __future__ import annotations

from ecb_files.domain.filetypes import extension_of
from ecb_files.domain.signatures import EXPECTED


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\0\0\0\0" + b"".join(compatible)
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + b"\0\0\0\x08free"


def _riff(kind: bytes) -> bytes:
    return b"RIFF" + (1000).to_bytes(4, "little") + kind + b"fmt " + b"\0" * 20


FORMAT_SAMPLES: dict[str, bytes] = {
    "jpeg": b"\xff\xd8\xff\xe0\0\x10JFIF\0",
    "png": b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
    "gif": b"GIF89a\x01\0\x01\0",
    "bmp": b"BM" + b"\0" * 12 + (40).to_bytes(4, "little") + b"\0" * 36,
    "tiff": b"II*\0\x08\0\0\0",
    "heic": _ftyp(b"heic", b"mif1", b"heic"),
    "avif": _ftyp(b"avif", b"mif1", b"avif"),
    "pdf": b"%PDF-1.7\n",
    "zip": b"PK\x03\x04\x14\0\0\0",
    "ole2": b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 24,
    "quicktime": _ftyp(b"isom", b"mp41"),
    "avi": _riff(b"AVI "),
    "wav": _riff(b"WAVE"),
    "mp3": b"ID3\x04\0\0\0\0\0\x10",
    "ogg": b"OggS\0\x02\0\0",
    "flac": b"fLaC\0\0\0\x22",
    "matroska": b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01",
    "rtf": b"{\\rtf1\\ansi",
}


def sample_for(name: str, rest: bytes = b"x") -> bytes:
    """Content for a file called ``name`` that its signature check accepts."""
    extension = extension_of(name)
    expected = EXPECTED.get(extension) if extension is not None else None
    head = FORMAT_SAMPLES[expected.formats[0]] if expected is not None else b""
    return head + rest
