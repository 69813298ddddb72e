"""What is inside a file, over HTTP (§12.1 signatures; §9 the order of errors).

Each format of the table (docs/file-types.md) is accepted under its extension and
refused (415 naming the file and what its bytes are) under a wrong one; executables are
refused under any name, in every form of submission: JSON (base64), multipart binary,
and FNoL attachments.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.functional.api.multipart_bodies import post_parts, submission_part
from tests.functional.api.test_fnol import FNOL_TYPE, fnol, post_files, row_counts
from tests.functional.conftest import Api, assert_error, file_entry, submission
from tests.functional.server import ServerProcess
from tests.functional.world import World


def _pe() -> bytes:
    stub = bytearray(b"MZ" + b"\0" * 0x7E)
    stub[0x3C:0x40] = (0x80).to_bytes(4, "little")
    return bytes(stub) + b"PE\0\0\x64\x86" + b"\0" * 200


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    body = major + b"\0\0\0\0" + b"".join(compatible)
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + b"\0\0\0\x08free"


def _riff(kind: bytes) -> bytes:
    return b"RIFF" + (1000).to_bytes(4, "little") + kind + b"fmt " + b"\0" * 20


WINDOWS_EXE = _pe()
ELF = b"\x7fELF\x02\x01\x01\0" + b"\0" * 60
MACH_O_FAT = b"\xca\xfe\xba\xbe\0\0\0\x02" + b"\0" * 60

# (extension, contentType, first bytes) for every format of the table.
FORMATS = [
    ("jpg", "image/jpeg", b"\xff\xd8\xff\xe0\0\x10JFIF\0"),
    ("jpeg", "image/jpeg", b"\xff\xd8\xff\xdb\0\x43"),
    ("jpe", "image/jpeg", b"\xff\xd8\xff\xe1\0\x10Exif"),
    ("png", "image/png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"),
    ("gif", "image/gif", b"GIF89a\x01\0\x01\0"),
    ("bmp", "image/bmp", b"BM" + b"\0" * 12 + (40).to_bytes(4, "little") + b"\0" * 36),
    ("tif", "image/tiff", b"II*\0\x08\0\0\0"),
    ("tiff", "image/tiff", b"MM\0*\0\0\0\x08"),
    ("heic", "image/heic", _ftyp(b"heic", b"mif1", b"heic")),
    ("avif", "image/avif", _ftyp(b"avif", b"mif1", b"avif")),
    ("pdf", "application/pdf", b"%PDF-1.7\n"),
    ("zip", "application/zip", b"PK\x03\x04\x14\0\0\0"),
    ("docx", "application/octet-stream", b"PK\x03\x04\x14\0\x06\0"),
    ("xlsx", "application/octet-stream", b"PK\x03\x04\x14\0\x06\0"),
    ("odt", "application/octet-stream", b"PK\x03\x04\x14\0\0\0"),
    ("doc", "application/msword", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 24),
    ("xls", "application/vnd.ms-excel", b"<html><body><table></table></body></html>"),
    ("msg", "application/octet-stream", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 24),
    ("mp4", "video/mp4", _ftyp(b"isom", b"mp41")),
    ("mov", "video/quicktime", _ftyp(b"qt  ", b"qt  ")),
    ("m4a", "audio/mp4", _ftyp(b"M4A ", b"mp42")),
    ("3gp", "video/3gpp", _ftyp(b"3gp4", b"3gp4")),
    ("avi", "video/x-msvideo", _riff(b"AVI ")),
    ("wav", "audio/wav", _riff(b"WAVE")),
    ("mp3", "audio/mpeg", b"ID3\x04\0\0\0\0\0\x10"),
    ("ogg", "audio/ogg", b"OggS\0\x02\0\0"),
    ("oga", "audio/ogg", b"OggS\0\x02\0\0"),
    ("flac", "audio/flac", b"fLaC\0\0\0\x22"),
    ("mkv", "video/x-matroska", b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01"),
    ("webm", "video/webm", b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01"),
    ("rtf", "application/rtf", b"{\\rtf1\\ansi"),
]


def _entry(name: str, content_type: str, data: bytes) -> dict[str, object]:
    return file_entry(name, data + b" and the rest of the file", contentType=content_type)


@pytest.mark.parametrize(
    ("extension", "content_type", "head"), FORMATS, ids=[f[0] for f in FORMATS]
)
def test_each_format_is_accepted_under_its_extension(
    api: Api, world: World, extension: str, content_type: str, head: bytes
) -> None:
    """§12.1: a file whose first bytes are its extension's format is stored."""
    body = submission(world, world.open_case, [_entry(f"file.{extension}", content_type, head)])
    response = api.case(body)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("extension", "content_type", "head"), FORMATS, ids=[f[0] for f in FORMATS]
)
def test_each_format_is_refused_under_a_wrong_extension(
    api: Api, world: World, extension: str, content_type: str, head: bytes
) -> None:
    """§12.1: under a name whose format it is not → 415 naming the file and the bytes."""
    wrong = "png" if extension != "png" else "pdf"
    entry = _entry(f"renamed.{wrong}", "application/octet-stream", head)
    body = submission(
        world, world.open_case, [file_entry("fine.txt", b"ok", contentType="text/plain"), entry]
    )
    response = api.case(body)
    what = "a PNG image" if wrong == "png" else "a PDF document"
    assert_error(
        response,
        415,
        "GenericError",
        f"payload.files[1] ('renamed.{wrong}'): the content is ",
        f", not {what}",
    )


EXECUTABLES = [
    ("photo.jpg", "image/jpeg", WINDOWS_EXE, "a Windows executable, not a JPEG image"),
    ("addin.xll", "application/octet-stream", WINDOWS_EXE, "a Windows executable;"),
    ("notes.txt", "text/plain", ELF, "an ELF executable (Linux/Unix);"),
    ("report.pdf", "application/pdf", MACH_O_FAT, "a Mach-O executable (macOS), not a PDF"),
    ("data.csv", "text/csv", WINDOWS_EXE, "a Windows executable;"),
]


@pytest.mark.parametrize(("name", "content_type", "data", "what"), EXECUTABLES)
def test_executables_are_refused_under_innocent_names(
    api: Api, world: World, name: str, content_type: str, data: bytes, what: str
) -> None:
    """§12.1: PE, ELF and Mach-O under any name, .xll and text types included."""
    body = submission(world, world.open_case, [file_entry(name, data, contentType=content_type)])
    assert_error(
        api.case(body), 415, "GenericError", f"payload.files[0] ('{name}'): the content is {what}"
    )


def test_an_executable_in_a_binary_submission_is_refused(api: Api, world: World) -> None:
    """§12.1 over §10.1: the raw bytes of a part are sniffed the same way."""
    document = submission(
        world,
        world.open_case,
        [{"part": "f0", "fileName": "photo.jpg", "contentType": "image/jpeg"}],
    )
    response = post_parts(
        api,
        "submitForCase",
        [submission_part(document), ("f0", ("photo.jpg", WINDOWS_EXE, "image/jpeg"))],
    )
    assert_error(
        response, 415, "GenericError", "'photo.jpg'", "a Windows executable, not a JPEG image"
    )


def test_a_format_in_a_binary_submission_is_accepted(api: Api, world: World) -> None:
    """§12.1 over §10.1: a raw part that starts as its format is stored."""
    document = submission(
        world,
        world.open_case,
        [{"part": "f0", "fileName": "scan.pdf", "contentType": "application/pdf"}],
    )
    parts = [submission_part(document), ("f0", ("scan.pdf", b"%PDF-1.4\nrest", "application/pdf"))]
    response = post_parts(api, "submitForCase", parts)
    assert response.status_code == 200, response.text


@pytest.fixture
def nothing_stored(server: ServerProcess) -> Iterator[None]:
    rows, blobs = row_counts(server), server.blob_files()
    yield
    assert row_counts(server) == rows
    assert server.blob_files() == blobs


@pytest.mark.usefixtures("nothing_stored")
def test_an_executable_fnol_attachment_is_refused(api: Api, world: World) -> None:
    """§12.1 on §10.2: an FNoL attachment is sniffed too; nothing is stored."""
    parts: list[tuple[str, tuple[str | None, bytes, str]]] = [
        ("fnol", (None, json.dumps(fnol(world)).encode(), FNOL_TYPE)),
        ("photo1", ("kitchen.jpg", ELF, "image/jpeg")),
    ]
    response = post_files(api, parts)
    assert_error(
        response, 415, "GenericError", "'kitchen.jpg'", "an ELF executable (Linux/Unix), not a JPEG"
    )


@pytest.mark.usefixtures("nothing_stored")
def test_a_mismatch_is_reported_after_the_checks_of_step_3(api: Api, world: World) -> None:
    """§9: what §12.1 finds comes after step 3 (here 3.2, an unknown employee → 404)."""
    body = submission(
        world, world.open_case, [file_entry("photo.jpg", WINDOWS_EXE)], userEmail="nobody@x.example"
    )
    assert api.case(body).status_code == 404


@pytest.mark.usefixtures("nothing_stored")
def test_a_disallowed_extension_comes_before_a_mismatch(api: Api, world: World) -> None:
    """§9: step 3.5 (a later file's extension) is reported before §12.1 (an earlier file)."""
    files = [
        file_entry("photo.jpg", WINDOWS_EXE),
        file_entry("tool.exe", b"x", contentType="application/octet-stream"),
    ]
    response = api.case(submission(world, world.open_case, files))
    assert_error(response, 415, "GenericError", "payload.files[1] ('tool.exe')", "not allowed")


def test_the_whole_body_is_read_before_a_mismatch_is_answered(api: Api, world: World) -> None:
    """§9: the body is read to its end either way; a fault later in it (§3.1) wins."""
    files = [file_entry("photo.jpg", WINDOWS_EXE), file_entry("bad/name.txt", b"x")]
    response = api.case(submission(world, world.open_case, files))
    assert_error(response, 400, "InvalidRequest", "payload.files[1]", ".fileName")


def test_a_bidi_control_in_a_file_name_is_400(api: Api, world: World) -> None:
    """§12.1: bidirectional controls in fileName → 400 naming the file."""
    name = "invoice\u202efdp.exe"
    response = api.case(submission(world, world.open_case, [file_entry(name, b"x")]))
    assert_error(response, 400, "InvalidRequest", "payload.files[0].fileName", "U+202E")


def test_a_bidi_control_in_a_binary_part_file_name_is_400(api: Api, world: World) -> None:
    """§12.1 over §10.1: the name from a part's headers is checked the same way."""
    document = submission(world, world.open_case, [{"part": "f0", "contentType": "image/jpeg"}])
    parts = [
        submission_part(document),
        ("f0", ("photo\u2067gpj.exe", b"\xff\xd8\xff", "image/jpeg")),
    ]
    response = post_parts(api, "submitForCase", parts)
    assert response.status_code == 400, response.text
    assert "U+2067" in response.json()["errorDescription"]
