"""A small body that arrives whole is read by the C parser (ingest/json_whole.py), and
the handler cannot tell: the same events in the same order, the same refusals (§3.1
bounds, §9 rules)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_support import one_byte_at_a_time

from ecb_files.config import Limits
from ecb_files.errors import InvalidRequest
from ecb_files.ingest import JsonNumber, JsonScalar, JsonTokenizer
from ecb_files.ingest.json_whole import WHOLE_DOCUMENT_BYTES, read_whole

FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SMALL = Limits(max_json_depth=4, max_string_chars=8, max_object_members=3, max_json_values=12)


class Events:
    """Records every event; streamed strings are streamed when their text says so."""

    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []
        self._streaming = False
        self._streamed = bytearray()

    def start_object(self) -> None:
        self.events.append(("{",))

    def end_object(self) -> None:
        self.events.append(("}",))

    def start_array(self) -> None:
        self.events.append(("[",))

    def end_array(self) -> None:
        self.events.append(("]",))

    def key(self, name: str) -> None:
        self.events.append(("key", name))

    def scalar(self, value: JsonScalar) -> None:
        self.events.append(("scalar", value))

    def begin_string(self) -> bool:
        # The handler's answer may depend on where it is: here, after any key "s".
        self._streaming = bool(self.events) and self.events[-1] == ("key", "s")
        self._streamed = bytearray()
        self.events.append(("begin_string", self._streaming))
        return self._streaming

    def string_chunk(self, data: bytes) -> None:
        assert self._streaming
        self._streamed += data  # chunk boundaries are the tokenizer's business

    def end_string(self) -> None:
        self.events.append(("streamed", bytes(self._streamed)))


def outcome(chunks: list[bytes], limits: Limits) -> tuple[list[tuple[Any, ...]], str | None]:
    """The events, and the refusal if there was one."""
    handler = Events()
    tokenizer = JsonTokenizer(handler, limits)
    try:
        for chunk in chunks:
            tokenizer.feed(chunk)
        tokenizer.finish()
    except InvalidRequest as refusal:
        return handler.events, refusal.description
    return handler.events, None


def assert_same_as_the_tokenizer(raw: bytes, limits: Limits) -> None:
    """Whole (the C parser when it takes it) against one byte at a time (never)."""
    assert outcome([raw], limits) == outcome(one_byte_at_a_time(raw), limits)


SUBMISSION = json.dumps(
    {
        "securityToken": "9e8d7c6b-0000-4000-8000-00000000be01",
        "userEmail": "someone@example.com",
        "timestamp": "2026-12-06T10:00:00Z",
        "payload": {
            "id": "5d3c2b1a-0000-4000-8000-00000000be01",
            "insuranceCompanyAlias": "company",
            "files": [
                {"fileName": "a.jpg", "content": "/9j/4AAQ" * 100, "isDamageImage": True},
                {"fileName": "b.pdf", "content": "JVBERi0x", "description": None, "n": -1.5e3},
            ],
        },
    }
).encode()


def test_a_typical_small_body_is_read_by_the_c_parser() -> None:
    """The fast path is taken for what partners send (else it would save nothing)."""
    assert read_whole(SUBMISSION, Limits(), JsonNumber) is not None
    assert read_whole(b'  {"a": [1, 2.5, true, null, {}]}\r\n', Limits(), JsonNumber) is not None


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"\xef\xbb\xbf{}", id="byte-order-mark"),
        pytest.param(b'{"a": NaN}', id="NaN"),
        pytest.param(b'{"a": -Infinity}', id="Infinity"),
        pytest.param(b'{"a": "\\ud800"}', id="lone-surrogate-value"),
        pytest.param(b'{"\\udc00": 1}', id="lone-surrogate-key"),
        pytest.param(b'{"a\\ud800": 1, "\\udc00b": 2}', id="lone-surrogates-in-two-keys"),
        pytest.param(b'{"a": 1, "a": 2}', id="duplicate-key"),
        pytest.param(b'{"a": {"b": {"c": {"d": {}}}}}', id="too-deep"),
        pytest.param(b'{"a": 1, "b": 2, "c": 3, "d": 4}', id="too-many-members"),
        pytest.param(b'{"a": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]}', id="too-many-values"),
        pytest.param(b'{"abcdefghi": 1}', id="long-key"),
        pytest.param(b'{"a": 1234567890}', id="long-number"),
        pytest.param(b'{"a": "x\ny"}', id="raw-control-character"),
        pytest.param(b'{"a": "\xff"}', id="invalid-utf-8"),
        pytest.param(b"{} {}", id="trailing-data"),
        pytest.param(b"[{}]", id="array-root"),
        pytest.param('{"a": 1}'.encode("utf-16"), id="utf-16"),
        pytest.param(b'{"a": "x"', id="a-prefix"),
        pytest.param(b'{"a": "' + b"x" * WHOLE_DOCUMENT_BYTES + b'"}', id="not-small"),
    ],
)
def test_what_the_tokenizer_would_refuse_or_bound_is_left_to_it(raw: bytes) -> None:
    """§9: every document the tokenizer refuses, or bounds, is not taken whole; it
    reads the bytes, and refuses (or bounds) as always."""
    assert read_whole(raw, SMALL, JsonNumber) is None
    assert_same_as_the_tokenizer(raw, SMALL)


@pytest.mark.parametrize(
    "raw",
    [
        SUBMISSION,
        b'{"s": "streamed \\u00e9\\n\\/", "t": "not streamed", "n": [0, -0, 1E+2, 0.5]}',
        b'{"t": "123456789"}',  # a string over the bound, not streamed: refused
        b'{"s": "1234567890123"}',  # over the bound but streamed: taken
        '{"\\u00e9": "ø é 😀", "s": "😀"}'.encode(),
    ],
)
def test_the_events_are_the_tokenizers(raw: bytes) -> None:
    """§3.1: same events, same order, same refusal, under the default and small bounds."""
    assert_same_as_the_tokenizer(raw, Limits())
    assert_same_as_the_tokenizer(raw, SMALL)


def test_a_handler_refusal_stops_the_events_where_the_tokenizer_stops_them() -> None:
    """A fault the handler raises ends the parse at the same value either way."""

    class Refuses(Events):
        def scalar(self, value: JsonScalar) -> None:
            super().scalar(value)
            if value == "stop":
                raise InvalidRequest("stopped here")

    def events(chunks: list[bytes]) -> list[tuple[Any, ...]]:
        handler = Refuses()
        tokenizer = JsonTokenizer(handler, Limits())

        def feed_all() -> None:
            for chunk in chunks:
                tokenizer.feed(chunk)

        with pytest.raises(InvalidRequest, match="stopped here"):
            feed_all()
        return handler.events

    raw = b'{"a": 1, "b": ["stop", 2], "c": 3}'
    assert read_whole(raw, Limits(), JsonNumber) is not None
    assert events([raw]) == events(one_byte_at_a_time(raw))
    assert events([raw])[-1] == ("scalar", "stop")


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
_json = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(["s", "t", "a", "é", "\x7f"]), children, max_size=4)
    ),
    max_leaves=16,
)


@FAST
@given(
    document=st.dictionaries(st.text(max_size=6), _json, max_size=5),
    ensure_ascii=st.booleans(),
    indent=st.sampled_from([None, 0, 2]),
    small=st.booleans(),
)
def test_random_documents_give_the_tokenizers_events_and_refusals(
    document: dict[str, Any], ensure_ascii: bool, indent: int | None, small: bool
) -> None:
    """Any document, within the bounds or not: indistinguishable from the tokenizer."""
    raw = json.dumps(document, ensure_ascii=ensure_ascii, indent=indent).encode()
    assert_same_as_the_tokenizer(raw, SMALL if small else Limits())
