"""What a file's first bytes are, against its extension (§12.1; docs/file-types.md)."""

from __future__ import annotations

import pytest

from ecb_files.domain import filetypes
from ecb_files.domain.signatures import EXPECTED, HEAD_BYTES, content_problem, identify


def _pe() -> bytes:
    stub = bytearray(b"MZ" + b"\0" * 0x7E)
    stub[0x3C:0x40] = (0x80).to_bytes(4, "little")
    return bytes(stub) + b"PE\0\0" + b"\x4c\x01" + b"\0" * 64


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\0\0\0\0" + b"".join(compatible)
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + b"\0\0\0\x08free"


def _riff(kind: bytes) -> bytes:
    return b"RIFF" + (1000).to_bytes(4, "little") + kind + b"fmt "


def _bmp() -> bytes:
    return b"BM" + b"\0" * 12 + (40).to_bytes(4, "little") + b"\0" * 36


JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
# One sample of each format, with every extension that must start as it.
SAMPLES: dict[str, tuple[bytes, str]] = {
    "jpeg": (JPEG, "jpg jpeg jpe"),
    "png": (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "png"),
    "gif": (b"GIF89a\x01\x00\x01\x00", "gif"),
    "gif87": (b"GIF87a\x01\x00\x01\x00", "gif"),
    "bmp": (_bmp(), "bmp"),
    "tiff-le": (b"II*\0\x08\0\0\0", "tif tiff"),
    "tiff-be": (b"MM\0*\0\0\0\x08", "tif tiff"),
    "heic": (_ftyp(b"heic", b"mif1", b"heic"), "heic"),
    "avif": (_ftyp(b"avif", b"mif1", b"avif"), "avif"),
    "pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "pdf"),
    "zip": (b"PK\x03\x04\x14\0\0\0\x08\0", "zip docx xlsx pptx docm xlsm pptm odt ods"),
    "ole2": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 16, "doc dot xls xlt ppt pps pot msg"),
    "mp4": (_ftyp(b"isom", b"iso2", b"mp41"), "mp4 m4v m4a 3gp mov"),
    "mov-old": (b"\0\0\0\x08wide\0\0\0\x10mdat", "mov qt"),
    "avi": (_riff(b"AVI "), "avi"),
    "wav": (_riff(b"WAVE"), "wav"),
    "mp3-id3": (b"ID3\x04\0\0\0\0\0\x10", "mp3"),
    "mp3-frame": (b"\xff\xfb\x90\x64\0\0", "mp3"),
    "ogg": (b"OggS\0\x02\0\0", "ogg oga"),
    "flac": (b"fLaC\0\0\0\x22", "flac"),
    "matroska": (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01", "mkv webm"),
    "rtf": (b"{\\rtf1\\ansi\\deff0", "rtf doc"),
}


def _pairs() -> list[tuple[str, str, bytes]]:
    return [
        (key, extension, head)
        for key, (head, extensions) in SAMPLES.items()
        for extension in extensions.split()
    ]


@pytest.mark.parametrize(("key", "extension", "head"), _pairs())
def test_each_format_is_accepted_under_its_extensions(
    key: str, extension: str, head: bytes
) -> None:
    """§12.1: a file whose first bytes are what its extension says passes."""
    assert content_problem(extension, head) is None


@pytest.mark.parametrize("key", sorted(SAMPLES))
def test_each_format_is_refused_under_a_wrong_extension(key: str) -> None:
    """§12.1: the first bytes must be the extension's format; the message says what they are."""
    head, extensions = SAMPLES[key]
    wrong = "pdf" if "pdf" not in extensions else "png"
    problem = content_problem(wrong, head)
    assert problem is not None
    assert problem.startswith("the content is ")
    assert problem.endswith(f", not {EXPECTED[wrong].name}")


def test_every_sniffed_extension_is_an_allowed_one() -> None:
    """The table only names §4 extensions (docs/file-types.md lists it)."""
    assert all(filetypes.is_allowed_extension(extension) for extension in EXPECTED)


def test_the_message_names_what_the_bytes_are() -> None:
    """§12.1's own example: a Windows executable named photo.jpg."""
    assert content_problem("jpg", _pe()) == (
        "the content is a Windows executable, not a JPEG image"
    )
    assert (
        content_problem("jpg", b"\x89PNG\r\n\x1a\n")
        == "the content is a PNG image, not a JPEG image"
    )


def test_unknown_bytes_are_named_as_such() -> None:
    """§12.1: bytes of no known format, or text, are named so."""
    assert content_problem("png", b"\x00\x01\x02\x03") == (
        "the content is not a PNG image (its first bytes match no known format)"
    )
    assert content_problem("pdf", b"just some words") == "the content is text, not a PDF document"


EXECUTABLES = {
    "pe": (_pe(), "a Windows executable"),
    "elf": (b"\x7fELF\x02\x01\x01\0" + b"\0" * 8, "an ELF executable (Linux/Unix)"),
    "mach-o-64": (b"\xcf\xfa\xed\xfe\x07\0\0\x01", "a Mach-O executable (macOS)"),
    "mach-o-32": (b"\xce\xfa\xed\xfe\x07\0\0\0", "a Mach-O executable (macOS)"),
    "mach-o-be": (b"\xfe\xed\xfa\xce\0\0\0\x12", "a Mach-O executable (macOS)"),
    "mach-o-fat": (b"\xca\xfe\xba\xbe\0\0\0\x02\x01\0\0\x07", "a Mach-O executable (macOS)"),
}


@pytest.mark.parametrize("extension", ["xll", "txt", "csv", "dat", "jpg", "docx", "doc"])
@pytest.mark.parametrize("kind", sorted(EXECUTABLES))
def test_executables_are_refused_under_any_name(kind: str, extension: str) -> None:
    """§12.1: PE, ELF and Mach-O (thin or fat) under any name, .xll and text types too."""
    head, name = EXECUTABLES[kind]
    problem = content_problem(extension, head)
    assert problem is not None
    assert problem.startswith(f"the content is {name}")


def test_an_executable_without_a_sniffed_extension_says_executables_are_refused() -> None:
    """§12.1: an executable under a name that is not sniffed (.xll) says why."""
    assert content_problem("xll", _pe()) == (
        "the content is a Windows executable; executables are not accepted"
    )


def test_a_java_class_file_is_not_a_fat_mach_o() -> None:
    """CAFEBABE is also a Java class; its version (≥ 45) tells it from a fat binary."""
    java = b"\xca\xfe\xba\xbe\0\0\0\x34"
    assert content_problem("dat", java) is None


def test_mz_without_a_pe_header_is_not_an_executable() -> None:
    """Text starting with "MZ" is text: only a DOS header pointing at a PE header counts."""
    assert content_problem("txt", b"MZ is the country code of Mozambique.\n" * 3) is None


@pytest.mark.parametrize(
    "head",
    [
        b"<html><body><table><tr><td>1</td></tr></table></body></html>",
        b'<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n<Workbook/>',
        b"name\tamount\r\nA\t1\r\n",
        "Beløb;Dato\r\n".encode("cp1252"),
        b"\xff\xfe" + "name\tamount".encode("utf-16-le"),
    ],
    ids=["html", "xml-spreadsheet", "tab-separated", "latin-1", "utf-16"],
)
@pytest.mark.parametrize("extension", ["doc", "dot", "xls", "xlt", "ppt", "pps", "pot"])
def test_legacy_office_extensions_also_take_text(extension: str, head: bytes) -> None:
    """§12.1: RTF, HTML, XML and plain text, which exporters write under those names."""
    assert content_problem(extension, head) is None


def test_legacy_office_refuses_binary_that_is_not_ole2() -> None:
    """§12.1: the legacy Office names take OLE2 or text, not another binary format."""
    assert content_problem("xls", b"PK\x03\x04\x14\0") == (
        "the content is a ZIP archive, not an Excel workbook"
    )


def test_ooxml_extensions_take_an_encrypted_ole2_package() -> None:
    """A password-protected .docx/.xlsx is an OLE2 container (EncryptedPackage)."""
    assert content_problem("xlsx", SAMPLES["ole2"][0]) is None


@pytest.mark.parametrize("extension", ["txt", "csv", "json", "xml", "html", "svg", "eml", "ics"])
def test_text_like_types_are_not_sniffed(extension: str) -> None:
    """§12.1: text-like types are not sniffed (anything but an executable passes)."""
    assert content_problem(extension, b"\x00\x01binary\xff") is None
    assert content_problem(extension, JPEG) is None


def test_no_extension_is_not_sniffed() -> None:
    """A name without an extension is refused at step 3.5, not here."""
    assert content_problem(None, JPEG) is None


def test_a_pdf_header_may_follow_some_bytes() -> None:
    """Readers take "%PDF-" anywhere in the first KiB (mail gateways prepend a line)."""
    assert content_problem("pdf", b"\r\n" * 100 + b"%PDF-1.4") is None
    assert content_problem("pdf", b" " * 1100 + b"%PDF-1.4") is not None


def test_an_mp4_is_not_a_heic_image() -> None:
    """§12.1: heic needs a HEIF brand in its ftyp box, not any ISO BMFF file."""
    problem = content_problem("heic", SAMPLES["mp4"][0])
    assert problem == "the content is an MP4/QuickTime file, not a HEIC image"


def test_the_head_is_a_few_kib() -> None:
    """§12.1: only the first bytes are kept aside (a few KiB)."""
    assert 1024 <= HEAD_BYTES <= 8192


def test_identify_names_executables_before_formats() -> None:
    """§12.1: what the bytes are, an executable first."""
    assert identify(_pe()) == "a Windows executable"
    assert identify(JPEG) == "a JPEG image"
    assert identify(b"\x00\x00\x00") is None


def test_the_documented_table_names_every_sniffed_extension() -> None:
    """docs/file-types.md lists the table in full: each extension, in backticks."""
    from pathlib import Path

    doc = (Path(__file__).parents[3] / "docs" / "file-types.md").read_text(encoding="utf-8")
    section = doc.split("## What the bytes must be", 1)[1]
    missing = [ext for ext in EXPECTED if f"`{ext}`" not in section]
    assert missing == []
