"""The submit body parser: field rules, messages, order of faults, sinks (§3.1,
§3.2 step 2, §3.4, §9)."""

from __future__ import annotations

import base64
import gc
import hashlib
import json
import uuid
from typing import Any

import pytest
from ingest_support import (
    TARGET,
    TOKEN,
    MemorySink,
    SinkFactory,
    b64,
    encode,
    failure,
    file_entry,
    one_byte_at_a_time,
    outcome,
    parse,
    run,
    split_in_two,
    submission,
)

from ecb_files.config import Limits
from ecb_files.errors import EcbError, InvalidRequest, PayloadTooLarge
from ecb_files.ingest import SubmissionParser

SEED_ORDER = (
    # The seed's own example: files before id, content before fileName.
    '{"securityToken": "' + TOKEN + '", "payload": {"files": ['
    '{"content": "' + b64(b"first file") + '", "contentType": "text/plain",'
    ' "fileName": "filename.txt", "description": "test description",'
    ' "isRestricted": false, "isDamageImage": false},'
    '{"content": "' + b64(b"a,b\r\n1,2\r\n") + '", "contentType": "text/csv",'
    ' "description": "test csv file2", "fileName": "test.csv",'
    ' "isDamageImage": true, "isRestricted": true}'
    '], "id": "' + TARGET + '", "insuranceCompanyAlias": "company",'
    ' "userEmail": "company_ds@example.com"}}'
).encode()

_ESCAPED_DATA = bytes(range(256)) * 3
_TEXT = b64(_ESCAPED_DATA)
ESCAPED = (
    '{"payload": {"files": [{"content": "'
    + _TEXT[:200].replace("/", "\\/").replace("+", "\\u002B")
    + "\\r\\n"
    + _TEXT[200:].replace("/", "\\u002F")
    + '", "fileName": "sk\\u00e6rm \\ud83d\\udcf7 \\u00f8.jpg", "contentType": "image/jpeg"}],'
    ' "userEmail": "a@b.dk", "insuranceCompanyAlias": "c", "id": "' + TARGET.upper() + '"},'
    ' "timestamp": "2024-05-01", "securityToken": "' + TOKEN + '"}'
).encode()


@pytest.mark.parametrize("raw", [SEED_ORDER, ESCAPED], ids=["seed-order", "escaped"])
def test_every_split_point_and_single_bytes_give_the_same_result(raw: bytes) -> None:
    """§3.2: the body streams; where it is cut never changes files, sizes or hashes."""
    expected = outcome([raw])
    assert expected[0] != "error"
    for chunks in split_in_two(raw):
        assert outcome(chunks) == expected
    assert outcome(one_byte_at_a_time(raw)) == expected


def test_a_parsed_request_leaves_nothing_for_the_garbage_collector() -> None:
    """§6 (bench/README.md, eleventh round): parsing leaves no reference cycle behind, so
    a request's file bytes are freed as soon as it lets go of them, not at the garbage
    collector's next pass, whose walk over many requests' leftovers paused the server."""
    raw = encode(submission([file_entry(b"x" * 10_000, "a.jpg"), file_entry(b"y", "b.txt")]))
    gc.collect()
    gc.disable()
    try:
        parsed, factory = run([raw[:100], raw[100:]])
        assert [parsed_file.size for parsed_file in parsed.files] == [10_000, 1]
        del parsed, factory
        assert gc.collect() == 0
    finally:
        gc.enable()


def test_seed_example_parses_with_keys_in_any_order() -> None:
    """§3.1: keys in any order at every level (the seed puts files before id)."""
    result, factory = run([SEED_ORDER])
    assert result.security_token == uuid.UUID(TOKEN)
    assert result.target_id == uuid.UUID(TARGET)
    assert result.insurance_company_alias == "company"
    assert result.user_email == "company_ds@example.com"
    assert result.timestamp is None
    first, second = result.files
    assert (first.index, first.file_name, first.content_type) == (0, "filename.txt", "text/plain")
    assert first.description == "test description"
    assert (first.is_restricted, first.is_damage_image) == (False, False)
    assert bytes(first.blob.data) == b"first file"
    assert first.size == 10
    assert first.sha256 == hashlib.sha256(b"first file").hexdigest()
    assert (second.index, second.file_name, second.is_restricted, second.is_damage_image) == (
        1,
        "test.csv",
        True,
        True,
    )
    assert bytes(second.blob.data) == b"a,b\r\n1,2\r\n"
    assert [sink.sealed for sink in factory.sinks] == [True, True]
    assert factory.sinks == [first.blob, second.blob]


def test_escapes_in_content_and_names_are_resolved() -> None:
    """§3.1: '\\/', '\\u002F', '\\u002B' and '\\r\\n' inside base64 are fine; unicode names."""
    result = parse(ESCAPED)
    (file,) = result.files
    assert bytes(file.blob.data) == _ESCAPED_DATA
    assert file.file_name == "skærm 📷 ø.jpg"
    assert result.timestamp == "2024-05-01"
    assert result.target_id == uuid.UUID(TARGET)


def test_file_name_with_a_slash_escape_is_refused() -> None:
    """'\\/' is still a '/' once unescaped: the file-name rule sees the real text."""
    raw = encode(submission([file_entry(name="x.txt")])).replace(b"x.txt", b"a\\/x.txt")
    assert failure(raw).description == "payload.files[0].fileName: must not contain '/'"


def test_raw_whitespace_and_line_breaks_inside_base64_are_ignored() -> None:
    data = bytes(range(200))
    wrapped = "\r\n".join(b64(data)[i : i + 76] for i in range(0, len(b64(data)), 76))
    spaced = " ".join(b64(data)[i : i + 4] for i in range(0, len(b64(data)), 4))
    for text in (wrapped, spaced, " " + b64(data) + " \n"):
        (file,) = parse(encode(submission([{**file_entry(), "content": text}]))).files
        assert bytes(file.blob.data) == data


def test_raw_line_breaks_inside_content_are_ignored_too() -> None:
    """§3.1: line breaks in content are ignored, raw as well as escaped."""
    data = bytes(range(200))
    raw = encode(submission([file_entry(data)]))
    text = b64(data).encode()
    raw_breaks = raw.replace(text, text[:76] + b"\r\n" + text[76:152] + b"\n" + text[152:])
    (file,) = parse(raw_breaks).files
    assert bytes(file.blob.data) == data


def test_other_raw_control_characters_in_content_are_refused() -> None:
    """§3.1: content is standard base64: a raw control byte is not part of it."""
    raw = encode(submission([file_entry(b"some bytes")]))
    text = b64(b"some bytes").encode()
    broken = raw.replace(text, text[:4] + b"\x01" + text[4:])
    assert "payload.files[0]" in failure(broken).description
    assert "base64" in failure(broken).description


def test_content_may_be_longer_than_the_string_cap() -> None:
    """§3.1: the 64 KiB cap applies to every string except content."""
    data = bytes(range(256)) * 400  # ~136 KB of base64
    (file,) = parse(encode(submission([file_entry(data)]))).files
    assert file.size == len(data)


@pytest.mark.parametrize(
    "unknown",
    ["text", 12, -1.5e300, True, False, None, {"a": [1, {"b": None}]}, [[], {}, "x", 0]],
)
def test_unknown_fields_of_every_type_are_ignored_at_every_level(unknown: Any) -> None:
    """§3.1: unknown fields are ignored."""
    files = [{**file_entry(), "extra": unknown}]
    body = submission(files, payload={"extra": unknown}, extra=unknown)
    # Known names inside unknown objects mean nothing.
    body["other"] = {"securityToken": "not a guid", "payload": 1, "files": []}
    result = parse(encode(body))
    assert len(result.files) == 1


def test_unknown_fields_are_still_bounded() -> None:
    """§9: the 64 KiB string cap applies to unknown fields too."""
    body = submission(payload={"notes": "x" * 65537})
    assert failure(encode(body)).description == (
        "payload.notes: the string is longer than maxStringChars 65536 characters"
    )


def test_string_of_exactly_max_string_chars_is_accepted_in_an_unknown_field() -> None:
    assert parse(encode(submission(notes="y" * 65536))).files


def test_depth_32_is_accepted_and_33_refused() -> None:
    """§9: JSON depth counts the root object as 1."""

    def body_with_depth(depth: int) -> bytes:
        raw = encode(submission())
        deep = b"[" * (depth - 1) + b"]" * (depth - 1)
        return raw[:-1] + b', "deep": ' + deep + b"}"

    assert parse(body_with_depth(32)).files
    assert failure(body_with_depth(33)).description == (
        "deep" + "[0]" * 31 + ": JSON nested deeper than maxJsonDepth 32 levels"
    )


# -- duplicate keys -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw_from", "raw_to", "expected"),
    [
        (
            b'"securityToken"',
            f'"securityToken": "{TOKEN}", "securityToken"'.encode(),
            "securityToken",
        ),
        (b'"id"', f'"id": "{TARGET}", "id"'.encode(), "payload.id"),
        (b'"fileName"', b'"fileName": "y.txt", "fileName"', "payload.files[0] ('y.txt').fileName"),
        (b'"content"', b'"content": "QQ==", "content"', "payload.files[0] ('a.txt').content"),
    ],
)
def test_duplicate_keys_are_refused_naming_the_path(
    raw_from: bytes, raw_to: bytes, expected: str
) -> None:
    """§3.1: duplicate keys in one object → 400 naming the key."""
    raw = encode(submission()).replace(raw_from, raw_to, 1)
    assert failure(raw).description == f"{expected}: duplicate key in one object"


# -- sizes and counts ----------------------------------------------------------------------


def test_file_of_exactly_max_file_bytes_is_accepted() -> None:
    limits = Limits(max_file_bytes=10)
    (file,) = parse(encode(submission([file_entry(b"0123456789")])), limits).files
    assert file.size == 10


def test_file_one_byte_over_is_413_naming_file_and_limit() -> None:
    """§3.2 step 2 and §4: 413 at once; the description names the file and the limit."""
    limits = Limits(max_file_bytes=10)
    files = [file_entry(b"ok"), file_entry(b"0123456789X", name="big.bin")]
    error = failure(encode(submission(files)), limits)
    assert isinstance(error, PayloadTooLarge)
    assert error.description == (
        "payload.files[1] ('big.bin'): the file is larger than maxFileBytes 10 bytes"
    )


def test_oversize_before_the_name_is_known_names_the_index() -> None:
    limits = Limits(max_file_bytes=10)
    raw = b'{"payload": {"files": [{"content": "' + base64.b64encode(b"x" * 30) + b'"'
    error = failure([raw], limits)
    assert error.description == "payload.files[0]: the file is larger than maxFileBytes 10 bytes"


def test_oversize_is_refused_before_the_body_ends() -> None:
    """The rest of the body is not needed to refuse: the fault is raised by feed()."""
    parser = SubmissionParser(Limits(max_file_bytes=10), SinkFactory())
    with pytest.raises(PayloadTooLarge):
        parser.feed(b'{"payload": {"files": [{"content": "' + base64.b64encode(b"x" * 30))


def test_zero_byte_file_is_refused() -> None:
    """§3.1: content decodes to at least 1 byte."""
    error = failure(encode(submission([{**file_entry(), "content": ""}])))
    assert error.description == (
        "payload.files[0] ('a.txt').content: decodes to 0 bytes; at least 1 byte is required"
    )


def test_max_files_per_request_is_accepted_and_one_more_refused() -> None:
    limits = Limits(max_files_per_request=2)
    assert len(parse(encode(submission([file_entry(), file_entry()])), limits).files) == 2
    error = failure(encode(submission([file_entry()] * 3)), limits)
    assert type(error) is InvalidRequest
    assert error.description == "payload.files: more than maxFilesPerRequest 2 files"


def test_file_count_is_refused_when_the_extra_file_starts() -> None:
    parser = SubmissionParser(Limits(max_files_per_request=1), SinkFactory())
    raw = encode(submission([file_entry(), file_entry()]))
    cut = raw.index(b"}, {") + 3
    parser.feed(raw[:cut])
    with pytest.raises(InvalidRequest, match="maxFilesPerRequest 1"):
        parser.feed(raw[cut : cut + 1])


def test_body_over_max_request_bytes_is_413() -> None:
    raw = encode(submission())
    limits = Limits(max_request_bytes=len(raw) - 1)
    error = failure(one_byte_at_a_time(raw), limits)
    assert isinstance(error, PayloadTooLarge)
    assert error.description == (
        f"the request body is larger than maxRequestBytes ({len(raw) - 1} bytes)"
    )
    assert parse(raw, Limits(max_request_bytes=len(raw))).files


def test_fault_inside_the_allowed_part_beats_the_body_size() -> None:
    raw = encode(submission(securityToken=12))
    error = failure([raw], Limits(max_request_bytes=len(raw) - 1))
    assert error.description.startswith("securityToken: expected")


# -- field rules ---------------------------------------------------------------------------

F0 = "payload.files[0]"
F0_NAMED = "payload.files[0] ('a.txt')"

RULES: list[tuple[str, dict[str, Any], str]] = [
    # (case id, body changes, expected description)
    ("token-missing", {"drop": ("securityToken",)}, "securityToken: required field is missing"),
    ("token-not-guid", {"root": {"securityToken": "abc"}}, "securityToken: must be a GUID"),
    (
        "token-braces",
        {"root": {"securityToken": "{" + TOKEN + "}"}},
        "securityToken: must be a GUID",
    ),
    (
        "token-number",
        {"root": {"securityToken": 5}},
        "securityToken: expected a string (a GUID), got a number",
    ),
    (
        "token-null",
        {"root": {"securityToken": None}},
        "securityToken: expected a string (a GUID), got null",
    ),
    (
        "timestamp-bad",
        {"root": {"timestamp": "yesterday"}},
        "timestamp: must be a date (yyyy-MM-dd)",
    ),
    (
        "timestamp-number",
        {"root": {"timestamp": 20240101}},
        "timestamp: expected a string (a date or date-time), got a number",
    ),
    ("payload-missing", {"drop": ("payload",)}, "payload: required field is missing"),
    ("payload-array", {"root": {"payload": []}}, "payload: expected an object, got an array"),
    ("payload-string", {"root": {"payload": "x"}}, "payload: expected an object, got a string"),
    ("id-missing", {"drop": ("payload", "id")}, "payload.id: required field is missing"),
    (
        "id-bad",
        {"payload": {"id": "11111111-1111-1111-1111-11111111111"}},
        "payload.id: must be a GUID",
    ),
    ("id-object", {"payload": {"id": {}}}, "payload.id: expected a string (a GUID), got an object"),
    (
        "alias-missing",
        {"drop": ("payload", "insuranceCompanyAlias")},
        "payload.insuranceCompanyAlias: required field is missing",
    ),
    (
        "alias-empty",
        {"payload": {"insuranceCompanyAlias": ""}},
        "payload.insuranceCompanyAlias: must not be empty",
    ),
    (
        "alias-bool",
        {"payload": {"insuranceCompanyAlias": True}},
        "payload.insuranceCompanyAlias: expected a string, got a boolean",
    ),
    (
        "email-missing",
        {"drop": ("payload", "userEmail")},
        "payload.userEmail: required field is missing",
    ),
    (
        "email-bad",
        {"payload": {"userEmail": "no-at-sign"}},
        "payload.userEmail: is not a valid e-mail address: must contain exactly one '@'",
    ),
    (
        "email-space",
        {"payload": {"userEmail": "a b@example.com"}},
        "payload.userEmail: is not a valid e-mail address: must not contain whitespace",
    ),
    ("files-missing", {"drop": ("payload", "files")}, "payload.files: required field is missing"),
    ("files-empty", {"payload": {"files": []}}, "payload.files: at least one file is required"),
    (
        "files-object",
        {"payload": {"files": {}}},
        "payload.files: expected an array of file objects, got an object",
    ),
    (
        "file-string",
        {"payload": {"files": ["x"]}},
        "payload.files[0]: expected an object (a file), got a string",
    ),
    (
        "file-null",
        {"payload": {"files": [None]}},
        "payload.files[0]: expected an object (a file), got null",
    ),
    ("name-missing", {"file_drop": "fileName"}, f"{F0}.fileName: required field is missing"),
    ("name-empty", {"file": {"fileName": ""}}, f"{F0}.fileName: must not be empty"),
    (
        "name-long",
        {"file": {"fileName": "a" * 497 + ".txt"}},
        f"{F0}.fileName: is longer than maxFileNameChars 500 characters",
    ),
    ("name-slash", {"file": {"fileName": "a/b.txt"}}, f"{F0}.fileName: must not contain '/'"),
    (
        "name-backslash",
        {"file": {"fileName": "a\\b.txt"}},
        f"{F0}.fileName: must not contain '\\\\'",
    ),
    (
        "name-nul",
        {"file": {"fileName": "a\x00.txt"}},
        f"{F0}.fileName: must not contain control characters (found U+0000)",
    ),
    (
        "name-newline",
        {"file": {"fileName": "a\n.txt"}},
        f"{F0}.fileName: must not contain control characters (found U+000A)",
    ),
    (
        "name-tab",
        {"file": {"fileName": "a\t.txt"}},
        f"{F0}.fileName: must not contain control characters (found U+0009)",
    ),
    (
        "name-del",
        {"file": {"fileName": "a\x7f.txt"}},
        f"{F0}.fileName: must not contain control characters (found U+007F)",
    ),
    (
        "name-c1",
        {"file": {"fileName": "a\x85.txt"}},
        f"{F0}.fileName: must not contain control characters (found U+0085)",
    ),
    ("name-dot", {"file": {"fileName": "."}}, f"{F0}.fileName: must not be '.' or '..'"),
    ("name-dotdot", {"file": {"fileName": ".."}}, f"{F0}.fileName: must not be '.' or '..'"),
    ("name-number", {"file": {"fileName": 7}}, f"{F0}.fileName: expected a string, got a number"),
    (
        "type-missing",
        {"file_drop": "contentType"},
        f"{F0_NAMED}.contentType: required field is missing",
    ),
    ("type-empty", {"file": {"contentType": ""}}, f"{F0_NAMED}.contentType: must not be empty"),
    (
        "type-null",
        {"file": {"contentType": None}},
        f"{F0_NAMED}.contentType: expected a string, got null",
    ),
    ("content-missing", {"file_drop": "content"}, f"{F0_NAMED}.content: required field is missing"),
    (
        "content-number",
        {"file": {"content": 1}},
        f"{F0_NAMED}.content: expected a string (base64), got a number",
    ),
    (
        "content-null",
        {"file": {"content": None}},
        f"{F0_NAMED}.content: expected a string (base64), got null",
    ),
    (
        "content-array",
        {"file": {"content": ["QQ=="]}},
        f"{F0_NAMED}.content: expected a string (base64), got an array",
    ),
    (
        "content-no-padding",
        {"file": {"content": "QUJDRA"}},
        f"{F0_NAMED}.content: ends after a partial group of 2 characters",
    ),
    (
        "content-padding-middle",
        {"file": {"content": "QQ==QUJD"}},
        f"{F0_NAMED}.content: data after '=' padding at character 4",
    ),
    (
        "content-url-safe",
        {"file": {"content": "QUJD-_=="}},
        f"{F0_NAMED}.content: not valid base64 at character 4 ('-' is not in",
    ),
    (
        "description-long",
        {"file": {"description": "d" * 4001}},
        f"{F0_NAMED}.description: is longer than maxDescriptionChars 4000 characters",
    ),
    (
        "description-number",
        {"file": {"description": 1}},
        f"{F0_NAMED}.description: expected a string, got a number",
    ),
    (
        "restricted-string",
        {"file": {"isRestricted": "true"}},
        f"{F0_NAMED}.isRestricted: expected a boolean (true or false), got a string",
    ),
    (
        "damage-number",
        {"file": {"isDamageImage": 1}},
        f"{F0_NAMED}.isDamageImage: expected a boolean (true or false), got a number",
    ),
    (
        "sha256-short",
        {"file": {"sha256": "abc"}},
        f"{F0_NAMED}.sha256: must be a SHA-256 digest as 64 hexadecimal characters",
    ),
    (
        "sha256-number",
        {"file": {"sha256": 0}},
        f"{F0_NAMED}.sha256: expected a string (64 hex digits), got a number",
    ),
]


def build(changes: dict[str, Any]) -> bytes:
    entry = file_entry()
    entry.update(changes.get("file", {}))
    entry.pop(changes.get("file_drop", ""), None)
    body = submission([entry], payload=changes.get("payload"))
    body.update(changes.get("root", {}))
    drop = changes.get("drop", ())
    if len(drop) == 1:
        del body[drop[0]]
    elif len(drop) == 2:
        del body[drop[0]][drop[1]]
    return json.dumps(body).encode()


@pytest.mark.parametrize(("changes", "expected"), [r[1:] for r in RULES], ids=[r[0] for r in RULES])
def test_field_rule_is_enforced_with_its_path(changes: dict[str, Any], expected: str) -> None:
    """§3.1/§9: every rule → 400 InvalidRequest whose description starts with the path."""
    error = failure(build(changes))
    assert type(error) is InvalidRequest
    assert error.description.startswith(expected), error.description


@pytest.mark.parametrize(
    "changes",
    [
        {"root": {"timestamp": None}},
        {"root": {"timestamp": "2024-05-01T12:30:00"}},
        {"root": {"timestamp": "2024-05-01T12:30:00.1234567+02:00"}},
        {"root": {"securityToken": TOKEN.upper()}},
        {
            "file": {
                "description": None,
                "isRestricted": None,
                "isDamageImage": None,
                "sha256": None,
            }
        },
        {"file": {"description": "d" * 4000}},
        {"file": {"fileName": "a" * 496 + ".txt"}},
        {"file": {"fileName": "..txt"}},
        {"file": {"fileName": "no-extension"}},
    ],
)
def test_valid_variants_are_accepted(changes: dict[str, Any]) -> None:
    assert parse(build(changes)).files


def test_optional_fields_default() -> None:
    (file,) = parse(build({"file": {"isRestricted": None}})).files
    assert (file.description, file.is_restricted, file.is_damage_image) == (None, False, False)


def test_timestamp_keeps_its_original_text() -> None:
    assert (
        parse(build({"root": {"timestamp": "2024-05-01t12:30Z"}})).timestamp == "2024-05-01t12:30Z"
    )


def test_file_faults_name_the_file_once_its_name_is_known() -> None:
    """§9: errorDescription names the file (its index and name)."""
    files = [file_entry(), {**file_entry(name="photo.jpg"), "content": "QUJD!A=="}]
    assert failure(encode(submission(files))).description == (
        "payload.files[1] ('photo.jpg').content: not valid base64 at character 4 "
        "('!' is not in the standard base64 alphabet)"
    )


def test_file_fault_before_the_name_uses_the_index_only() -> None:
    raw = b'{"payload": {"files": [{"content": "Q!==", "fileName": "photo.jpg"}]}}'
    assert failure(raw).description.startswith("payload.files[0].content: not valid base64")


def test_name_known_from_a_later_key_is_used_for_faults_found_at_close() -> None:
    raw = b'{"payload": {"files": [{"content": "QQ==", "fileName": "late.txt"}]}}'
    assert failure(raw).description == (
        "payload.files[0] ('late.txt').contentType: required field is missing"
    )


def test_tokenizer_faults_inside_a_file_name_the_file() -> None:
    raw = encode(submission([file_entry(name="p.png", extra={"deep": "x" * 70000})]))
    assert failure(raw).description == (
        "payload.files[0] ('p.png').extra.deep: the string is longer than maxStringChars "
        "65536 characters"
    )


# -- sha256 --------------------------------------------------------------------------------


def test_matching_sha256_is_accepted_in_any_letter_case() -> None:
    """§3.1: the partner's own digest is checked while streaming."""
    digest = hashlib.sha256(b"hello").hexdigest().upper()
    (file,) = parse(encode(submission([file_entry(b"hello", sha256=digest)]))).files
    assert file.sha256 == digest.lower()


def test_sha256_given_before_the_content_is_checked_too() -> None:
    digest = hashlib.sha256(b"hello").hexdigest()
    raw = (
        '{"securityToken": "' + TOKEN + '", "payload": {"id": "' + TARGET + '", '
        '"insuranceCompanyAlias": "c", "userEmail": "a@b.dk", "files": [{"sha256": "'
        + digest
        + '", "fileName": "a.txt", "contentType": "t", "content": "'
        + b64(b"hello")
        + '"}]}}'
    ).encode()
    assert parse(raw).files[0].sha256 == digest


def test_sha256_mismatch_is_refused_naming_the_file() -> None:
    wrong = hashlib.sha256(b"other").hexdigest()
    error = failure(encode(submission([file_entry(b"hello", name="x.pdf", sha256=wrong)])))
    assert error.description == (
        "payload.files[0] ('x.pdf').sha256: does not match the SHA-256 of the decoded content "
        f"({hashlib.sha256(b'hello').hexdigest()})"
    )


# -- strictness ----------------------------------------------------------------------------


def test_lone_surrogate_in_a_file_name_is_refused() -> None:
    """§9: lone surrogates anywhere → 400."""
    raw = encode(submission()).replace(b'"a.txt"', b'"a\\ud800.txt"')
    assert failure(raw).description.startswith(
        "payload.files[0].fileName: the string has a lone UTF-16"
    )


def test_lone_surrogate_in_content_is_refused() -> None:
    raw = encode(submission()).replace(b'"aGVsbG8="', b'"aGVs\\udc00bG8="')
    assert "lone UTF-16 surrogate" in failure(raw).description


def test_invalid_utf8_is_refused() -> None:
    raw = encode(submission()).replace(b'"company"', b'"comp\xe9ny"')
    assert failure(raw).description.startswith("malformed JSON at byte ")


def test_trailing_garbage_is_refused() -> None:
    raw = encode(submission()) + b" {}"
    assert failure(raw).description == (
        f"malformed JSON at byte {len(raw) - 2}: unexpected data after the end of the JSON object"
    )


def test_body_ending_early_is_refused() -> None:
    raw = encode(submission())
    assert failure(raw[:-1]).description == "body ended before the JSON was complete"


@pytest.mark.parametrize("raw", [b"", b" \r\n "])
def test_empty_body_is_refused(raw: bytes) -> None:
    assert failure(raw).description == "the request body is empty; a JSON object is required"


@pytest.mark.parametrize("raw", [b"[]", b"null", b'"x"', b"42"])
def test_root_must_be_an_object(raw: bytes) -> None:
    assert "must be a JSON object" in failure(raw).description


# -- order of faults -----------------------------------------------------------------------


def test_first_fault_met_wins() -> None:
    """§9: within step 2, faults are reported in the order they are met in the stream."""
    bad_email_first = b'{"payload": {"userEmail": "nope", "files": [{"fileName": "a/b"}]}}'
    assert failure(bad_email_first).description.startswith("payload.userEmail:")
    bad_file_first = b'{"payload": {"files": [{"fileName": "a/b"}], "userEmail": "nope"}}'
    assert failure(bad_file_first).description.startswith("payload.files[0].fileName:")


def test_a_field_fault_beats_a_missing_field_found_later() -> None:
    """A missing securityToken is only met when the root object closes."""
    raw = encode(submission(securityToken=None)).replace(b'"securityToken": null, ', b"")
    raw_bad_id = raw.replace(TARGET.encode(), b"nope")
    assert failure(raw_bad_id).description.startswith("payload.id: must be a GUID")
    assert failure(raw).description == "securityToken: required field is missing"


def test_malformed_json_after_a_rule_fault_is_not_reached() -> None:
    raw = encode(submission(securityToken="bad"))[:-1] + b"]"
    assert failure(raw).description.startswith("securityToken: must be a GUID")


# -- sinks and abort -----------------------------------------------------------------------


def test_abort_aborts_every_sink_after_an_error_mid_stream() -> None:
    """§3.4: a refused request leaves nothing: every opened sink is aborted."""
    factory = SinkFactory()
    parser = SubmissionParser(Limits(), factory)
    raw = encode(
        submission([file_entry(b"one"), file_entry(b"two"), {**file_entry(), "content": "Q!=="}])
    )
    with pytest.raises(InvalidRequest):
        parser.feed(raw)
    assert len(factory.sinks) == 3
    assert [sink.sealed for sink in factory.sinks] == [True, True, False]
    parser.abort()
    parser.abort()
    assert [sink.aborts for sink in factory.sinks] == [1, 1, 1]


def test_abort_after_finish_discards_sealed_blobs() -> None:
    """A later check (§3.2 step 3) refuses the submission: the caller aborts."""
    factory = SinkFactory()
    parser = SubmissionParser(Limits(), factory)
    parser.feed(encode(submission([file_entry(), file_entry()])))
    parser.finish()
    parser.abort()
    assert [sink.aborts for sink in factory.sinks] == [1, 1]


def test_abort_before_any_sink_is_harmless() -> None:
    parser = SubmissionParser(Limits(), SinkFactory())
    parser.abort()
    parser.abort()


def test_abort_tries_every_sink_even_if_one_fails() -> None:
    class Failing(MemorySink):
        def abort(self) -> None:
            super().abort()
            raise OSError("disk gone")

    sinks: list[MemorySink] = []

    def open_sink() -> MemorySink:
        sinks.append(Failing() if not sinks else MemorySink())
        return sinks[-1]

    parser = SubmissionParser(Limits(), open_sink)
    parser.feed(encode(submission([file_entry(), file_entry()])))
    with pytest.raises(OSError, match="disk gone"):
        parser.abort()
    assert [sink.aborts for sink in sinks] == [1, 1]


def test_parser_refuses_use_after_a_failure() -> None:
    parser = SubmissionParser(Limits(), SinkFactory())
    with pytest.raises(InvalidRequest):
        parser.feed(b"[")
    with pytest.raises(RuntimeError):
        parser.feed(b"{}")
    parser.abort()


def test_sink_opened_only_when_content_starts_and_sealed_when_it_ends() -> None:
    factory = SinkFactory()
    parser = SubmissionParser(Limits(), factory)
    raw = encode(submission([file_entry(b"abc")]))
    start = raw.index(b'"content": "') + len(b'"content": "')
    parser.feed(raw[: start - 1])
    assert factory.sinks == []
    parser.feed(raw[start - 1 : start + 2])
    assert len(factory.sinks) == 1
    assert not factory.sinks[0].sealed
    end = raw.index(b'"', start)
    parser.feed(raw[start + 2 : end + 1])
    assert factory.sinks[0].sealed
    parser.feed(raw[end + 1 :])
    assert parser.finish().files[0].blob is factory.sinks[0]


def test_errors_are_ecb_errors_with_status() -> None:
    error = failure(b"{")
    assert isinstance(error, EcbError)
    assert (error.status, error.error_type) == (400, "InvalidRequest")
