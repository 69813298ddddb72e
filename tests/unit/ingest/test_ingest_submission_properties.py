"""Properties of the submit body parser: random valid bodies round-trip in any chunking,
and no input makes it raise anything but the service's own errors (§3.1, §3.2)."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ingest_support import (
    TARGET,
    TOKEN,
    SinkFactory,
    encode,
    file_entry,
    one_byte_at_a_time,
    outcome,
    submission,
)

from ecb_files.config import Limits
from ecb_files.domain.rules import file_name_problem
from ecb_files.errors import EcbError
from ecb_files.ingest import SubmissionParser

PROPERTY = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_names = st.text(min_size=1, max_size=20).filter(
    lambda name: file_name_problem(name, max_chars=500) is None
)
_unknown = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def files(draw: st.DrawFn) -> dict[str, Any]:
    data = draw(st.binary(min_size=1, max_size=300))
    entry: dict[str, Any] = {
        "fileName": draw(_names),
        "contentType": draw(st.text(min_size=1, max_size=15)),
        "content": data,  # base64-encoded by the serializer, in a random style
    }
    for key, values in [
        ("description", st.none() | st.text(max_size=30)),
        ("isRestricted", st.none() | st.booleans()),
        ("isDamageImage", st.none() | st.booleans()),
    ]:
        if draw(st.booleans()):
            entry[key] = draw(values)
    if draw(st.booleans()):
        digest = hashlib.sha256(data).hexdigest()
        entry["sha256"] = digest.upper() if draw(st.booleans()) else digest
    if draw(st.booleans()):
        entry["extraField"] = draw(_unknown)
    return entry


@st.composite
def bodies(draw: st.DrawFn) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": draw(st.sampled_from([TARGET, TARGET.upper()])),
        "insuranceCompanyAlias": draw(st.text(min_size=1, max_size=10)),
        "userEmail": draw(st.sampled_from(["a@b.dk", "company_ds@example.com", "Ø@ex.am.ple"])),
        "files": draw(st.lists(files(), min_size=1, max_size=4)),
    }
    body: dict[str, Any] = {"securityToken": TOKEN, "payload": payload}
    if draw(st.booleans()):
        body["timestamp"] = draw(st.sampled_from(["2024-05-01", "2024-05-01T12:00:00Z", None]))
    if draw(st.booleans()):
        body["unknown"] = draw(_unknown)
    return body


class Writer:
    """Serializes a body with random key order, whitespace and escaping styles."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def space(self) -> str:
        return self.rng.choice(["", "", " ", "\n", "\r\n  ", "\t"])

    def string(self, text: str) -> str:
        return json.dumps(text, ensure_ascii=self.rng.random() < 0.5)

    def content(self, data: bytes) -> str:
        text = base64.b64encode(data).decode()
        out = []
        for i, char in enumerate(text):
            if i and i % 4 == 0 and self.rng.random() < 0.1:
                out.append(self.rng.choice([" ", "\\r\\n", "\\n", "\\t"]))
            if char == "/":
                out.append(self.rng.choice(["/", "\\/", "\\u002F", "\\u002f"]))
            elif char == "+":
                out.append(self.rng.choice(["+", "\\u002B"]))
            else:
                out.append(char)
        return '"' + "".join(out) + '"'

    def value(self, value: Any, key: str = "") -> str:
        if key == "content" and isinstance(value, bytes):
            return self.content(value)
        if isinstance(value, dict):
            items = list(value.items())
            self.rng.shuffle(items)
            members = [
                self.space() + self.string(k) + self.space() + ":" + self.space() + self.value(v, k)
                for k, v in items
            ]
            return "{" + ",".join(m + self.space() for m in members) + self.space() + "}"
        if isinstance(value, list):
            return "[" + ",".join(self.space() + self.value(v) + self.space() for v in value) + "]"
        if isinstance(value, str):
            return self.string(value)
        return json.dumps(value)


def chunked(raw: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({cut % (len(raw) + 1) for cut in cuts})
    return [raw[a:b] for a, b in itertools.pairwise([0, *points, len(raw)])]


@PROPERTY
@given(
    body=bodies(),
    rng=st.randoms(use_true_random=False),
    cuts=st.lists(st.integers(min_value=0), max_size=10),
)
def test_random_valid_bodies_round_trip_in_random_chunks(
    body: dict[str, Any], rng: random.Random, cuts: list[int]
) -> None:
    raw = (Writer(rng).space() + Writer(rng).value(body) + Writer(rng).space()).encode()
    factory = SinkFactory()
    parser = SubmissionParser(Limits(), factory)
    for chunk in chunked(raw, cuts):
        parser.feed(chunk)
    result = parser.finish()

    assert str(result.security_token) == TOKEN
    assert str(result.target_id) == TARGET
    assert result.timestamp == body.get("timestamp")
    assert result.insurance_company_alias == body["payload"]["insuranceCompanyAlias"]
    assert result.user_email == body["payload"]["userEmail"]
    expected = body["payload"]["files"]
    assert len(result.files) == len(expected) == len(factory.sinks)
    for index, (parsed, entry) in enumerate(zip(result.files, expected, strict=True)):
        assert parsed.index == index
        assert bytes(parsed.blob.data) == entry["content"]
        assert parsed.blob.sealed
        assert parsed.size == len(entry["content"])
        assert parsed.sha256 == hashlib.sha256(entry["content"]).hexdigest()
        assert parsed.file_name == entry["fileName"]
        assert parsed.content_type == entry["contentType"]
        assert parsed.description == entry.get("description")
        assert parsed.is_restricted is bool(entry.get("isRestricted"))
        assert parsed.is_damage_image is bool(entry.get("isDamageImage"))


def feed_all(chunks: list[bytes]) -> None:
    """Feed and finish; on any service error abort, and check every sink was aborted."""
    factory = SinkFactory()
    parser = SubmissionParser(Limits(max_file_bytes=1000, max_files_per_request=5), factory)
    try:
        for chunk in chunks:
            parser.feed(chunk)
        parser.finish()
    except EcbError:
        parser.abort()
        assert all(sink.aborts == 1 for sink in factory.sinks)


@FUZZ
@given(data=st.binary(max_size=300), cuts=st.lists(st.integers(min_value=0), max_size=5))
def test_random_bytes_raise_only_service_errors(data: bytes, cuts: list[int]) -> None:
    feed_all(chunked(data, cuts))


_VALID = encode(
    submission(
        [
            file_entry(b"\x00\xffhello world" * 3, description="d\u00e9", sha256=None),
            file_entry(b"x"),
        ],
        timestamp="2024-05-01",
        extra=[1, {"a": None}, "s\u00f8"],
    )
)
_ALPHABET = st.sampled_from(list(b'{}[],:"\\/= \nu0aAQ+-.eE' + b"\xc3\xa9\xed\xff\x00"))


_EDITS = st.lists(
    st.tuples(
        st.integers(min_value=0), st.sampled_from(["insert", "delete", "replace"]), _ALPHABET
    ),
    min_size=1,
    max_size=4,
)


def mutate(raw: bytes, edits: list[tuple[int, str, int]]) -> bytes:
    out = bytearray(raw)
    for where, how, byte in edits:
        at = where % (len(out) + 1)
        if how == "insert":
            out[at:at] = bytes([byte])
        elif at < len(out):
            out[at : at + 1] = b"" if how == "delete" else bytes([byte])
    return bytes(out)


@FUZZ
@given(edits=_EDITS, cuts=st.lists(st.integers(min_value=0), max_size=5))
def test_mutated_bodies_raise_only_service_errors(
    edits: list[tuple[int, str, int]], cuts: list[int]
) -> None:
    feed_all(chunked(mutate(_VALID, edits), cuts))


# Escapes, raw non-ASCII, a surrogate pair and line breaks in the content, by the Writer.
_ESCAPED_VALID = (
    Writer(random.Random(3))
    .value(
        submission(
            [
                {
                    "fileName": "skærm 📷.jpg",
                    "contentType": "image/jpeg",
                    "content": b"\xfb\xff\xfe" * 12,
                    "description": 'ø\n"',
                },
                {"fileName": "b.txt", "contentType": "t", "content": b"\xfb" * 5},
            ],
            timestamp="2024-05-01",
        )
    )
    .encode()
)


@FUZZ
@given(
    base=st.sampled_from([_VALID, _ESCAPED_VALID]),
    edits=_EDITS,
    cuts=st.lists(st.integers(min_value=0), max_size=5),
)
def test_any_body_gives_the_same_outcome_however_it_is_cut(
    base: bytes, edits: list[tuple[int, str, int]], cuts: list[int]
) -> None:
    """§9: faults are reported in the order met in the stream, so the first fault (or the
    result) cannot depend on where the network cut the body."""
    raw = mutate(base, edits)
    limits = Limits(max_file_bytes=40, max_files_per_request=5)
    whole = outcome([raw], limits)
    assert outcome(chunked(raw, cuts), limits) == whole
    assert outcome(one_byte_at_a_time(raw), limits) == whole
