"""The streaming multipart reader (§10): parts, headers, bounds and malformed bodies."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field

import pytest
from ingest_support import one_byte_at_a_time, split_in_two

from ecb_files.config import Limits
from ecb_files.errors import InvalidRequest
from ecb_files.ingest.multipart import (
    BoundaryFreeSha256,
    MultipartReader,
    PartHeaders,
    parse_multipart_content_type,
)

BOUNDARY = "----b0undary7MA4YWxkTrZu0gW"


@dataclass
class Recorder:
    """Keeps every part with its bytes joined; checks the handler calls' order."""

    parts: list[tuple[PartHeaders, bytearray]] = field(default_factory=list)
    open: bool = False

    def part_begin(self, headers: PartHeaders) -> None:
        assert not self.open
        self.open = True
        self.parts.append((headers, bytearray()))

    def part_data(self, data: bytes) -> None:
        assert self.open
        assert data
        self.parts[-1][1].extend(data)

    def part_end(self) -> None:
        assert self.open
        self.open = False


def part(headers: str, data: bytes) -> bytes:
    return f"--{BOUNDARY}\r\n{headers}\r\n\r\n".encode() + data + b"\r\n"


def body(*parts: bytes, close: bool = True) -> bytes:
    return b"".join(parts) + (f"--{BOUNDARY}--\r\n".encode() if close else b"")


def read(chunks: Iterable[bytes] | bytes, limits: Limits | None = None) -> Recorder:
    if isinstance(chunks, bytes):
        chunks = [chunks]
    recorder = Recorder()
    reader = MultipartReader(BOUNDARY, recorder, limits or Limits())
    for chunk in chunks:
        reader.feed(chunk)
    reader.finish()
    return recorder


def failure(raw: bytes, limits: Limits | None = None) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as caught:
        read(raw, limits)
    return caught.value


def summary(recorder: Recorder) -> list[tuple[PartHeaders, bytes]]:
    return [(headers, bytes(data)) for headers, data in recorder.parts]


# Data that looks like delimiters without being one, at the edges of chunks.
TRICKY = b"\r\n--" + BOUNDARY[:-1].encode() + b"x\r\n-\r\r\n--\r\n" + os.urandom(64)
SAMPLE = body(
    part(
        'Content-Disposition: form-data; name="submission"\r\nContent-Type: application/json',
        b'{"a": 1}',
    ),
    part(
        'Content-Disposition: form-data; name="photo"; filename="k\\"itchen.jpg"\r\n'
        "Content-Type: image/jpeg",
        TRICKY,
    ),
    part('Content-Disposition: form-data; name="empty"', b""),
)


def test_parts_come_with_their_headers_and_bytes_in_order() -> None:
    """§10: RFC 7578 parts, names and file names from Content-Disposition."""
    parts = summary(read(SAMPLE))
    assert [(h.index, h.name, h.filename) for h, _ in parts] == [
        (0, "submission", None),
        (1, "photo", 'k"itchen.jpg'),
        (2, "empty", None),
    ]
    assert parts[0][0].content_type == "application/json"
    assert parts[0][0].disposition == "form-data"
    assert [data for _, data in parts] == [b'{"a": 1}', TRICKY, b""]


def test_every_split_in_two_reads_the_same() -> None:
    """§10: parsing is streaming; a chunk may end anywhere."""
    expected = summary(read(SAMPLE))
    for chunks in split_in_two(SAMPLE):
        assert summary(read(chunks)) == expected


def test_one_byte_at_a_time_reads_the_same() -> None:
    assert summary(read(one_byte_at_a_time(SAMPLE))) == summary(read(SAMPLE))


def test_large_part_data_is_handed_on_without_being_held() -> None:
    """§6: bytes go on as they arrive; nothing waits for the part's end."""
    recorder = Recorder()
    reader = MultipartReader(BOUNDARY, recorder, Limits())
    reader.feed(part('Content-Disposition: form-data; name="f"', b"")[:-2])
    reader.feed(b"x" * 100_000)
    assert len(recorder.parts[0][1]) >= 100_000 - len(BOUNDARY) - 4


def test_rfc5987_filename_star_wins_over_filename() -> None:
    """§10.1: the file name from filename* (RFC 5987) when given."""
    raw = body(
        part(
            'Content-Disposition: attachment; name="f"; filename="fallback.txt"; '
            "filename*=UTF-8''%C3%A6bler%20og%20p%C3%A6rer.txt",
            b"x",
        )
    )
    headers = read(raw).parts[0][0]
    assert headers.filename == "æbler og pærer.txt"
    assert headers.disposition == "attachment"


def test_raw_utf8_filename_is_read_as_utf8() -> None:
    """RFC 7578 §5.1: senders put UTF-8 in filename directly."""
    raw = body(part('Content-Disposition: form-data; name="f"; filename="Søn.pdf"', b"x"))
    assert read(raw).parts[0][0].filename == "Søn.pdf"


def test_a_bad_filename_star_is_refused_naming_the_part() -> None:
    raw = body(part("Content-Disposition: form-data; name=\"f\"; filename*=UTF-7''x", b"x"))
    assert failure(raw).description.startswith("part 0 ('f'): Content-Disposition filename*")


def test_transfer_encoding_is_reported_lower_cased() -> None:
    raw = body(
        part('Content-Disposition: form-data; name="f"\r\nContent-Transfer-Encoding: BASE64', b"")
    )
    headers = read(raw).parts[0][0]
    assert headers.transfer_encoding == "base64"
    assert headers.base64


def test_an_unsupported_transfer_encoding_is_refused() -> None:
    raw = body(
        part(
            'Content-Disposition: form-data; name="f"\r\n'
            "Content-Transfer-Encoding: quoted-printable",
            b"",
        )
    )
    error = failure(raw)
    assert error.description.startswith("part 0 ('f'): Content-Transfer-Encoding")


def test_two_content_type_headers_in_a_part_are_refused() -> None:
    headers = 'Content-Disposition: form-data; name="f"\r\nContent-Type: a/b\r\nContent-Type: c/d'
    raw = body(part(headers, b""))
    assert failure(raw).description == "part 0 ('f'): has two Content-Type headers"


def test_missing_closing_delimiter_is_refused_naming_the_last_part() -> None:
    """§10: no closing boundary → 400."""
    raw = body(part('Content-Disposition: form-data; name="photo"', b"abc"), close=False)
    error = failure(raw)
    assert error.status == 400
    assert error.description == (
        "part 0 ('photo'): the body ends without the closing delimiter (--boundary--)"
    )


def test_body_cut_inside_part_data_is_refused() -> None:
    raw = part('Content-Disposition: form-data; name="photo"', b"abcdef")[:-4]
    assert "without the closing delimiter" in failure(raw).description


def test_part_without_end_of_headers_is_refused() -> None:
    """§10: a part without its headers' end → 400 naming the part."""
    raw = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="photo"\r\n'.encode()
    assert failure(raw).description == (
        "part 0 ('photo'): the body ends inside the part's headers (no empty line)"
    )


def test_body_without_any_delimiter_is_refused() -> None:
    assert failure(b"").description == "multipart body: no delimiter line (--boundary) was found"
    assert failure(b"just text").description.startswith("multipart body: malformed multipart")


def test_garbage_after_a_delimiter_is_refused_with_its_offset() -> None:
    raw = f"--{BOUNDARY}xx\r\n".encode()
    error = failure(raw)
    assert error.description.startswith("multipart body: malformed multipart at byte")


def test_a_header_line_without_colon_is_refused_naming_the_part() -> None:
    raw = body(part('Content-Disposition: form-data; name="a"\r\nno colon here', b""))
    assert failure(raw).description.startswith("part 0 ('a'): malformed multipart at byte")


def test_part_headers_up_to_the_bound_are_accepted() -> None:
    """§10: part headers ≤ 16 KiB per part."""
    limits = Limits(max_part_header_bytes=200)
    name_header = 'Content-Disposition: form-data; name="a"\r\n'
    filler = "X-Pad: " + "p" * (200 - len(name_header) - len("X-Pad: \r\n"))
    headers = f"{name_header}{filler}"
    assert len(f"{headers}\r\n") == 200
    read(body(part(headers, b"x")), limits)
    error = failure(body(part(headers + "p", b"x")), limits)
    assert error.description == (
        "part 0 ('a'): its headers are longer than maxPartHeaderBytes 200 bytes"
    )


def test_endless_headers_are_refused_without_being_held() -> None:
    recorder = Recorder()
    reader = MultipartReader(BOUNDARY, recorder, Limits(max_part_header_bytes=1000))
    reader.feed(f"--{BOUNDARY}\r\nX-A: ".encode())
    for _ in range(9):
        reader.feed(b"a" * 100)
    with pytest.raises(InvalidRequest, match="maxPartHeaderBytes 1000"):
        reader.feed(b"a" * 100)


def test_parts_up_to_max_parts_are_accepted_and_one_more_refused() -> None:
    """§10: at most 64 parts beyond max_files_per_request."""
    limits = Limits(max_files_per_request=2, max_extra_parts=1)
    one = part('Content-Disposition: form-data; name="p"', b"x")
    assert len(read(body(*[one] * 3), limits).parts) == 3
    error = failure(body(*[one] * 4), limits)
    assert error.description == "multipart body: more than maxParts 3 parts"


def test_epilogue_after_the_closing_delimiter_is_ignored() -> None:
    """RFC 2046 §5.1.1: an epilogue may follow the close delimiter."""
    raw = body(part('Content-Disposition: form-data; name="a"', b"x")) + b"epilogue"
    assert summary(read(raw))[0][1] == b"x"


def test_a_handler_fault_ends_the_read() -> None:
    class Refusing(Recorder):
        def part_begin(self, headers: PartHeaders) -> None:
            raise InvalidRequest(f"{headers.label()}: no")

    reader = MultipartReader(BOUNDARY, Refusing(), Limits())
    with pytest.raises(InvalidRequest, match=r"^part 0 \('a'\): no$"):
        reader.feed(SAMPLE.replace(b'"submission"', b'"a"'))
    with pytest.raises(RuntimeError):
        reader.feed(b"more")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (f"multipart/form-data; boundary={BOUNDARY}", ("form-data", BOUNDARY)),
        ('Multipart/Mixed; charset=utf-8; BOUNDARY="a b;c"', ("mixed", "a b;c")),
        ("multipart/related;boundary=x", ("related", "x")),
    ],
)
def test_content_type_gives_subtype_and_boundary(value: str, expected: tuple[str, str]) -> None:
    assert parse_multipart_content_type(value) == expected


def test_content_type_without_boundary_is_refused() -> None:
    """§10: the boundary parameter is required."""
    with pytest.raises(InvalidRequest, match="without its boundary parameter"):
        parse_multipart_content_type("multipart/form-data")
    with pytest.raises(InvalidRequest, match="without its boundary parameter"):
        parse_multipart_content_type('multipart/form-data; boundary=""')


def test_content_type_with_boundary_over_70_characters_is_refused() -> None:
    """§10 (RFC 2046 §5.1.1): a boundary over 70 characters → 400."""
    assert parse_multipart_content_type(f"multipart/form-data; boundary={'b' * 70}")
    with pytest.raises(InvalidRequest, match="1 to 70 ASCII characters, got 71"):
        parse_multipart_content_type(f"multipart/form-data; boundary={'b' * 71}")


def test_content_type_that_is_not_multipart_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="is not a multipart type"):
        parse_multipart_content_type("application/json; boundary=x")


def fingerprint(chunks: Iterable[bytes], boundary: str = BOUNDARY) -> str:
    digest = BoundaryFreeSha256(boundary)
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def test_fingerprint_ignores_which_boundary_was_chosen() -> None:
    """§3.4 via §10: a retry with a new random boundary is the same request."""
    other = "another-boundary-42"
    assert fingerprint([SAMPLE]) == fingerprint(
        [SAMPLE.replace(BOUNDARY.encode(), other.encode())], other
    )


def test_fingerprint_differs_when_a_part_differs() -> None:
    assert fingerprint([SAMPLE]) != fingerprint([SAMPLE.replace(b'{"a": 1}', b'{"a": 2}')])


def test_fingerprint_is_the_same_at_every_split() -> None:
    expected = fingerprint([SAMPLE])
    for chunks in split_in_two(SAMPLE):
        assert fingerprint(chunks) == expected
    assert fingerprint(one_byte_at_a_time(SAMPLE)) == expected


def test_a_malformed_body_is_not_logged_as_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    """A partner's malformed body is its 400, not a warning of the service's (§3.3)."""
    with caplog.at_level(logging.WARNING):
        failure(f"--{BOUNDARY}xx\r\n".encode())
    assert caplog.records == []
