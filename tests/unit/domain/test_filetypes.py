"""§4 (file types) and the §9 details on extensions and MIME types."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType

import pytest

from ecb_files.domain.filetypes import (
    GROUPS,
    OCTET_STREAM,
    accepted_types,
    content_types_document,
    extension_of,
    file_types,
    guess_content_type,
    is_accepted,
    is_allowed_extension,
)

ROOT = Path(__file__).resolve().parents[3]

# §4, written out literally: the test is the second, independent copy.
SECTION_4 = {
    "Images": "webm bmp gif ico jpg jpeg jpe pic pict png rf rgb dwg svg svgz tif tiff",
    "Video": "mkv 3gp asf avi mpeg mpg mpa mpe m1v m2v m4u mp4 mp4v mpg4 mov qt ogv m4v rv",
    "Audio": (
        "mp2 mp3 mpga m2a m4a m4b m4p m4r flac ra ram wav ogg oga spx mid midi wma wax mka "
        "aac adt adts aif aifc aiff au m3u rmi rpm smd smx smz snd s3m qcp"
    ),
    "Web": "xhtml xht htmls shtml html htm mht",
    "Office": (
        "xl xld xlk xlv word doc rtf docm one ods ppz odt dot mso xml xsl xll ttf tex texi "
        "texinfo mpc xls xla xlb xlc xlm xlt xlw xlam xlsb xlsm xltm pot ppt pwz ppa pps "
        "ppam pptm ppsm potm dotm potx ppsx pptx xlsx xltx docx dotx"
    ),
    "Common": "eml msg pdf sig json p7s zip vcf vcs txt text vsd csv xps oxps heic avif",
    "Calculation documents": "frs sit nta",
    "Other": "xsd css emz wmz dat ics url vst vsw rtx rt vml rels",
}
SECTION_4_EXTENSIONS = [ext for exts in SECTION_4.values() for ext in exts.split()]
ALL_EXTENSIONS = sorted(set(SECTION_4_EXTENSIONS))

# RFC 6838 §4.2 restricted-name characters, for type and subtype.
MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*", re.IGNORECASE)


def test_section_4_list_has_no_duplicates() -> None:
    """§4: the literal list in this test is itself de-duplicated (guards the test)."""
    assert len(SECTION_4_EXTENSIONS) == len(ALL_EXTENSIONS) == 162


def test_served_document_lists_exactly_the_section_4_extensions_in_order() -> None:
    """§4/§9: GET …/file/contentTypes lists exactly the §4 extensions."""
    assert list(content_types_document()) == SECTION_4_EXTENSIONS


def test_every_extension_sits_in_its_section_4_group() -> None:
    """§4: the eight groups, in order, each holding its listed extensions."""
    assert list(GROUPS) == list(SECTION_4)
    by_group = {
        group: [ft.extension for ft in file_types() if ft.group == group] for group in GROUPS
    }
    assert by_group == {group: exts.split() for group, exts in SECTION_4.items()}


@pytest.mark.parametrize("ext", ALL_EXTENSIONS)
def test_every_extension_is_allowed_in_any_letter_case(ext: str) -> None:
    """§4: extensions are case-insensitive."""
    assert is_allowed_extension(ext)
    assert is_allowed_extension(ext.upper())


@pytest.mark.parametrize("ext", ALL_EXTENSIONS)
def test_every_extension_accepts_its_canonical_type_and_octet_stream(ext: str) -> None:
    """§4: each extension accepts its canonical (IANA) type and application/octet-stream."""
    types = accepted_types(ext)
    assert types is not None
    assert is_accepted(ext, types[0])
    assert is_accepted(ext, OCTET_STREAM)
    assert types[-1] == OCTET_STREAM
    assert types.count(OCTET_STREAM) == 1


@pytest.mark.parametrize("ext", ALL_EXTENSIONS)
def test_every_accepted_type_is_a_well_formed_media_type(ext: str) -> None:
    """§4: the table holds only type/subtype names, each once per extension."""
    types = accepted_types(ext)
    assert types is not None
    assert all(MEDIA_TYPE.fullmatch(t) for t in types), types
    assert len({t.lower() for t in types}) == len(types)


def test_served_lists_end_with_octet_stream_and_match_accepted_types() -> None:
    """§4/§9: the served JSON is the table, octet-stream last in every list."""
    document = content_types_document()
    for ext, types in document.items():
        assert types[-1] == OCTET_STREAM
        assert tuple(types) == accepted_types(ext)
    assert json.loads(json.dumps(document)) == document


def test_served_document_is_a_fresh_copy() -> None:
    """§4: a caller changing the served value cannot change the table."""
    content_types_document()["pdf"].append("text/html")
    content_types_document().pop("jpg")
    assert not is_accepted("pdf", "text/html")
    assert "jpg" in content_types_document()


@pytest.mark.parametrize(
    ("ext", "content_type"),
    [
        ("jpg", "image/jpeg"),
        ("jpg", "image/jpg"),
        ("jpg", "image/pjpeg"),
        ("jpeg", "image/jpg"),
        ("jpe", "image/pjpeg"),
        ("png", "image/x-png"),
        ("ico", "image/x-icon"),
        ("bmp", "image/x-ms-bmp"),
        ("heic", "image/heif"),
        ("zip", "application/zip"),
        ("zip", "application/x-zip-compressed"),
        ("zip", "application/x-zip"),
        ("csv", "text/csv"),
        ("csv", "application/vnd.ms-excel"),
        ("csv", "text/comma-separated-values"),
        ("csv", "application/csv"),
        ("csv", "text/plain"),
        ("txt", "text/plain"),
        ("text", "text/plain"),
        ("pdf", "application/pdf"),
        ("pdf", "application/x-pdf"),
        ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("docx", "application/msword"),
        ("docx", "application/x-zip-compressed"),
        ("xlsx", "application/vnd.ms-excel"),
        ("xlsm", "application/vnd.ms-excel.sheet.macroEnabled.12"),
        ("pptx", "application/vnd.ms-powerpoint"),
        ("doc", "application/msword"),
        ("xls", "application/x-msexcel"),
        ("ppt", "application/mspowerpoint"),
        ("rtf", "text/rtf"),
        ("xml", "text/xml"),
        ("eml", "message/rfc822"),
        ("msg", "application/vnd.ms-outlook"),
        ("mp3", "audio/mp3"),
        ("m4a", "audio/x-m4a"),
        ("wav", "audio/x-wav"),
        ("mkv", "video/x-matroska"),
        ("avi", "video/avi"),
        ("mov", "video/quicktime"),
        ("vcf", "text/x-vcard"),
        ("json", "text/json"),
        ("mht", "multipart/related"),
    ],
)
def test_aliases_real_clients_send_are_accepted(ext: str, content_type: str) -> None:
    """§4: the IANA type plus the aliases clients send."""
    assert is_accepted(ext, content_type)


@pytest.mark.parametrize(
    ("ext", "content_type"),
    [
        ("PDF", "application/pdf"),
        ("pdf", "Application/PDF"),
        ("Jpg", "IMAGE/JPEG"),
        ("csv", "text/csv; charset=utf-8"),
        ("csv", "text/csv;charset=UTF-8"),
        ("txt", "text/plain; charset=iso-8859-1; format=flowed"),
        ("pdf", "  application/pdf  "),
        ("pdf", 'application/pdf ; name="x.pdf"'),
        ("xlsm", "APPLICATION/VND.MS-EXCEL.SHEET.MACROENABLED.12"),
        ("dat", "Application/Octet-Stream; charset=binary"),
    ],
)
def test_comparison_ignores_case_parameters_and_whitespace(ext: str, content_type: str) -> None:
    """§9: MIME types are case-insensitive and may carry parameters."""
    assert is_accepted(ext, content_type)


@pytest.mark.parametrize(
    ("ext", "content_type"),
    [
        ("pdf", "image/jpeg"),
        ("txt", "application/pdf"),
        ("jpg", "image/png"),
        ("png", "image/jpeg"),
        ("docx", "text/plain"),
        ("csv", "text/csv-schema"),
        ("pdf", "application/pdfx"),
        ("pdf", "application"),
        ("pdf", ""),
        ("pdf", "   "),
        ("pdf", "; charset=utf-8"),
        ("pdf", "application/pdf/extra"),
        ("html", "application/xhtml+xml"),
        ("mso", "application/vnd.ms-office"),
    ],
)
def test_a_type_not_listed_for_the_extension_is_refused(ext: str, content_type: str) -> None:
    """§4/§3.2 step 3.5: a contentType not accepted for the extension → 415."""
    assert not is_accepted(ext, content_type)


@pytest.mark.parametrize("ext", ["exe", "tar", "gz", "js", "bashrc", "", "jpg ", ".jpg", "p df"])
def test_an_extension_not_in_section_4_is_refused_even_as_octet_stream(ext: str) -> None:
    """§4: only the listed extensions are allowed, whatever the content type."""
    assert not is_allowed_extension(ext)
    assert accepted_types(ext) is None
    assert not is_accepted(ext, OCTET_STREAM)


@pytest.mark.parametrize(
    ("file_name", "expected"),
    [
        ("a.JPG", "jpg"),
        ("photo.jpeg", "jpeg"),
        ("a.tar.gz", "gz"),
        ("a..pdf", "pdf"),
        ("..pdf", "pdf"),
        ("Rapport 2024.Final.DOCX", "docx"),
        ("x.", None),
        ("trailing.", None),
        ("noext", None),
        ("", None),
        (".bashrc", None),
        (".", None),
        ("..", None),
        ("a.pdf ", "pdf "),
    ],
)
def test_extension_of(file_name: str, expected: str | None) -> None:
    """§4/§9: what follows the last dot, lower-cased; none for no dot, a trailing dot,
    or a name starting with its only dot."""
    assert extension_of(file_name) == expected


@pytest.mark.parametrize(
    ("file_name", "expected"),
    [
        ("a.JPG", "image/jpeg"),
        ("letter.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("data.csv", "text/csv"),
        ("film.mkv", "video/matroska"),
        ("part.mso", OCTET_STREAM),
        ("setup.exe", None),
        (".bashrc", None),
        ("noext", None),
    ],
)
def test_guess_content_type_gives_the_canonical_type(file_name: str, expected: str | None) -> None:
    """§4: the first (canonical) type of the file's extension, for clients."""
    assert guess_content_type(file_name) == expected


def _load_doc_script() -> ModuleType:
    path = ROOT / "scripts" / "gen_file_types_doc.py"
    spec = importlib.util.spec_from_file_location("gen_file_types_doc", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_table_matches_the_code() -> None:
    """§4: the documented table is generated from the code and must not drift
    (fix with `python scripts/gen_file_types_doc.py --write`)."""
    script = _load_doc_script()
    doc = (ROOT / "docs" / "file-types.md").read_text(encoding="utf-8")
    assert script.generated_section(doc) == script.render_table()


def test_docs_table_names_every_extension() -> None:
    """§4: every allowed extension appears in the generated table."""
    table = _load_doc_script().render_table()
    for ext in ALL_EXTENSIONS:
        assert f"| `.{ext}` |" in table
