"""Allowed extensions and accepted content types (§4, §3.2 step 3.5, §9)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.content_samples import sample_for
from tests.functional.conftest import Api, assert_error, file_entry, submission
from tests.functional.world import World

# §4, written out literally (the seed's table, de-duplicated), by group.
GROUPS = {
    "Images": "webm bmp gif ico jpg jpeg jpe pic pict png rf rgb dwg svg svgz tif tiff",
    "Video": "mkv 3gp asf avi mpeg mpg mpa mpe m1v m2v m4u mp4 mp4v mpg4 mov qt ogv m4v rv",
    "Audio": (
        "mp2 mp3 mpga m2a m4a m4b m4p m4r flac ra ram wav ogg oga spx mid midi wma wax mka aac"
        " adt adts aif aifc aiff au m3u rmi rpm smd smx smz snd s3m qcp"
    ),
    "Web": "xhtml xht htmls shtml html htm mht",
    "Office": (
        "xl xld xlk xlv word doc rtf docm one ods ppz odt dot mso xml xsl xll ttf tex texi"
        " texinfo mpc xls xla xlb xlc xlm xlt xlw xlam xlsb xlsm xltm pot ppt pwz ppa pps ppam"
        " pptm ppsm potm dotm potx ppsx pptx xlsx xltx docx dotx"
    ),
    "Common": "eml msg pdf sig json p7s zip vcf vcs txt text vsd csv xps oxps heic avif",
    "Calculation documents": "frs sit nta",
    "Other": "xsd css emz wmz dat ics url vst vsw rtx rt vml rels",
}
ALLOWED_EXTENSIONS: tuple[str, ...] = tuple(
    ext for extensions in GROUPS.values() for ext in extensions.split()
)
OCTET_STREAM = "application/octet-stream"
CONTENT_TYPES_PATH = "/ecx/host/api/integration/v1/file/contentTypes"


def accept_all(api: Api, world: World, entries: list[dict[str, Any]]) -> None:
    """Submit ``entries`` in requests of at most 100 files; every request must succeed."""
    for start in range(0, len(entries), 100):
        batch = entries[start : start + 100]
        response = api.dn(submission(world, world.open_dn, batch))
        assert response.status_code == 200, response.text
        names = [f["fileName"] for f in response.json()["payload"]["files"]]
        assert names == [e["fileName"] for e in batch]


def test_the_literal_list_has_no_duplicates() -> None:
    """§4: the extension list is de-duplicated (guards this test module's own table)."""
    assert len(set(ALLOWED_EXTENSIONS)) == len(ALLOWED_EXTENSIONS) == 162


def test_every_allowed_extension_is_accepted_with_octet_stream(api: Api, world: World) -> None:
    """§4: application/octet-stream is accepted for every allowed extension."""
    entries = [
        file_entry(f"f.{ext}", sample_for(f"f.{ext}"), contentType=OCTET_STREAM)
        for ext in ALLOWED_EXTENSIONS
    ]
    accept_all(api, world, entries)


def test_every_type_the_table_lists_is_accepted_for_its_extension(api: Api, world: World) -> None:
    """§4: the served table is the one the check uses — each listed pair is accepted."""
    table = httpx.get(api.server.url + CONTENT_TYPES_PATH).json()
    entries = [
        file_entry(f"f.{ext}", sample_for(f"f.{ext}"), contentType=content_type)
        for ext, types in table.items()
        for content_type in types
    ]
    accept_all(api, world, entries)


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("photo.jpg", "image/jpeg"),
        ("photo.jpg", "image/jpg"),
        ("photo.jpeg", "image/pjpeg"),
        ("archive.zip", "application/zip"),
        ("archive.zip", "application/x-zip-compressed"),
        ("sheet.csv", "text/csv"),
        ("sheet.csv", "application/vnd.ms-excel"),
        ("filename.txt", "text/plain"),
        ("report.pdf", "application/pdf"),
        ("image.png", "image/png"),
        ("letter.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("clip.mp4", "video/mp4"),
    ],
)
def test_iana_types_and_the_aliases_clients_send_are_accepted(
    api: Api, world: World, name: str, content_type: str
) -> None:
    """§4: the IANA type plus real clients' aliases (image/jpg, x-zip-compressed, …)."""
    entry = file_entry(name, sample_for(name), contentType=content_type)
    response = api.case(submission(world, world.open_case, [entry]))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("PHOTO.JPG", "image/jpeg"),
        ("Photo.Jpeg", "IMAGE/JPEG"),
        ("notes.txt", "text/plain; charset=utf-8"),
        ("notes.TXT", "Text/Plain ; Charset=UTF-8"),
        ("data.bin.zip", "application/zip"),
        ("x.pdf", "APPLICATION/OCTET-STREAM"),
    ],
)
def test_extensions_and_mime_types_compare_case_insensitively_with_parameters(
    api: Api, world: World, name: str, content_type: str
) -> None:
    """§4: extensions case-insensitive, taken after the last dot; §9: MIME types
    case-insensitive and may carry parameters."""
    entry = file_entry(name, sample_for(name), contentType=content_type)
    response = api.case(submission(world, world.open_case, [entry]))
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "name",
    ["tool.exe", "script.js", "run.sh", "archive.7z", "report.pdf.exe", "photo.jpg.", "photo.jpg "],
)
def test_extension_not_allowed_is_415_naming_the_file(api: Api, world: World, name: str) -> None:
    """§3.2 step 3.5: an extension not in §4 → 415 GenericError naming the file index and name."""
    entry = file_entry(name, contentType=OCTET_STREAM)
    response = api.case(submission(world, world.open_case, [entry]))
    assert_error(response, 415, "GenericError", "payload.files[0]", name)


@pytest.mark.parametrize("name", [".bashrc", "noext", "trailing.", ".jpg"])
def test_name_without_an_extension_is_415(api: Api, world: World, name: str) -> None:
    """§9: no dot, ending in a dot, or starting with its only dot → no allowed extension → 415."""
    entry = file_entry(name, contentType=OCTET_STREAM)
    response = api.case(submission(world, world.open_case, [entry]))
    assert_error(response, 415, "GenericError", "payload.files[0]", name)


@pytest.mark.parametrize(
    ("name", "content_type"),
    [
        ("photo.jpg", "application/pdf"),
        ("report.pdf", "image/jpeg"),
        ("sheet.xlsx", "text/html"),
        ("photo.jpg", "image/*"),
        ("photo.jpg", "nonsense"),
    ],
)
def test_content_type_not_accepted_for_the_extension_is_415(
    api: Api, world: World, name: str, content_type: str
) -> None:
    """§3.2 step 3.5: an allowed extension with a contentType not accepted for it → 415."""
    entry = file_entry(name, contentType=content_type)
    response = api.case(submission(world, world.open_case, [entry]))
    assert_error(response, 415, "GenericError", "payload.files[0]", name)


def test_type_fault_names_the_index_of_its_file(api: Api, world: World) -> None:
    """§3.2 step 3.5: the 415 names which file (index and name) — here the third."""
    files = [file_entry("a.jpg"), file_entry("b.png", contentType="image/png"), file_entry("c.bat")]
    response = api.case(submission(world, world.open_case, files))
    assert_error(response, 415, "GenericError", "payload.files[2]", "c.bat")


def test_file_types_are_checked_on_the_dn_endpoint_too(api: Api, world: World) -> None:
    """§3.2 step 3.5 holds for submitForDamageNotification."""
    response = api.dn(submission(world, world.open_dn, [file_entry("x.exe")]))
    assert_error(response, 415, "GenericError", "payload.files[0]", "x.exe")
