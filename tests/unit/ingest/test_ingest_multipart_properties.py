"""Properties of the multipart reader: random bodies read the same in any chunking, and
no input makes it raise anything but the service's own errors (§10)."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_ingest_multipart import Recorder, summary

from ecb_files.config import Limits
from ecb_files.errors import InvalidRequest
from ecb_files.ingest.multipart import MultipartReader

PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BOUNDARY = "bOuNdArY-42"

_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_-", min_size=1, max_size=12)
# Part data made of the pieces that trip delimiter searches: CR, LF, dashes, the
# boundary's own start, and random bytes.
_data = st.lists(
    st.sampled_from([b"\r", b"\n", b"-", b"--", b"\r\n--", BOUNDARY[:5].encode(), b"x"])
    | st.binary(max_size=20),
    max_size=30,
).map(b"".join)


def _body(parts: list[tuple[str, bytes]]) -> bytes:
    out = b""
    for name, data in parts:
        out += f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += data + b"\r\n"
    return out + f"--{BOUNDARY}--\r\n".encode()


def _read(chunks: list[bytes]) -> Recorder:
    recorder = Recorder()
    reader = MultipartReader(BOUNDARY, recorder, Limits())
    for chunk in chunks:
        reader.feed(chunk)
    reader.finish()
    return recorder


def _chunked(raw: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(cut, len(raw)) for cut in cuts})
    return [raw[a:b] for a, b in zip([0, *points], [*points, len(raw)], strict=True)]


@PROPERTY
@given(
    parts=st.lists(st.tuples(_names, _data), min_size=1, max_size=5),
    cuts=st.lists(st.integers(min_value=0, max_value=2000), max_size=12),
)
def test_random_bodies_read_back_their_parts_in_any_chunking(
    parts: list[tuple[str, bytes]], cuts: list[int]
) -> None:
    """§10: parts, names and bytes come out as they went in, however the body is split."""
    raw = _body(parts)
    read = summary(_read(_chunked(raw, cuts)))
    assert [(headers.name, data) for headers, data in read] == parts


@PROPERTY
@given(raw=st.binary(max_size=400), cuts=st.lists(st.integers(0, 400), max_size=6))
def test_any_input_is_read_or_refused_with_invalid_request(raw: bytes, cuts: list[int]) -> None:
    """No input makes the reader raise anything but a 400 InvalidRequest."""
    with contextlib.suppress(InvalidRequest):
        _read(_chunked(f"--{BOUNDARY}\r\n".encode() + raw, cuts))
