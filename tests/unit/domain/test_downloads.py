"""The HTTP rules of a download (§11.2 ``…/content``): ranges, tags, names, active types."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ecb_files.domain.downloads import (
    ByteRange,
    Unsatisfiable,
    ascii_fallback,
    content_disposition,
    etag_matches,
    parse_range,
    range_still_applies,
    runs_in_a_browser,
    served_media_type,
)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-0", ByteRange(0, 1, 100)),
        ("bytes=0-99", ByteRange(0, 100, 100)),
        ("bytes=10-19", ByteRange(10, 10, 100)),
        ("bytes=90-", ByteRange(90, 10, 100)),
        ("bytes=90-1000", ByteRange(90, 10, 100)),
        ("bytes=-10", ByteRange(90, 10, 100)),
        ("bytes=-1000", ByteRange(0, 100, 100)),
        ("BYTES = 5 - 6", ByteRange(5, 2, 100)),
    ],
)
def test_a_single_range_is_served(header: str, expected: ByteRange) -> None:
    assert parse_range(header, 100) == expected


@pytest.mark.parametrize(
    "header",
    [None, "bytes=0-1,5-6", "bytes=-", "items=0-1", "bytes=5-1", "bytes=a-b", "bytes=0-1;x"],
)
def test_several_ranges_or_a_malformed_header_mean_the_whole_file(header: str | None) -> None:
    assert parse_range(header, 100) is None


@pytest.mark.parametrize("header", ["bytes=100-", "bytes=100-200", "bytes=-0", "bytes=1000-"])
def test_a_range_past_the_end_is_unsatisfiable(header: str) -> None:
    with pytest.raises(Unsatisfiable):
        parse_range(header, 100)


def test_content_range_names_the_last_byte_and_the_size() -> None:
    assert ByteRange(10, 10, 100).content_range == "bytes 10-19/100"


def test_if_none_match_compares_weakly_and_takes_lists_and_star() -> None:
    tag = '"abc"'
    assert etag_matches('"abc"', tag)
    assert etag_matches('W/"abc"', tag)
    assert etag_matches('"x", "abc"', tag)
    assert etag_matches("*", tag)
    assert not etag_matches('"abd"', tag)
    assert not etag_matches(None, tag)


def test_if_range_needs_the_current_strong_tag() -> None:
    assert range_still_applies(None, '"abc"')
    assert range_still_applies('"abc"', '"abc"')
    assert not range_still_applies('W/"abc"', '"abc"')
    assert not range_still_applies("Fri, 04 Dec 2026 10:00:00 GMT", '"abc"')


@pytest.mark.parametrize(
    ("name", "fallback", "encoded"),
    [
        ("photo.jpg", "photo.jpg", "photo.jpg"),
        ("Café Søn.pdf", "Cafe S_n.pdf", "Caf%C3%A9%20S%C3%B8n.pdf"),
        ('a"b.txt', "a_b.txt", "a%22b.txt"),
        ("a;b,c.txt", "a_b_c.txt", "a%3Bb%2Cc.txt"),
        ("100%.txt", "100_.txt", "100%25.txt"),
        ("Schaden\r\nSet-Cookie: x=1.txt", "Schaden__Set-Cookie: x=1.txt", None),
        ("照片.jpg", "__.jpg", "%E7%85%A7%E7%89%87.jpg"),
        ("😀", "_", "%F0%9F%98%80"),
    ],
)
def test_content_disposition_is_safe_for_any_name(
    name: str, fallback: str, encoded: str | None
) -> None:
    header = content_disposition(name)
    assert header.startswith(f"attachment; filename=\"{fallback}\"; filename*=UTF-8''")
    if encoded is not None:
        assert header.endswith(encoded)


@given(st.text(min_size=1, max_size=60))
def test_no_name_can_break_out_of_the_header(name: str) -> None:
    header = content_disposition(name)
    assert re.fullmatch(r"[\x20-\x7e]+", header)
    match = re.fullmatch(
        r'attachment; filename="([^"\\]*)"; filename\*=UTF-8\'\'([A-Za-z0-9!#$&+\-.^_`|~%]*)',
        header,
    )
    assert match is not None
    assert ascii_fallback(name) == match.group(1)


@pytest.mark.parametrize(
    ("content_type", "name"),
    [
        ("text/html", "a.html"),
        ("application/octet-stream", "a.htm"),
        ("image/svg+xml", "a.svg"),
        ("image/jpeg", "disguised.svg"),
        ("application/xml", "a.xml"),
        ("text/xml", "a.txt"),
        ("application/xhtml+xml", "a.xhtml"),
        ("application/x-unheard-of", "a.dat"),
        ("application/octet-stream", "a.dat"),
        ("text/javascript", "a.txt"),
        ("message/rfc822", "a.mht"),
    ],
)
def test_types_a_browser_would_run_are_active(content_type: str, name: str) -> None:
    assert runs_in_a_browser(content_type, name)


@pytest.mark.parametrize(
    ("content_type", "name"),
    [
        ("image/jpeg", "a.jpg"),
        ("image/png; charset=x", "a.png"),
        ("application/pdf", "a.pdf"),
        ("text/plain", "a.txt"),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "a.docx"),
        ("application/x-zip-compressed", "a.zip"),
        ("video/mp4", "a.mp4"),
    ],
)
def test_passive_types_are_not_active(content_type: str, name: str) -> None:
    assert not runs_in_a_browser(content_type, name)


def test_the_served_type_is_the_bare_stored_type_or_octet_stream() -> None:
    assert served_media_type("Image/JPEG; q=1") == "image/jpeg"
    assert served_media_type("text/html\r\nX: y") == "application/octet-stream"
    assert served_media_type("nonsense") == "application/octet-stream"
