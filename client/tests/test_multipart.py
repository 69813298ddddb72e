"""The streamed multipart/form-data bodies (§10): exact length, the framing RFC 2046
asks for, the boundary kept out of the content, RFC 5987 names, the same bytes on every
attempt, and the JSON part naming each file's part and SHA-256."""

from __future__ import annotations

import email.utils
import hashlib
import io
import json
import os
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

import pytest

from ecb_files_client import (
    ClientCredentials,
    ClientSecret,
    Limits,
    LocalValidationError,
    SubmitClient,
    Upload,
)
from ecb_files_client._fnol import FNOL_CONTENT_TYPE, FnolBody, FnolEnvelope
from ecb_files_client._multipart import (
    MultipartBody,
    MultipartSubmissionBody,
    ascii_stand_in,
    content_disposition,
    new_boundary,
)
from ecb_files_client._streamed import PIECE_BYTES, Piece
from ecb_files_client._uploads import prepare
from test_body import ENVELOPE


@dataclass
class Part:
    headers: dict[str, str]
    content: bytes

    @property
    def disposition(self) -> Message:
        message = Message()
        message["Content-Disposition"] = self.headers["content-disposition"]
        return message


def split(body: bytes, boundary: str) -> list[Part]:
    """The parts of a multipart body, strictly by RFC 2046's grammar."""
    dash = b"--" + boundary.encode("ascii")
    assert body.startswith(dash + b"\r\n")
    assert body.endswith(b"\r\n" + dash + b"--\r\n")
    inner = body[len(dash) + 2 : -len(b"\r\n" + dash + b"--\r\n")]
    parts = []
    for chunk in inner.split(b"\r\n" + dash + b"\r\n"):
        head, blank, content = chunk.partition(b"\r\n\r\n")
        assert blank, "a part without the blank line that ends its headers"
        headers = {}
        for line in head.decode("ascii").split("\r\n"):
            name, _, value = line.partition(": ")
            headers[name.lower()] = value
        parts.append(Part(headers, content))
    return parts


def filename_star(disposition: str) -> str:
    """The ``filename*`` parameter, decoded by the stdlib's RFC 2231/5987 reader."""
    message = Message()
    message["Content-Disposition"] = disposition
    extended = [
        value
        for key, value in message.get_params(header="content-disposition") or []
        if key == "filename" and isinstance(value, tuple)
    ]
    assert len(extended) == 1
    return email.utils.collapse_rfc2231_value(extended[0])


def _submission(files: list[Any], **kwargs: Any) -> MultipartSubmissionBody:
    return MultipartSubmissionBody(ENVELOPE, prepare(files), 10**9, **kwargs)


def _send(body: MultipartBody, pieces: list[Piece] | None = None) -> bytes:
    taken = [] if pieces is None else pieces
    return b"".join(body.iterate(taken.append))


@pytest.mark.parametrize("size", [1, 2, PIECE_BYTES - 1, PIECE_BYTES, 2 * PIECE_BYTES + 7])
def test_length_is_exact_and_each_part_carries_its_file(size: int, tmp_path: Path) -> None:
    """Content-Length = the bytes produced; the parts hold the files' raw bytes."""
    path = tmp_path / "große Datei.bin.zip"
    path.write_bytes(os.urandom(size))
    small = os.urandom(10)
    body = _submission(
        [
            path,
            Upload(small, file_name="notes.txt", description='line\n"two"', is_restricted=True),
            Upload(io.BytesIO(b"%PDF-1.7"), file_name="report.pdf"),
        ]
    )
    sent = _send(body)
    assert body.content_length == len(sent)
    parts = split(sent, body.boundary)
    assert [p.headers["content-type"] for p in parts] == [
        "application/json",
        "application/zip",
        "text/plain",
        "application/pdf",
    ]
    assert [p.content for p in parts[1:]] == [path.read_bytes(), small, b"%PDF-1.7"]
    assert body.digests == [hashlib.sha256(p.content).hexdigest() for p in parts[1:]]


def test_the_submission_part_comes_first_and_names_each_files_part_and_sha256() -> None:
    body = _submission(
        [Upload(b"abc", file_name="a.txt", is_restricted=True), Upload(b"de", file_name="b.txt")]
    )
    parts = split(_send(body), body.boundary)
    assert parts[0].disposition.get_param("name", header="content-disposition") == "submission"
    document = json.loads(parts[0].content)
    assert all("content" not in f for f in document["payload"]["files"])
    files = document["payload"]["files"]
    assert [f["part"] for f in files] == ["file-0", "file-1"]
    assert [p.disposition.get_param("name", header="content-disposition") for p in parts[1:]] == [
        "file-0",
        "file-1",
    ]
    assert files[0] == {
        "part": "file-0",
        "fileName": "a.txt",
        "contentType": "text/plain",
        "isRestricted": True,
        "sha256": hashlib.sha256(b"abc").hexdigest(),
    }
    assert document["securityToken"] == ENVELOPE.security_token
    assert document["timestamp"] == "2024-05-01"
    assert document["payload"]["insuranceCompanyAlias"] == ENVELOPE.alias


def test_every_attempt_sends_the_same_bytes_and_files_are_read_ahead_once(tmp_path: Path) -> None:
    """The boundary and the announced SHA-256 are fixed per body: a retry is identical."""
    path = tmp_path / "a.txt"
    path.write_bytes(os.urandom(5000))
    body = _submission([path])
    assert _send(body) == _send(body)
    assert body.attempts == 2


def test_the_boundary_is_random_short_enough_and_absent_from_the_content() -> None:
    boundaries = {new_boundary() for _ in range(100)}
    assert len(boundaries) == 100
    assert all(len(b) <= 70 and b.isascii() and b.replace("-", "").isalnum() for b in boundaries)
    data = os.urandom(100_000)
    body = _submission([Upload(data, file_name="x.zip")])
    sent = _send(body)
    dash = b"--" + body.boundary.encode()
    # Exactly the three delimiters of a two-part body, and none inside a part.
    assert sent.count(dash) == 3
    for part in split(sent, body.boundary):
        assert body.boundary.encode() not in part.content


@pytest.mark.parametrize("offset", [0, 1, PIECE_BYTES - 5, PIECE_BYTES + 3])
def test_a_file_holding_the_boundary_is_refused_not_sent_cut(offset: int) -> None:
    """Even where the delimiter straddles two pieces, or opens the file."""
    boundary = "ecb-files-test-boundary"
    delimiter = b"\r\n--" + boundary.encode()
    data = bytearray(os.urandom(2 * PIECE_BYTES))
    data[offset : offset + len(delimiter)] = delimiter
    if offset == 0:
        data = bytearray(b"--" + boundary.encode() + b"tail")  # right after the part's head
    body = _submission([Upload(bytes(data), file_name="x.zip")], boundary=boundary)
    with pytest.raises(LocalValidationError, match="holds this request's multipart boundary"):
        _send(body)


@pytest.mark.parametrize(
    ("name", "fallback"),
    [
        ("Schäden ø 2024.jpg", "Schaden _ 2024.jpg"),
        ('say "cheese".png', "say _cheese_.png"),
        ("back\\slash.txt", "back_slash.txt"),
        ("日本.pdf", "__.pdf"),
    ],
)
def test_names_beyond_plain_ascii_go_in_rfc5987_filename_star(name: str, fallback: str) -> None:
    header = content_disposition("file-0", name)
    assert header.isascii()
    assert f'filename="{fallback}"' in header
    assert filename_star(header) == name
    assert ascii_stand_in(name) == fallback


def test_plain_names_are_sent_as_they_are() -> None:
    assert content_disposition("file-0", "a b%c.txt") == (
        'form-data; name="file-0"; filename="a b%c.txt"'
    )


def test_progress_counts_each_files_raw_bytes_once(tmp_path: Path) -> None:
    path = tmp_path / "big.zip"
    path.write_bytes(os.urandom(PIECE_BYTES + 10))
    pieces: list[Piece] = []
    _send(_submission([path, Upload(b"xy", file_name="b.txt")]), pieces)
    assert sum(p.file_bytes for p in pieces if p.file_index == 0) == PIECE_BYTES + 10
    assert sum(p.file_bytes for p in pieces if p.file_index == 1) == 2
    assert [p.file_index for p in pieces if p.file_done] == [0, 1]
    assert [p.end for p in pieces].count(True) == 1
    assert pieces[-1].end


def test_a_stream_of_unknown_size_goes_chunked_without_an_announced_sha256() -> None:
    class Pipe(io.RawIOBase):
        def __init__(self) -> None:
            self._left = [b"abc", b"def"]

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: Any) -> int:
            if not self._left:
                return 0
            chunk = self._left.pop(0)
            buffer[: len(chunk)] = chunk
            return len(chunk)

    body = _submission([Upload(Pipe(), file_name="pipe.txt")])
    assert body.content_length is None
    parts = split(_send(body), body.boundary)
    assert "sha256" not in json.loads(parts[0].content)["payload"]["files"][0]
    assert parts[1].content == b"abcdef"
    assert body.digests == [hashlib.sha256(b"abcdef").hexdigest()]


def test_a_file_changed_between_hashing_and_sending_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_bytes(b"first")
    body = _submission([path])
    pieces = body.pieces()
    next(pieces)  # the submission part: the file was hashed for it
    path.write_bytes(b"other")  # same size, other bytes
    with pytest.raises(LocalValidationError, match="changed while it was being sent"):
        list(pieces)


def test_a_content_type_that_would_forge_a_header_is_refused() -> None:
    with pytest.raises(LocalValidationError, match="only printable ASCII"):
        _submission([Upload(b"x", file_name="a.txt", content_type="text/plain\r\nX-Evil: 1")])


FNOL = FnolEnvelope(
    security_token="00000000-0000-0000-0000-0000000000a2",
    alias="company",
    user_email="me@example.com",
    damage_notification={"incidentDate": "2024-05-01", "description": "Wasser im Keller ø"},
)


def test_fnol_part_first_then_attachments_with_their_descriptions() -> None:
    files = prepare(
        [
            Upload(
                b"\xff\xd8photo", file_name="küche.jpg", description="kitchen", is_damage_image=True
            ),
            Upload(b"%PDF-1.7", file_name="invoice.pdf"),
        ]
    )
    body = FnolBody(FNOL, files, None)
    sent = _send(body)
    assert body.content_length == len(sent)
    lead, photo, invoice = split(sent, body.boundary)
    assert lead.headers["content-type"] == FNOL_CONTENT_TYPE
    document = json.loads(lead.content)
    assert document == {
        "securityToken": FNOL.security_token,
        "insuranceCompanyAlias": "company",
        "userEmail": "me@example.com",
        "damageNotification": dict(FNOL.damage_notification),
        "attachments": [
            {"part": "attachment-0", "description": "kitchen", "isDamageImage": True},
            {"part": "attachment-1"},
        ],
    }
    assert filename_star(photo.headers["content-disposition"]) == "küche.jpg"
    assert photo.headers["content-type"] == "image/jpeg"
    assert (photo.content, invoice.content) == (b"\xff\xd8photo", b"%PDF-1.7")
    assert body.digests[1] == hashlib.sha256(b"%PDF-1.7").hexdigest()


def test_fnol_without_attachments_is_one_part() -> None:
    body = FnolBody(FNOL, [], None)
    sent = _send(body)
    assert body.content_length == len(sent)
    [lead] = split(sent, body.boundary)
    assert "attachments" not in json.loads(lead.content)


def test_a_payload_that_is_not_json_is_refused_before_sending() -> None:
    bad = FnolEnvelope("x", "company", "me@example.com", {"when": object()})
    with pytest.raises(ValueError, match="cannot be sent as JSON"):
        FnolBody(bad, [], None)
    with pytest.raises(ValueError, match="is_restricted is honoured by submitForCase only"):
        FnolBody(FNOL, prepare([Upload(b"x", file_name="a.txt", is_restricted=True)]), None)


def test_the_limits_say_whether_the_server_takes_multipart() -> None:
    assert Limits.from_document({"maxFileBytes": 5, "multipart": True}).multipart
    assert not Limits.from_document({"maxFileBytes": 5}).multipart  # an older server
    assert not Limits.from_document({"multipart": "yes"}).multipart
    assert Limits.from_document({"maxFnolBytes": 2048}).max_fnol_bytes == 2048


def test_an_unknown_transfer_is_refused_up_front() -> None:
    credentials = ClientCredentials("c", ClientSecret("s"))
    with pytest.raises(ValueError, match="transfer must be one of auto, multipart, json"):
        SubmitClient("https://files.example.com", credentials, transfer="xml")  # type: ignore[arg-type]
