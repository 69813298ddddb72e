"""The streamed JSON body (§3.1): exact length, valid JSON, sha256 after content,
the same bytes on every attempt, flat pieces, and streams of every kind."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
from pathlib import Path
from typing import IO, Any

import pytest

from ecb_files_client import BodyNotRepeatable, LocalValidationError, Upload
from ecb_files_client._body import Envelope, SubmissionBody, base64_length
from ecb_files_client._streamed import PIECE_BYTES
from ecb_files_client._uploads import prepare

ENVELOPE = Envelope(
    security_token="00000000-0000-0000-0000-0000000000a2",
    timestamp="2024-05-01",
    target_id="00000000-0000-0000-0000-0000000000c1",
    alias='Aage & Søn "quoted"',
    user_email="me@example.com",
    honours_is_restricted=True,
    honours_is_damage_image=False,
)


def _body(files: list[Any], max_file_bytes: int | None = 10**9) -> SubmissionBody:
    return SubmissionBody(ENVELOPE, prepare(files), max_file_bytes)


def _send(body: SubmissionBody) -> bytes:
    return b"".join(body.iterate(lambda piece: None))


class ShortReads(io.RawIOBase):
    """A raw stream that hands out at most ``step`` bytes a read, like a pipe or socket."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = memoryview(data)
        self._step = step
        self._pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._data[self._pos : self._pos + min(self._step, len(buffer))]
        buffer[: len(chunk)] = chunk
        self._pos += len(chunk)
        return len(chunk)


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, PIECE_BYTES - 1, PIECE_BYTES, PIECE_BYTES + 1])
def test_length_is_exact_and_content_decodes(size: int) -> None:
    """Content-Length = the bytes produced; base64 decodes to the file; sha256 matches."""
    data = os.urandom(size)
    body = _body([Upload(data, file_name="ø photo.jpg", description='line\n"two"')])
    sent = _send(body)
    assert body.content_length == len(sent)
    document = json.loads(sent)
    entry = document["payload"]["files"][0]
    assert base64.b64decode(entry["content"], validate=True) == data
    assert entry["sha256"] == hashlib.sha256(data).hexdigest() == body.digests[0]
    assert document["payload"]["insuranceCompanyAlias"] == ENVELOPE.alias
    assert entry["fileName"] == "ø photo.jpg"
    assert entry["description"] == 'line\n"two"'
    assert len(entry["content"]) == base64_length(size)


def test_members_in_a_fixed_order_with_sha256_after_content() -> None:
    """The server checks sha256 when the file object closes; it is computed on the way."""
    sent = _send(_body([Upload(b"abc", file_name="a.txt", is_restricted=True)]))
    entry = sent[sent.index(b'{"fileName"') :]
    keys = list(json.loads(entry[: entry.index(b"}") + 1]))
    assert keys == ["fileName", "contentType", "isRestricted", "content", "sha256"]
    assert sent.startswith(b'{"securityToken":')
    assert b'"timestamp":"2024-05-01"' in sent
    assert sent.isascii()


def test_flags_the_endpoint_does_not_honour_are_not_written() -> None:
    sent = _send(_body([Upload(b"abc", file_name="a.txt", is_damage_image=True)]))
    assert b"isDamageImage" not in sent


def test_several_files_of_every_source_kind(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(os.urandom(100_000))
    stream = io.BytesIO(b"\x00" * 7)
    stream.seek(2)  # a file object is read from where it stands
    body = _body(
        [path, Upload(b"bytes!", file_name="b.txt"), Upload(stream, file_name="c.bin.zip")]
    )
    sent = _send(body)
    files = json.loads(sent)["payload"]["files"]
    assert [f["fileName"] for f in files] == ["report.pdf", "b.txt", "c.bin.zip"]
    assert [f["contentType"] for f in files] == ["application/pdf", "text/plain", "application/zip"]
    assert base64.b64decode(files[0]["content"]) == path.read_bytes()
    assert base64.b64decode(files[2]["content"]) == b"\x00" * 5
    assert body.content_length == len(sent)


def test_every_attempt_sends_the_same_bytes(tmp_path: Path) -> None:
    """An idempotent retry is recognised by the body's digest: it must not change."""
    path = tmp_path / "a.jpg"
    path.write_bytes(os.urandom(PIECE_BYTES + 10))
    stream = io.BytesIO(os.urandom(5000))
    body = _body([path, Upload(stream, file_name="s.bin.zip")])
    assert _send(body) == _send(body)


@pytest.mark.parametrize("step", [1, 2, 4, 7, 1000, 65537])
def test_short_reads_still_encode_in_groups_of_three(step: int) -> None:
    data = os.urandom(10_000)
    body = _body([Upload(ShortReads(data, step), file_name="s.bin.zip")])
    sent = _send(body)
    content = json.loads(sent)["payload"]["files"][0]["content"]
    assert base64.b64decode(content, validate=True) == data


def test_unknown_size_means_no_content_length_and_a_fresh_read_is_refused() -> None:
    """A non-seekable stream goes out chunked, once."""
    raw = ShortReads(b"x" * 100, 30)
    body = _body([Upload(raw, file_name="s.txt")])
    assert body.content_length is None
    assert body.unrepeatable() is None  # not read yet: the first attempt may read it
    _send(body)
    assert body.unrepeatable() == "payload.files[0] ('s.txt')"
    with pytest.raises(BodyNotRepeatable, match="cannot seek"):
        _send(body)


def test_a_stream_of_unknown_size_is_held_to_max_file_bytes_as_it_is_read() -> None:
    body = _body([Upload(ShortReads(b"x" * 101, 50), file_name="s.txt")], max_file_bytes=100)
    with pytest.raises(LocalValidationError) as caught:
        _send(body)
    assert caught.value.status == 413
    assert caught.value.description == (
        "payload.files[0] ('s.txt'): the file is larger than maxFileBytes 100 bytes"
    )


def test_a_file_that_changes_size_while_sent_is_refused(tmp_path: Path) -> None:
    """The Content-Length already promised its size: a grown file is not sent cut off."""
    path = tmp_path / "growing.txt"
    path.write_bytes(b"x" * 10)
    body = _body([path])
    path.write_bytes(b"x" * 11)
    with pytest.raises(LocalValidationError, match="changed while it was being sent"):
        _send(body)


def test_pieces_stay_small_whatever_the_file_size(tmp_path: Path) -> None:
    """Memory is flat: no piece is bigger than one encoded read."""
    path = tmp_path / "big.bin.zip"
    with path.open("wb") as handle:
        handle.truncate(20 * PIECE_BYTES + 5)  # sparse: nothing to write
    largest = max(len(chunk) for chunk in _body([path]).iterate(lambda piece: None))
    assert largest <= base64_length(PIECE_BYTES) + 100


def test_progress_counts_file_bytes_then_done_then_end() -> None:
    events: list[tuple[Any, ...]] = []
    body = _body([Upload(os.urandom(PIECE_BYTES + 4), file_name="a.txt")])

    def on_piece(piece: Any) -> None:
        if piece.file_bytes:
            events.append(("bytes", piece.file_index, piece.file_bytes))
        if piece.file_done:
            events.append(("done", piece.file_index))
        if piece.end:
            events.append(("end",))

    _send_with(body, on_piece)
    assert events == [
        ("bytes", 0, PIECE_BYTES),
        ("bytes", 0, 3),
        ("bytes", 0, 1),
        ("done", 0),
        ("end",),
    ]


def _send_with(body: SubmissionBody, on_piece: Any) -> None:
    for _ in body.iterate(on_piece):
        pass


def test_async_iteration_gives_the_same_bytes() -> None:
    import asyncio

    body = _body([Upload(os.urandom(PIECE_BYTES * 2 + 1), file_name="a.txt")])

    async def collect() -> bytes:
        return b"".join([chunk async for chunk in body.aiterate(lambda piece: None)])

    assert asyncio.run(collect()) == _send(body)


def test_a_file_object_is_not_closed(tmp_path: Path) -> None:
    handle: IO[bytes]
    path = tmp_path / "a.txt"
    path.write_bytes(b"abc")
    with path.open("rb") as handle:
        _send(_body([handle]))
        assert not handle.closed


def test_a_file_object_in_text_mode_is_refused_by_name() -> None:
    with pytest.raises(TypeError, match=r"payload.files\[0\] \('a.txt'\): open the file in binary"):
        _send(_body([Upload(io.StringIO("text"), file_name="a.txt")]))  # type: ignore[arg-type]


def test_a_directory_or_a_missing_path_is_refused_by_name(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    with pytest.raises(LocalValidationError, match=r"payload.files\[0\] \('d'\): .* directory"):
        prepare([tmp_path / "d"])
    with pytest.raises(LocalValidationError, match="No such file or directory"):
        prepare([tmp_path / "missing.jpg"])
