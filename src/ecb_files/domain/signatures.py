"""What a file's first bytes say it is, against what its extension says (§12.1).

A pure sniffer: it is handed the first :data:`HEAD_BYTES` of a file (fewer if the file
is shorter) and its extension, and answers with what is wrong, or ``None``. Three rules,
in this order:

1. An executable — a Windows PE (``MZ`` with its ``PE`` header), ELF, or Mach-O (thin or
   fat/universal) — is refused under any name, ``.xll`` included.
2. An extension in :data:`EXPECTED` must start as one of its formats; the legacy Office
   extensions also take text (RTF, HTML, XML and plain text are what exporters write
   under those names), the OOXML ones also OLE2 (a password-protected OOXML file is an
   OLE2 container).
3. Every other extension — text-like types above all — is not sniffed.

The table is small on purpose; docs/file-types.md lists it in full.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

# How many first bytes the sniffer looks at: enough for a PDF header anywhere in its
# first 1,024 bytes and for a PE header behind a large DOS stub.
HEAD_BYTES = 4096


@dataclass(frozen=True)
class Format:
    """A format the sniffer knows: its name in messages and its test of the first bytes."""

    name: str
    matches: Callable[[bytes], bool]


def _starts(*prefixes: bytes) -> Callable[[bytes], bool]:
    return lambda head: head.startswith(prefixes)


def _windows_executable(head: bytes) -> bool:
    if not head.startswith(b"MZ") or len(head) < 0x40:
        return False
    offset = int.from_bytes(head[0x3C:0x40], "little")
    header = head[offset : offset + 4]
    return header == b"PE\0\0" or header[:2] in (b"NE", b"LE", b"LX")


_MACH_O = (b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe", b"\xcf\xfa\xed\xfe")


def _mach_o(head: bytes) -> bool:
    if head.startswith(_MACH_O):
        return True
    if not head.startswith((b"\xca\xfe\xba\xbe", b"\xca\xfe\xba\xbf")) or len(head) < 8:
        return False
    # A fat binary counts its architectures here; a Java class file (same magic) has its
    # version, 45 or more, in the same four bytes.
    return 0 < int.from_bytes(head[4:8], "big") < 45


def _bmp(head: bytes) -> bool:
    # "BM" alone is too weak; the DIB header that follows has one of a few sizes.
    return head.startswith(b"BM") and head[14:18] in {
        size.to_bytes(4, "little") for size in (12, 16, 40, 52, 56, 64, 108, 124)
    }


def _box_type(head: bytes) -> bytes:
    return head[4:8]


def _brands(head: bytes) -> set[bytes]:
    """The major and compatible brands of an ISO BMFF ``ftyp`` box at the start."""
    if _box_type(head) != b"ftyp":
        return set()
    size = min(int.from_bytes(head[0:4], "big"), len(head))
    brands = {head[8:12]}
    brands.update(head[i : i + 4] for i in range(16, size - 3, 4))
    return brands


_HEIC_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
# A QuickTime movie may start with any of these atoms instead of ``ftyp``.
_QUICKTIME_ATOMS = {b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"}


def _mpeg_audio(head: bytes) -> bool:
    if head.startswith(b"ID3"):
        return True
    if len(head) < 2 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version, layer = (head[1] >> 3) & 3, (head[1] >> 1) & 3
    return version != 1 and layer != 0  # both reserved values; layer 0 is AAC's ADTS


def _riff(kind: bytes, *variants: bytes) -> Callable[[bytes], bool]:
    return lambda head: head[:4] in (b"RIFF", *variants) and head[8:12] == kind


def _pdf(head: bytes) -> bool:
    return b"%PDF-" in head[:1024]  # readers take a header anywhere in the first KiB


# C0 controls that text does not contain (TAB, LF, VT, FF, CR, SUB and ESC it may).
_BINARY_CONTROLS = bytes([*range(0x00, 0x09), *range(0x0E, 0x1A), *range(0x1C, 0x20)])


def _text(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True  # UTF-16 with its byte order mark ("Unicode text" exports)
    return bool(head) and len(head.translate(None, _BINARY_CONTROLS)) == len(head)


EXECUTABLES: tuple[Format, ...] = (
    Format("a Windows executable", _windows_executable),
    Format("an ELF executable (Linux/Unix)", _starts(b"\x7fELF")),
    Format("a Mach-O executable (macOS)", _mach_o),
)

FORMATS: Mapping[str, Format] = {
    # The start-of-image marker and the PNG name: what every file of the format has,
    # whatever follows (JFIF, Exif, a bare frame; the rest of PNG's eight bytes).
    "jpeg": Format("a JPEG image", _starts(b"\xff\xd8")),
    "png": Format("a PNG image", _starts(b"\x89PNG")),
    "gif": Format("a GIF image", _starts(b"GIF87a", b"GIF89a")),
    "bmp": Format("a BMP image", _bmp),
    "tiff": Format("a TIFF image", _starts(b"II*\0", b"MM\0*", b"II+\0", b"MM\0+")),
    "heic": Format("a HEIC image", lambda head: bool(_brands(head) & _HEIC_BRANDS)),
    "avif": Format("an AVIF image", lambda head: bool(_brands(head) & _AVIF_BRANDS)),
    "pdf": Format("a PDF document", _pdf),
    "zip": Format("a ZIP archive", _starts(b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")),
    "ole2": Format(
        "an OLE2 compound file (legacy Office, Outlook)",
        _starts(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),
    ),
    "quicktime": Format("an MP4/QuickTime file", lambda head: _box_type(head) in _QUICKTIME_ATOMS),
    "avi": Format("an AVI video", _riff(b"AVI ")),
    "wav": Format("a WAV audio file", _riff(b"WAVE", b"RF64", b"BW64")),
    "mp3": Format("an MP3 audio file", _mpeg_audio),
    "ogg": Format("an Ogg file", _starts(b"OggS")),
    "flac": Format("a FLAC audio file", _starts(b"fLaC", b"ID3")),
    "matroska": Format("a Matroska/WebM file", _starts(b"\x1a\x45\xdf\xa3")),
    "rtf": Format("an RTF document", _starts(b"{\\rtf")),
    "text": Format("text", _text),
}


@dataclass(frozen=True)
class Expected:
    """What files with some extension must be: ``name`` in messages, ``formats`` by key."""

    name: str
    formats: tuple[str, ...]


def _table(*rows: tuple[str, str, tuple[str, ...]]) -> dict[str, Expected]:
    return {
        extension: Expected(name, formats)
        for extensions, name, formats in rows
        for extension in extensions.split()
    }


_LEGACY_OFFICE = ("ole2", "rtf", "text")
_OOXML = ("zip", "ole2")

# Extension → what its files must start as. Every extension here is in §4's list.
EXPECTED: Mapping[str, Expected] = _table(
    ("jpg jpeg jpe", "a JPEG image", ("jpeg",)),
    ("png", "a PNG image", ("png",)),
    ("gif", "a GIF image", ("gif",)),
    ("bmp", "a BMP image", ("bmp",)),
    ("tif tiff", "a TIFF image", ("tiff",)),
    ("heic", "a HEIC image", ("heic",)),
    ("avif", "an AVIF image", ("avif",)),
    ("pdf", "a PDF document", ("pdf",)),
    ("zip", "a ZIP archive", ("zip",)),
    ("docx docm dotx dotm", "a Word document", _OOXML),
    ("xlsx xlsm xlsb xltx xltm xlam", "an Excel workbook", _OOXML),
    ("pptx pptm ppsx ppsm potx potm ppam", "a PowerPoint presentation", _OOXML),
    ("odt ods", "an OpenDocument file", ("zip",)),
    ("doc dot", "a Word document", _LEGACY_OFFICE),
    ("xls xlt", "an Excel workbook", _LEGACY_OFFICE),
    ("ppt pps pot", "a PowerPoint presentation", _LEGACY_OFFICE),
    ("msg", "an Outlook message", ("ole2",)),
    ("mp4 m4v m4a 3gp mov qt", "an MP4/QuickTime file", ("quicktime",)),
    ("avi", "an AVI video", ("avi",)),
    ("wav", "a WAV audio file", ("wav",)),
    ("mp3", "an MP3 audio file", ("mp3",)),
    ("ogg oga", "an Ogg file", ("ogg",)),
    ("flac", "a FLAC audio file", ("flac",)),
    ("mkv webm", "a Matroska/WebM file", ("matroska",)),
    ("rtf", "an RTF document", ("rtf",)),
)


def identify(head: bytes) -> str | None:
    """The name of what ``head`` starts as (an executable first), or ``None``."""
    for known in (*EXECUTABLES, *FORMATS.values()):
        if known.matches(head):
            return known.name
    return None


def content_problem(extension: str | None, head: bytes) -> str | None:
    """Why a file named with ``extension`` (lower case, no dot) cannot start with
    ``head``, or ``None`` when it can; the words follow ``the file's label: ``."""
    expected = EXPECTED.get(extension) if extension is not None else None
    for executable in EXECUTABLES:
        if executable.matches(head):
            if expected is None:
                return f"the content is {executable.name}; executables are not accepted"
            return f"the content is {executable.name}, not {expected.name}"
    if expected is None or any(FORMATS[key].matches(head) for key in expected.formats):
        return None
    found = identify(head)
    if found is None:
        return f"the content is not {expected.name} (its first bytes match no known format)"
    return f"the content is {found}, not {expected.name}"
