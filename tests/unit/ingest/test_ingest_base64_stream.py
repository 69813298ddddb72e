"""The streaming base64 decoder (§3.1: standard alphabet, padding required,
whitespace ignored)."""

from __future__ import annotations

import base64
import itertools

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecb_files.ingest import Base64Error, Base64StreamDecoder

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def decode(chunks: list[bytes] | bytes) -> bytes:
    if isinstance(chunks, bytes):
        chunks = [chunks]
    decoder = Base64StreamDecoder()
    out = b"".join(decoder.decode(chunk) for chunk in chunks)
    return out + decoder.finish()


def error(text: bytes) -> str:
    """The refusal for ``text``, checked to be the same whole, split anywhere, and byte by byte."""
    with pytest.raises(Base64Error) as whole:
        decode(text)
    for cut in range(len(text) + 1):
        with pytest.raises(Base64Error) as split:
            decode([text[:cut], text[cut:]])
        assert str(split.value) == str(whole.value), cut
    return str(whole.value)


@pytest.mark.parametrize("data", [b"", b"a", b"ab", b"abc", b"abcd", bytes(range(256))])
def test_every_split_point_decodes_the_same(data: bytes) -> None:
    text = base64.b64encode(data)
    for cut in range(len(text) + 1):
        assert decode([text[:cut], text[cut:]]) == data
    assert decode([text[i : i + 1] for i in range(len(text))]) == data


@FAST
@given(
    data=st.binary(max_size=400),
    spaces=st.lists(
        st.tuples(
            st.integers(min_value=0), st.sampled_from([b" ", b"\t", b"\r\n", b"\n", b"  \n"])
        ),
        max_size=10,
    ),
    cuts=st.lists(st.integers(min_value=0), max_size=8),
)
def test_random_data_with_whitespace_in_random_chunks(
    data: bytes, spaces: list[tuple[int, bytes]], cuts: list[int]
) -> None:
    """Whitespace and line breaks anywhere are ignored, wherever the chunks are cut."""
    text = bytearray(base64.b64encode(data))
    for where, space in spaces:
        at = where % (len(text) + 1)
        text[at:at] = space
    raw = bytes(text)
    points = sorted({cut % (len(raw) + 1) for cut in cuts})
    chunks = [raw[a:b] for a, b in itertools.pairwise([0, *points, len(raw)])]
    assert decode(chunks) == data


def test_mime_style_line_breaks_are_ignored() -> None:
    data = bytes(range(256)) * 4
    assert decode(base64.encodebytes(data)) == data


def test_large_chunks_decode_in_one_go() -> None:
    data = bytes(range(256)) * 3000
    text = base64.b64encode(data)
    chunks = [text[i : i + 65537] for i in range(0, len(text), 65537)]
    assert decode(chunks) == data


def test_missing_padding_is_refused() -> None:
    assert error(b"QUJDRA") == (
        "ends after a partial group of 2 characters at character 6: "
        "the base64 length must be a multiple of 4 (missing '=' padding?)"
    )


def test_incomplete_padding_is_refused() -> None:
    assert error(b"QUJDRA=") == "incomplete '=' padding at character 7"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"QQ==QUJD", "data after '=' padding at character 4"),
        (b"QQ== QUJD", "data after '=' padding at character 5"),
        (b"QUI=QQ==", "data after '=' padding at character 4"),
        (b"QQ=A", "data after '=' padding at character 3"),
    ],
)
def test_data_after_padding_is_refused(text: bytes, expected: str) -> None:
    assert error(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (b"Q===", "invalid '=' padding at character 1"),
        (b"====", "invalid '=' padding at character 0"),
        (b"QUJD=", "invalid '=' padding at character 4"),
        (b"QQ===", "invalid '=' padding at character 4"),
    ],
)
def test_misplaced_padding_is_refused(text: bytes, expected: str) -> None:
    assert error(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            b"QUJD-w==",
            "not valid base64 at character 4 ('-' is not in the standard base64 alphabet)",
        ),
        (
            b"QUJD_w==",
            "not valid base64 at character 4 ('_' is not in the standard base64 alphabet)",
        ),
        (
            b"QU JD\x00w==",
            "not valid base64 at character 5 (byte 0x00 is not in the standard base64 alphabet)",
        ),
        (
            b"QUJ\xc3\xa9",
            "not valid base64 at character 3 (byte 0xC3 is not in the standard base64 alphabet)",
        ),
        (
            b"QUJDRA*=",
            "not valid base64 at character 6 ('*' is not in the standard base64 alphabet)",
        ),
        (
            b"QQ\x0b=",
            "not valid base64 at character 2 (byte 0x0B is not in the standard base64 alphabet)",
        ),
    ],
)
def test_characters_outside_the_standard_alphabet_are_refused(text: bytes, expected: str) -> None:
    """§3.1: standard base64 only; the URL-safe alphabet is refused."""
    assert error(text) == expected


def test_position_counts_whitespace_and_earlier_chunks() -> None:
    decoder = Base64StreamDecoder()
    decoder.decode(b"QUJD\r\nQUJD\r\n")
    with pytest.raises(Base64Error, match="at character 14 "):
        decoder.decode(b"QU!D")


def test_non_canonical_trailing_bits_are_tolerated() -> None:
    """Like most decoders, unused bits in the last group are not checked."""
    assert decode(b"QR==") == b"A"


def test_decode_returns_bytes_as_soon_as_a_group_is_complete() -> None:
    decoder = Base64StreamDecoder()
    assert decoder.decode(b"QU") == b""
    assert decoder.decode(b"JDR") == b"ABC"
    assert decoder.decode(b"A==") == b""
    assert decoder.finish() == b"D"
    assert decoder.position == 8


def test_a_group_begun_by_the_previous_chunk_is_decoded_apart() -> None:
    """§6: the carried characters are not put in front of a large chunk (a copy of it);
    the group they begin comes as a piece of its own, then the rest of the chunk."""
    decoder = Base64StreamDecoder()
    encoded = base64.b64encode(b"abcdefghijkl")  # 16 characters
    assert decoder.decode_pieces(encoded[:6]) == (b"abc",)
    assert decoder.decode_pieces(encoded[6:]) == (b"def", b"ghijkl")
    assert decoder.finish() == b""
