"""The incremental JSON tokenizer (§3.1 bounds, §9 depth/length/surrogate rules)."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_support import one_byte_at_a_time, split_in_two

from ecb_files.config import Limits
from ecb_files.errors import InvalidRequest
from ecb_files.ingest import (
    JsonNumber,
    JsonScalar,
    JsonTokenizer,
)
from ecb_files.ingest.json_events import format_path

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


class Rebuild:
    """Rebuilds the document from the events; streams every string value if asked."""

    def __init__(self, *, stream: bool = False) -> None:
        self.stream = stream
        self.result: Any = None
        self._stack: list[Any] = []
        self._keys: list[str] = []
        self._buffer = bytearray()
        self.chunk_sizes: list[int] = []

    def _put(self, value: Any) -> None:
        if not self._stack:
            self.result = value
        elif isinstance(self._stack[-1], list):
            self._stack[-1].append(value)
        else:
            self._stack[-1][self._keys[-1]] = value

    def start_object(self) -> None:
        obj: dict[str, Any] = {}
        self._put(obj)
        self._stack.append(obj)
        self._keys.append("")

    def end_object(self) -> None:
        self._stack.pop()
        self._keys.pop()

    def start_array(self) -> None:
        array: list[Any] = []
        self._put(array)
        self._stack.append(array)
        self._keys.append("")

    def end_array(self) -> None:
        self._stack.pop()
        self._keys.pop()

    def key(self, name: str) -> None:
        self._keys[-1] = name

    def scalar(self, value: JsonScalar) -> None:
        self._put(json.loads(value.text) if isinstance(value, JsonNumber) else value)

    def begin_string(self) -> bool:
        self._buffer = bytearray()
        return self.stream

    def string_chunk(self, data: bytes) -> None:
        assert isinstance(data, bytes)
        self.chunk_sizes.append(len(data))
        self._buffer += data

    def end_string(self) -> None:
        self._put(self._buffer.decode("utf-8"))


def tokenize(
    chunks: list[bytes] | bytes, *, stream: bool = False, limits: Limits | None = None
) -> Any:
    if isinstance(chunks, bytes):
        chunks = [chunks]
    handler = Rebuild(stream=stream)
    tokenizer = JsonTokenizer(handler, limits or Limits())
    for chunk in chunks:
        tokenizer.feed(chunk)
    tokenizer.finish()
    return handler.result


def refusal(raw: bytes, *, stream: bool = False, limits: Limits | None = None) -> str:
    with pytest.raises(InvalidRequest) as caught:
        tokenize(raw, stream=stream, limits=limits)
    # Byte by byte gives the very same fault.
    with pytest.raises(InvalidRequest) as again:
        tokenize(one_byte_at_a_time(raw), stream=stream, limits=limits)
    assert again.value.description == caught.value.description
    return caught.value.description


DOCUMENTS = [
    b'{"a": [1, -2.5e3, true, false, null, "x", {}, []], "b": {"c": "d\\u00e9\\n"}}',
    b' \r\n\t{"\\u00e9t\\u00e9": "\\ud83d\\ude00 \\/ \\\\ \\" \\b\\f\\n\\r\\t", "n": -0}  ',
    '{"k": "ø raw é and 😀", "empty": "", "e": 1E+2, "z": 0.5}'.encode(),
]


@pytest.mark.parametrize("raw", DOCUMENTS)
@pytest.mark.parametrize("stream", [False, True])
def test_every_split_point_and_single_bytes_give_the_same_document(
    raw: bytes, stream: bool
) -> None:
    """§3.2: the body is a stream; where it is cut never changes the result."""
    expected = json.loads(raw)
    for chunks in split_in_two(raw):
        assert tokenize(chunks, stream=stream) == expected
    assert tokenize(one_byte_at_a_time(raw), stream=stream) == expected


_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@FAST
@given(
    document=st.dictionaries(st.text(max_size=8), _json, max_size=5),
    ensure_ascii=st.booleans(),
    indent=st.sampled_from([None, 0, 2, "\t"]),
    stream=st.booleans(),
    cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=8),
)
def test_random_documents_round_trip_in_random_chunks(
    document: dict[str, Any], ensure_ascii: bool, indent: Any, stream: bool, cuts: list[int]
) -> None:
    raw = json.dumps(document, ensure_ascii=ensure_ascii, indent=indent).encode()
    points = sorted({cut % (len(raw) + 1) for cut in cuts})
    chunks = [raw[a:b] for a, b in itertools.pairwise([0, *points, len(raw)])]
    assert tokenize(chunks, stream=stream) == json.loads(raw)


# Pieces of a JSON string's source: escapes a bulk replace must get right, the hard
# neighbours (escaped backslashes, escaped quotes), and long runs that trigger bulk mode.
_PIECES = [
    "\\/",
    "\\\\",
    '\\"',
    "\\u002F",
    "\\u002f",
    "\\u002B",
    "\\u002b",
    "\\u003D",
    "\\r\\n",
    "\\n",
    "\\t",
    "\\b",
    "\\f",
    "\\u00e9",
    "\\ud83d\\ude00",
    "é",
    "😀",
    "u002F",
    "/",
    "r",
    "n",
    "A" * 300,
    "QUJD" * 100,
]


@FAST
@given(
    pieces=st.lists(st.sampled_from(_PIECES), min_size=1, max_size=60),
    cuts=st.lists(st.integers(min_value=0, max_value=100_000), max_size=6),
)
def test_streamed_strings_resolve_escapes_exactly(pieces: list[str], cuts: list[int]) -> None:
    """The bulk escape path gives the bytes json.loads gives, however the string is cut."""
    source = "".join(pieces)
    raw = ('{"content": "' + source + '"}').encode()
    points = sorted({cut % (len(raw) + 1) for cut in cuts})
    chunks = [raw[a:b] for a, b in itertools.pairwise([0, *points, len(raw)])]
    assert tokenize(chunks, stream=True) == json.loads(raw)


@FAST
@given(
    pieces=st.lists(st.sampled_from(_PIECES), min_size=1, max_size=30),
    cuts=st.lists(st.integers(min_value=0, max_value=100_000), max_size=6),
)
def test_accumulated_strings_resolve_escapes_exactly(pieces: list[str], cuts: list[int]) -> None:
    """Keys and ordinary values take the same bulk path and must agree with json.loads."""
    source = "".join(pieces)
    raw = ('{"' + "".join(pieces[:3]) + 'k": "' + source + '"}').encode()
    expected = json.loads(raw)
    points = sorted({cut % (len(raw) + 1) for cut in cuts})
    chunks = [raw[a:b] for a, b in itertools.pairwise([0, *points, len(raw)])]
    assert tokenize(chunks) == expected


def test_long_streamed_string_is_handed_on_in_large_slices() -> None:
    """§6: streamed content is never accumulated; it leaves in slices of what arrived."""
    content = "QUJD" * 250_000
    raw = ('{"content": "' + content + '"}').encode()
    handler = Rebuild(stream=True)
    tokenizer = JsonTokenizer(handler, Limits())
    for start in range(0, len(raw), 65536):
        tokenizer.feed(raw[start : start + 65536])
    tokenizer.finish()
    assert handler.result == {"content": content}
    assert len(handler.chunk_sizes) <= len(raw) // 65536 + 2


def test_escape_dense_streamed_string_is_exact() -> None:
    """PHP-style '\\/' every few characters, in 1 KiB chunks."""
    content = ("ab/cd+ef" * 20_000).replace("/", "\\/").replace("+", "\\u002B")
    raw = ('{"content": "' + content + '"}').encode()
    chunks = [raw[i : i + 1024] for i in range(0, len(raw), 1024)]
    assert tokenize(chunks, stream=True) == {"content": "ab/cd+ef" * 20_000}


# -- bounds -----------------------------------------------------------------------------


def nested(depth: int) -> bytes:
    """A document whose deepest container is at ``depth`` (the root object is 1)."""
    inner = depth - 1
    return b'{"x": ' + b"[" * inner + b"]" * inner + b"}"


def test_depth_32_is_accepted() -> None:
    """§9: the root object counts as depth 1; 32 levels are fine."""
    assert tokenize(nested(32))["x"] is not None


def test_depth_33_is_refused_naming_the_limit() -> None:
    message = refusal(nested(33))
    assert "maxJsonDepth 32" in message
    assert message.startswith("x" + "[0]" * 31 + ": ")


def test_objects_count_towards_depth() -> None:
    raw = b'{"a": ' * 32 + b"1" + b"}" * 32
    assert tokenize(raw) is not None
    assert "maxJsonDepth 32" in refusal(b'{"a": ' * 33 + b"1" + b"}" * 33)


def test_depth_limit_comes_from_limits() -> None:
    assert "maxJsonDepth 3" in refusal(nested(4), limits=Limits(max_json_depth=3))


def test_string_of_exactly_max_chars_is_accepted() -> None:
    """§3.1: 64 KiB characters is the cap for any string but content."""
    value = "é" * 65536  # two bytes each: the cap counts characters
    assert tokenize(json.dumps({"x": value}, ensure_ascii=False).encode()) == {"x": value}


def test_string_one_over_max_chars_is_refused() -> None:
    raw = json.dumps({"x": "a" * 65537}).encode()
    with pytest.raises(InvalidRequest) as caught:
        tokenize(raw)
    assert caught.value.description == (
        "x: the string is longer than maxStringChars 65536 characters"
    )


@pytest.mark.parametrize(
    ("source", "accepted"),
    [
        ("\\u00e9" * 4, True),  # escapes count as one character each
        ("\\ud83d\\ude00" * 4, True),  # a surrogate pair is one character
        ("abc\\u00e9e", False),
    ],
)
def test_string_cap_counts_code_points(source: str, accepted: bool) -> None:
    limits = Limits(max_string_chars=4)
    raw = ('{"x": "' + source + '"}').encode()
    if accepted:
        assert tokenize(raw, limits=limits) == json.loads(raw)
    else:
        assert "maxStringChars 4" in refusal(raw, limits=limits)


def test_long_key_is_refused() -> None:
    raw = ('{"a": {"' + "k" * 11 + '": 1}}').encode()
    message = refusal(raw, limits=Limits(max_string_chars=10))
    assert message == "a: an object key is longer than maxStringChars 10 characters"


def test_long_number_is_refused() -> None:
    message = refusal(b'{"n": ' + b"1" * 11 + b"}", limits=Limits(max_string_chars=10))
    assert "maxStringChars 10" in message


def test_streamed_strings_are_not_capped() -> None:
    raw = ('{"x": "' + "a" * 100 + '"}').encode()
    assert tokenize(raw, stream=True, limits=Limits(max_string_chars=10)) == {"x": "a" * 100}


def test_members_per_object_are_bounded() -> None:
    """Duplicate detection keeps every key, so an object's size is bounded too."""
    members = ",".join(f'"k{i}": 0' for i in range(Limits().max_object_members))
    assert len(tokenize(("{" + members + "}").encode())) == Limits().max_object_members
    message = refusal(("{" + members + ', "one more": 0}').encode())
    limit = Limits().max_object_members
    assert message == f"(root object): an object with more than maxObjectMembers {limit} members"


def test_values_per_document_are_bounded() -> None:
    """Each value costs a step in Python: a body of a billion tiny values is refused early."""
    values = ",".join(["0"] * (Limits().max_json_values - 1))
    assert len(tokenize(('{"a": [' + values + "]}").encode())["a"]) == Limits().max_json_values - 1
    message = refusal(('{"a": [' + values + ", 1]}").encode())
    assert message == (
        f"a[{Limits().max_json_values - 1}]: the document has more than maxJsonValues "
        f"{Limits().max_json_values} values"
    )


# -- duplicate keys ---------------------------------------------------------------------


def test_duplicate_key_is_refused_naming_its_path() -> None:
    """§3.1: duplicate keys in one object → 400 naming the key."""
    assert refusal(b'{"a": {"b": [{"c": 1, "c": 2}]}}') == "a.b[0].c: duplicate key in one object"


def test_same_key_in_different_objects_is_fine() -> None:
    assert tokenize(b'{"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}]}')["b"][1] == {"a": 2}


def test_duplicate_key_spelled_with_escapes_is_detected() -> None:
    assert "duplicate key" in refusal(b'{"ab": 1, "a\\u0062": 2}')


def test_long_duplicate_keys_are_detected_and_near_misses_are_not() -> None:
    long_key = "k" * 200
    assert "duplicate key" in refusal(
        json.dumps({}).encode()[:-1] + f'"{long_key}": 1, "{long_key}": 2}}'.encode()
    )
    other = long_key[:-1] + "j"
    assert len(tokenize(f'{{"{long_key}": 1, "{other}": 2}}'.encode())) == 2


def test_odd_keys_are_quoted_in_paths() -> None:
    assert format_path(("payload", "a b", 3, "x")) == 'payload["a b"][3].x'
    assert format_path(()) == "(root object)"
    assert format_path(("k" * 100,)).endswith('…"]')


# -- strictness -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": "\\ud800"}',
        b'{"a": "\\ud800x"}',
        b'{"a": "\\ud800\\n"}',
        b'{"a": "\\ud800\\ud800\\udc00"}',
        b'{"a": "\\udc00"}',
        b'{"a": "x\\udfff"}',
        b'{"\\ud800": 1}',
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_lone_surrogates_are_refused(raw: bytes, stream: bool) -> None:
    """§9: lone surrogates anywhere → 400 InvalidRequest."""
    assert "lone UTF-16 surrogate" in refusal(raw, stream=stream)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": "\xff"}',
        b'{"a": "\xc0\xaf"}',  # overlong '/'
        b'{"a": "\xed\xa0\x80"}',  # a surrogate encoded in UTF-8
        b'{"a": "\xc3"}',  # truncated at the end of the string
        b'{"a": "\xc3\\n"}',  # truncated before an escape
        b'{"a": "\xe2\x82"}',
        b'{"\xc3": 1}',
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_invalid_utf8_is_refused(raw: bytes, stream: bool) -> None:
    message = refusal(raw, stream=stream)
    assert message.startswith("malformed JSON at byte ")
    assert "invalid UTF-8" in message


@pytest.mark.parametrize("control", [b"\x00", b"\n", b"\t", b"\x1f"])
@pytest.mark.parametrize("stream", [False, True])
def test_raw_control_characters_in_strings_are_refused(control: bytes, stream: bool) -> None:
    message = refusal(b'{"a": "xy' + control + b'"}', stream=stream)
    assert message == "malformed JSON at byte 9: unescaped control character in a string"


@pytest.mark.parametrize("stream", [False, True])
def test_raw_control_character_after_an_escape_is_refused_where_it_is(stream: bool) -> None:
    """The C scanner refuses the run; the escape-by-escape path names the byte."""
    raw = b'{"a": "\\/\\u002B' + b"x" * 600 + b'\ty"}'
    assert refusal(raw, stream=stream) == (
        "malformed JSON at byte 615: unescaped control character in a string"
    )


def test_raw_control_character_in_a_long_streamed_run_is_refused() -> None:
    raw = b'{"a": "' + b"A" * 5000 + b"\n" + b"A" * 10 + b'"}'
    assert refusal(raw, stream=True) == (
        "malformed JSON at byte 5007: unescaped control character in a string"
    )


def test_del_is_allowed_in_strings() -> None:
    assert tokenize(b'{"a": "\x7f"}') == {"a": "\x7f"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            b"[]",
            "malformed JSON at byte 0: the body must be a JSON object starting with '{', got '['",
        ),
        (
            b'  "x"',
            "malformed JSON at byte 2: the body must be a JSON object starting with '{', got '\"'",
        ),
        (b'{"a" 1}', "malformed JSON at byte 5: expected ':' after an object key, got '1'"),
        (b'{"a": 1 "b": 2}', "malformed JSON at byte 8: expected ',' or '}', got '\"'"),
        (b'{"a": [1 2]}', "malformed JSON at byte 9: expected ',' or ']', got '2'"),
        (b'{"a": 1,}', "malformed JSON at byte 8: expected '\"' (a key), got '}'"),
        (b'{"a": [1,]}', "malformed JSON at byte 9: expected a value, got ']'"),
        (b"{'a': 1}", "malformed JSON at byte 1: expected '\"' or '}', got \"'\""),
        (b'{"a": 01}', "malformed JSON at byte 6: invalid number '01'"),
        (b'{"a": 1.}', "malformed JSON at byte 6: invalid number '1.'"),
        (b'{"a": .5}', "malformed JSON at byte 6: expected a value, got '.'"),
        (b'{"a": +1}', "malformed JSON at byte 6: expected a value, got '+'"),
        (b'{"a": 1e}', "malformed JSON at byte 6: invalid number '1e'"),
        (b'{"a": tru}', "malformed JSON at byte 6: invalid literal (expected true)"),
        (b'{"a": NaN}', "malformed JSON at byte 6: expected a value, got 'N'"),
        (b'{"a": "\\x"}', "malformed JSON at byte 7: invalid escape '\\x'"),
        (b'{"a": "\\u12G4"}', "malformed JSON at byte 7: invalid \\u escape"),
        (
            b'{"a": 1} x',
            "malformed JSON at byte 9: unexpected data after the end of the JSON object",
        ),
        (
            b'{"a": 1}{}',
            "malformed JSON at byte 8: unexpected data after the end of the JSON object",
        ),
        (
            b'{"a": 1}\x00',
            "malformed JSON at byte 8: unexpected data after the end of the JSON object",
        ),
        (
            b" \xef\xbb\xbf{}",
            "malformed JSON at byte 1: "
            "the body must be a JSON object starting with '{', got byte 0xEF",
        ),
    ],
)
def test_malformed_json_is_refused_with_its_byte_offset(raw: bytes, expected: str) -> None:
    assert refusal(raw) == expected


@pytest.mark.parametrize("raw", [b'{"a": 0}', b'{"a": -0.0e-0}', b'{"a": 1.5E+10}', b'{"a": 123}'])
def test_numbers_of_every_form_are_read(raw: bytes) -> None:
    assert tokenize(raw) == json.loads(raw)


def test_numbers_keep_their_text() -> None:
    seen: list[JsonScalar] = []

    class Keep(Rebuild):
        def scalar(self, value: JsonScalar) -> None:
            seen.append(value)

    tokenizer = JsonTokenizer(Keep(), Limits())
    tokenizer.feed(b'{"a": 1' + b"0" * 5000 + b"}")
    tokenizer.finish()
    assert seen == [JsonNumber("1" + "0" * 5000)]


def test_leading_byte_order_mark_is_skipped() -> None:
    """RFC 8259 §8.1 lets a parser ignore a BOM; some Windows clients send one."""
    raw = b"\xef\xbb\xbf" + b'{"a": 1}'
    assert tokenize(raw) == {"a": 1}
    assert tokenize(one_byte_at_a_time(raw)) == {"a": 1}


def test_trailing_whitespace_is_fine() -> None:
    assert tokenize([b'{"a": 1}', b" \r\n\t ", b"\n"]) == {"a": 1}


@pytest.mark.parametrize("raw", [b"", b"   \n", b"\xef\xbb\xbf"])
def test_empty_body_is_refused_clearly(raw: bytes) -> None:
    with pytest.raises(InvalidRequest) as caught:
        tokenize(raw)
    assert caught.value.description == "the request body is empty; a JSON object is required"


@pytest.mark.parametrize(
    "raw", [b"{", b'{"a": ', b'{"a": "xx', b'{"a": 12', b'{"a": [1', b'{"a": "\\u00', b"\xef\xbb"]
)
def test_body_ending_early_is_refused(raw: bytes) -> None:
    with pytest.raises(InvalidRequest) as caught:
        tokenize(raw)
    assert caught.value.description == "body ended before the JSON was complete"


def test_handler_exceptions_propagate() -> None:
    class Refuse(Rebuild):
        def key(self, name: str) -> None:
            raise InvalidRequest(f"{name}: no")

    tokenizer = JsonTokenizer(Refuse(), Limits())
    with pytest.raises(InvalidRequest, match=r"^b: no$"):
        tokenizer.feed(b'{"b": 1}')
