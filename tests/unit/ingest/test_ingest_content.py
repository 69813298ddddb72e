"""One file's content: decode → size bound → SHA-256 → sink (§3.1, §3.4)."""

from __future__ import annotations

import base64
import hashlib

import pytest
from ingest_support import MemorySink

from ecb_files.config import Limits
from ecb_files.errors import InvalidRequest, PayloadTooLarge
from ecb_files.ingest import FileContent


def content(limit: int = 100) -> tuple[FileContent, MemorySink]:
    sink = MemorySink()
    return FileContent(
        Limits(max_file_bytes=limit), sink, lambda: "payload.files[1] ('x.pdf')"
    ), sink


def test_bytes_are_decoded_hashed_and_written_then_sealed() -> None:
    data = bytes(range(256))
    text = base64.b64encode(data)
    file, sink = content(limit=1000)
    for start in range(0, len(text), 7):
        file.write(text[start : start + 7])
    assert not sink.sealed
    file.finish()
    assert sink.sealed
    assert bytes(sink.data) == data
    assert file.size == 256
    assert file.sha256 == hashlib.sha256(data).hexdigest()


def test_exactly_max_file_bytes_is_accepted() -> None:
    """§3.1: up to max_file_bytes inclusive."""
    file, sink = content(limit=10)
    file.write(base64.b64encode(b"x" * 10))
    file.finish()
    assert file.size == 10
    assert sink.sealed


def test_one_byte_over_is_refused_at_once_naming_file_and_limit() -> None:
    """§3.2 step 2: 413 the moment the decoded size passes the limit, nothing more written."""
    file, sink = content(limit=10)
    file.write(base64.b64encode(b"x" * 9)[:8])  # 6 bytes decoded
    with pytest.raises(PayloadTooLarge) as caught:
        file.write(base64.b64encode(b"x" * 12)[8:])  # 6 more: 12 > 10
    assert caught.value.description == (
        "payload.files[1] ('x.pdf'): the file is larger than maxFileBytes 10 bytes"
    )
    assert caught.value.status == 413
    assert len(sink.data) == 6


def test_oversize_found_in_the_last_group_is_refused() -> None:
    file, _ = content(limit=10)
    file.write(base64.b64encode(b"x" * 11))
    with pytest.raises(PayloadTooLarge):
        file.finish()


def test_zero_bytes_is_refused() -> None:
    """§3.1: content decodes to 1 byte at least."""
    file, sink = content()
    file.write(b"  \r\n")
    with pytest.raises(InvalidRequest) as caught:
        file.finish()
    assert caught.value.description == (
        "payload.files[1] ('x.pdf').content: decodes to 0 bytes; at least 1 byte is required"
    )
    assert not sink.sealed


def test_invalid_base64_names_the_file_and_the_position() -> None:
    file, _ = content()
    file.write(b"QUJD")
    with pytest.raises(InvalidRequest) as caught:
        file.write(b"QU-D")
    assert caught.value.description == (
        "payload.files[1] ('x.pdf').content: not valid base64 at character 6 "
        "('-' is not in the standard base64 alphabet)"
    )


def test_missing_padding_is_refused_at_the_end() -> None:
    file, _ = content()
    file.write(b"QUJDRA")
    with pytest.raises(
        InvalidRequest, match=r"^payload\.files\[1\] \('x\.pdf'\)\.content: ends after"
    ):
        file.finish()


def test_sha256_is_not_available_before_finish() -> None:
    file, _ = content()
    file.write(b"QUJD")
    with pytest.raises(RuntimeError):
        _ = file.sha256


def raw_content(limit: int = 100) -> tuple[FileContent, MemorySink]:
    sink = MemorySink()
    label = "part 1 ('photo') for payload.files[0] ('x.pdf')"
    return FileContent(
        Limits(max_file_bytes=limit), sink, lambda: label, base64=False, field=""
    ), sink


def test_raw_bytes_skip_decoding_and_are_measured_hashed_and_written() -> None:
    """§10.1: a file part's raw bytes are the file."""
    data = bytes(range(256)) * 3
    file, sink = raw_content(limit=1000)
    for start in range(0, len(data), 7):
        file.write(data[start : start + 7])
    file.finish()
    assert bytes(sink.data) == data
    assert sink.sealed
    assert file.size == len(data)
    assert file.sha256 == hashlib.sha256(data).hexdigest()


def test_raw_bytes_over_max_file_bytes_are_refused_at_once() -> None:
    """§10.1 with §3.2 step 2: 413 the moment the size passes the limit."""
    file, sink = raw_content(limit=10)
    file.write(b"x" * 10)
    with pytest.raises(PayloadTooLarge) as caught:
        file.write(b"y")
    assert caught.value.description == (
        "part 1 ('photo') for payload.files[0] ('x.pdf'): the file is larger than "
        "maxFileBytes 10 bytes"
    )
    assert len(sink.data) == 10


def test_an_empty_raw_part_is_refused() -> None:
    """§3.1 via §10.1: at least 1 byte."""
    file, sink = raw_content()
    with pytest.raises(InvalidRequest) as caught:
        file.finish()
    assert caught.value.description == (
        "part 1 ('photo') for payload.files[0] ('x.pdf'): is empty; at least 1 byte is required"
    )
    assert not sink.sealed


class RecordingScan:
    """A ContentScan that keeps what it is sent (the clamd adapter has its own tests)."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.sealed = False
        self.seconds = 0.0

    def write(self, data: bytes) -> None:
        assert not self.sealed
        self.data += data

    def seal(self) -> None:
        self.sealed = True

    def verdict(self) -> str | None:
        return "Found-In-Test" if b"EVIL" in self.data else None

    def abort(self) -> None:
        pass


def test_decoded_bytes_go_to_the_scan_in_the_same_pass() -> None:
    """§12.1: every decoded byte goes to the scanner too, which is sealed with the file."""
    scan = RecordingScan()
    sink = MemorySink()
    file = FileContent(Limits(), sink, lambda: "payload.files[0] ('a.txt')", scan=scan)
    text = base64.b64encode(b"some EVIL bytes")
    for start in range(0, len(text), 3):
        file.write(text[start : start + 3])
    file.finish()
    assert bytes(scan.data) == bytes(sink.data) == b"some EVIL bytes"
    assert scan.sealed
    assert file.findings("a.txt").malware() == "Found-In-Test"


def test_findings_judge_the_first_bytes_against_the_name() -> None:
    """§12.1: the name may come after the content; the first bytes are judged at the end."""
    file, _ = content(limit=100_000)
    file.write(base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 5000))
    file.finish()
    findings = file.findings("photo.jpg")
    assert findings.problem == "the content is a PNG image, not a JPEG image"
    assert findings.malware() is None


def test_the_first_bytes_are_gathered_across_slices() -> None:
    """§12.1: a signature split over many slices (one byte each) is still seen."""
    raw = b"\xff\xd8\xff\xe0rest"
    file = FileContent(Limits(), MemorySink(), lambda: "f", base64=False)
    for byte in raw:
        file.write(bytes([byte]))
    file.finish()
    assert file.findings("photo.jpg").problem is None
