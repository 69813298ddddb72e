"""The binary (multipart/form-data) submit body (§10.1), parsed as it streams."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from functools import partial
from typing import Any

import pytest
from ingest_support import SinkFactory, one_byte_at_a_time, split_in_two, submission
from ingest_support import failure as failure_of

from ecb_files.config import Limits
from ecb_files.errors import EcbError, InvalidRequest, PayloadTooLarge
from ecb_files.ingest.multipart_submission import MultipartSubmissionParser

BOUNDARY = "XyZzy-7"
PHOTO = bytes(range(256)) * 4


def binary_file(part: str = "photo", **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"part": part}
    entry.update(extra)
    return entry


def part(name: str, data: bytes, *, filename: str | None = None, headers: str = "") -> bytes:
    disposition = f'form-data; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n{headers}\r\n"
    return head.encode() + data + b"\r\n"


def submission_part(document: dict[str, Any]) -> bytes:
    return part(
        "submission", json.dumps(document).encode(), headers="Content-Type: application/json\r\n"
    )


def body(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def simple_body() -> bytes:
    files = [binary_file("photo"), binary_file("note", fileName="n.txt", description="d")]
    return body(
        submission_part(submission(files)),
        part("photo", PHOTO, filename="kitchen.jpg", headers="Content-Type: image/jpeg\r\n"),
        part("note", b"hello", headers="Content-Type: text/plain\r\n"),
    )


def run(chunks: Iterable[bytes], limits: Limits | None = None) -> tuple[Any, SinkFactory]:
    factory = SinkFactory()
    parser = MultipartSubmissionParser(BOUNDARY, limits or Limits(), factory)
    for chunk in chunks:
        parser.feed(chunk)
    return parser.finish(), factory


def failure(raw: bytes, limits: Limits | None = None) -> EcbError:
    return failure_of(raw, limits, partial(MultipartSubmissionParser, BOUNDARY))


def outcome(chunks: Iterable[bytes]) -> object:
    result, factory = run(chunks)
    return [
        (f.index, f.file_name, f.content_type, f.description, f.size, f.sha256, bytes(f.blob.data))
        for f in result.files
    ], len(factory.sinks)


def test_files_come_from_their_parts_in_request_order() -> None:
    """§10.1: raw bytes per part; fileName/contentType from the part when left out."""
    result, factory = run([simple_body()])
    first, second = result.files
    assert (first.file_name, first.content_type, first.size) == ("kitchen.jpg", "image/jpeg", 1024)
    assert first.sha256 == hashlib.sha256(PHOTO).hexdigest()
    assert bytes(first.blob.data) == PHOTO
    assert first.blob.sealed
    assert (second.file_name, second.content_type, second.description) == (
        "n.txt",
        "text/plain",
        "d",
    )
    assert bytes(second.blob.data) == b"hello"
    assert len(factory.sinks) == 2


def test_parts_in_another_order_than_the_files_keep_request_order() -> None:
    files = [binary_file("a", fileName="a.txt"), binary_file("b", fileName="b.txt")]
    raw = body(
        submission_part(submission(files)),
        part("b", b"B", headers="Content-Type: text/plain\r\n"),
        part("a", b"A", headers="Content-Type: text/plain\r\n"),
    )
    result, _ = run([raw])
    assert [(f.index, f.file_name) for f in result.files] == [(0, "a.txt"), (1, "b.txt")]


def test_the_submission_names_win_over_the_parts() -> None:
    files = [binary_file("photo", fileName="x.png", contentType="image/png")]
    raw = body(
        submission_part(submission(files)),
        part("photo", b"x", filename="y.jpg", headers="Content-Type: image/jpeg\r\n"),
    )
    (file,) = run([raw])[0].files
    assert (file.file_name, file.content_type) == ("x.png", "image/png")


def test_every_split_in_two_and_single_bytes_parse_the_same() -> None:
    """§10: streaming; a chunk may end anywhere."""
    raw = simple_body()
    expected = outcome([raw])
    for chunks in split_in_two(raw):
        assert outcome(chunks) == expected
    assert outcome(one_byte_at_a_time(raw)) == expected


def test_base64_transfer_encoding_is_decoded() -> None:
    """§10.1: Content-Transfer-Encoding: base64 on a part is honoured."""
    encoded = base64.encodebytes(PHOTO)  # with line breaks, as MIME writes it
    raw = body(
        submission_part(submission([binary_file("photo", fileName="p.jpg")])),
        part(
            "photo",
            encoded,
            headers="Content-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n",
        ),
    )
    (file,) = run([raw])[0].files
    assert bytes(file.blob.data) == PHOTO


def test_invalid_base64_in_a_part_names_part_and_file() -> None:
    raw = body(
        submission_part(submission([binary_file("photo", fileName="p.jpg")])),
        part(
            "photo",
            b"QU-D",
            headers="Content-Type: image/jpeg\r\nContent-Transfer-Encoding: base64\r\n",
        ),
    )
    assert failure(raw).description.startswith(
        "part 1 ('photo') for payload.files[0] ('p.jpg'): not valid base64 at character 2"
    )


def test_sha256_is_checked_against_the_part_bytes() -> None:
    """§10.1 with §3.1: files[i].sha256 checked the same."""
    good = hashlib.sha256(b"hello").hexdigest()
    ok = body(
        submission_part(submission([binary_file("n", fileName="n.txt", sha256=good)])),
        part("n", b"hello", headers="Content-Type: text/plain\r\n"),
    )
    assert run([ok])[0].files[0].sha256 == good
    bad = ok.replace(b"hello\r\n", b"hellO\r\n")
    assert failure(bad).description.startswith(
        "payload.files[0] ('n.txt').sha256: does not match the SHA-256 of the decoded content"
    )


def test_a_content_member_is_refused() -> None:
    """§10.1: a content member in the submission part → 400 naming it."""
    raw = body(
        submission_part(submission([binary_file("p", fileName="a.txt", content="aGk=")])),
        part("p", b"x"),
    )
    error = failure(raw)
    assert isinstance(error, InvalidRequest)
    assert error.description.startswith(
        "payload.files[0] ('a.txt').content: not allowed in a multipart submission"
    )


def test_a_file_without_part_is_refused() -> None:
    raw = body(submission_part(submission([{"fileName": "a.txt", "contentType": "text/plain"}])))
    assert failure(raw).description == "payload.files[0] ('a.txt').part: required field is missing"


def test_a_part_naming_no_part_is_refused() -> None:
    """§10.1: a part naming no part → 400 naming it."""
    files = [binary_file("a", fileName="a.txt"), binary_file("ghost", fileName="g.txt")]
    raw = body(submission_part(submission(files)), part("a", b"A", headers="Content-Type: t/p\r\n"))
    assert failure(raw).description == (
        "payload.files[1] ('g.txt').part: names no part of the request ('ghost')"
    )


def test_a_part_named_by_no_file_is_refused() -> None:
    """§10.1: a part named by no file → 400 naming it."""
    raw = body(submission_part(submission([binary_file("a", fileName="a.txt")])), part("b", b"B"))
    assert failure(raw).description == "part 1 ('b'): no payload.files[i].part names this part"


def test_two_parts_with_one_name_are_refused() -> None:
    """§10.1: two parts with one name → 400 naming it."""
    raw = body(
        submission_part(submission([binary_file("a", fileName="a.txt", contentType="t/p")])),
        part("a", b"A"),
        part("a", b"A"),
    )
    assert failure(raw).description == "part 2 ('a'): a second part named 'a'"


def test_a_second_submission_part_is_refused() -> None:
    raw = body(
        submission_part(submission([binary_file("a", fileName="a.txt", contentType="t/p")])),
        submission_part(submission([binary_file("a", fileName="a.txt", contentType="t/p")])),
    )
    assert failure(raw).description == "part 1 ('submission'): a second part named 'submission'"


def test_two_files_naming_one_part_are_refused() -> None:
    files = [binary_file("a", fileName="a.txt"), binary_file("a", fileName="b.txt")]
    raw = body(submission_part(submission(files)), part("a", b"A"))
    assert failure(raw).description.startswith(
        "payload.files[1] ('b.txt').part: 'a' is already named by payload.files[0] ('a.txt')"
    )


def test_a_file_part_before_the_submission_is_refused() -> None:
    """§10.1: a file part before the submission part → 400 naming it."""
    raw = body(part("photo", PHOTO), submission_part(submission([binary_file("photo")])))
    assert failure(raw).description.startswith(
        "part 0 ('photo'): comes before the 'submission' part"
    )


def test_a_body_without_parts_is_refused() -> None:
    assert failure(body()).description == (
        "multipart body: no part named 'submission' (the submission JSON)"
    )


def test_a_submission_part_of_another_type_is_refused() -> None:
    raw = body(part("submission", b"{}", headers="Content-Type: text/plain\r\n"))
    assert "the submission part must be application/json" in failure(raw).description


def test_a_submission_part_without_content_type_is_read_as_json() -> None:
    document = submission([binary_file("n", fileName="n.txt", contentType="text/plain")])
    raw = body(part("submission", json.dumps(document).encode()), part("n", b"x"))
    assert run([raw])[0].files[0].size == 1


def test_a_file_without_any_content_type_is_refused() -> None:
    raw = body(submission_part(submission([binary_file("n", fileName="n.txt")])), part("n", b"x"))
    assert failure(raw).description == (
        "payload.files[0] ('n.txt').contentType: required field is missing "
        "(neither in the submission nor in the part's headers)"
    )


def test_a_bad_part_filename_is_refused_naming_file_and_part() -> None:
    raw = body(
        submission_part(submission([binary_file("n", contentType="text/plain")])),
        part("n", b"x", filename="../etc/passwd"),
    )
    assert failure(raw).description.startswith(
        "payload.files[0].fileName (the filename of part 1 ('n')):"
    )


def test_an_empty_file_part_is_refused() -> None:
    raw = body(
        submission_part(submission([binary_file("n", fileName="n.txt", contentType="t/p")])),
        part("n", b""),
    )
    assert failure(raw).description == (
        "part 1 ('n') for payload.files[0] ('n.txt'): is empty; at least 1 byte is required"
    )


def test_a_file_part_over_max_file_bytes_is_refused_at_once() -> None:
    """§3.2 step 2: 413 the moment a file passes maxFileBytes."""
    limits = Limits(max_file_bytes=100)
    factory = SinkFactory()
    parser = MultipartSubmissionParser(BOUNDARY, limits, factory)
    raw = body(
        submission_part(submission([binary_file("n", fileName="n.bin", contentType="t/p")])),
        part("n", b"x" * 101),
    )
    with pytest.raises(PayloadTooLarge, match="larger than maxFileBytes 100 bytes"):
        parser.feed(raw[: raw.index(b"x" * 101) + 101])


def test_a_body_over_max_request_bytes_is_refused() -> None:
    limits = Limits(max_request_bytes=200)
    error = failure(simple_body(), limits)
    assert isinstance(error, PayloadTooLarge)
    assert "maxRequestBytes (200 bytes)" in error.description


def test_a_missing_closing_delimiter_aborts_every_sink() -> None:
    """§3.4: nothing of a refused body stays."""
    raw = simple_body()[: -len(f"--{BOUNDARY}--\r\n")]
    error = failure(raw)
    assert "without the closing delimiter" in error.description


def test_a_base64_submission_part_is_refused() -> None:
    """§10.1: the submission part is JSON as it is; only file parts may be base64."""
    document = submission([binary_file("n", fileName="n.txt", contentType="t/p")])
    raw = body(
        part(
            "submission",
            base64.b64encode(json.dumps(document).encode()),
            headers="Content-Type: application/json\r\nContent-Transfer-Encoding: base64\r\n",
        ),
        part("n", b"x"),
    )
    assert failure(raw).description.startswith(
        "part 0 ('submission'): Content-Transfer-Encoding 'base64'"
    )
