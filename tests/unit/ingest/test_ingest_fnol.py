"""The FNoL request body (§10.2), parsed as it streams."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable
from typing import Any

import pytest
from ingest_support import SinkFactory, one_byte_at_a_time, split_in_two

from ecb_files.config import Limits
from ecb_files.errors import EcbError, InvalidRequest, PayloadTooLarge
from ecb_files.ingest.fnol import FnolParser, ParsedFnol

BOUNDARY = "fnol-Boundary-42"
TOKEN = "9e8d7c6b-0000-4000-8000-000000000001"
PHOTO = bytes(range(256)) * 3
DAMAGE = '{ "incidentDate":"2026-11-28",\n  "description" : "vand i k\\u00f8kkenet", "n": 1.50 }'


def fnol_document(**changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "securityToken": TOKEN,
        "insuranceCompanyAlias": "company",
        "userEmail": "company_ds@example.com",
        "damageNotification": {"incidentDate": "2026-11-28", "description": "water"},
        "attachments": [{"part": "photo1", "description": "kitchen", "isDamageImage": True}],
    }
    document.update(changes)
    return {key: value for key, value in document.items() if value is not ...}


def part(headers: list[str], data: bytes) -> bytes:
    head = f"--{BOUNDARY}\r\n" + "".join(f"{h}\r\n" for h in headers) + "\r\n"
    return head.encode() + data + b"\r\n"


def fnol_part(document: dict[str, Any] | bytes, *, kind: str = "") -> bytes:
    raw = document if isinstance(document, bytes) else json.dumps(document).encode()
    content_type = kind or "application/vnd.casecreation+json"
    return part(
        ['Content-Disposition: form-data; name="fnol"', f"Content-Type: {content_type}"], raw
    )


def attachment(name: str | None, data: bytes, filename: str | None = "a.jpg", **kw: str) -> bytes:
    disposition = kw.get("disposition", "form-data")
    if name is not None:
        disposition += f'; name="{name}"'
    if filename is not None:
        disposition += f'; filename="{filename}"'
    headers = [f"Content-Disposition: {disposition}"]
    if "content_type" in kw:
        headers.append(f"Content-Type: {kw['content_type']}")
    if "encoding" in kw:
        headers.append(f"Content-Transfer-Encoding: {kw['encoding']}")
    return part(headers, data)


def body(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def photo(name: str = "photo1") -> bytes:
    return attachment(name, PHOTO, "kitchen.jpg", content_type="image/jpeg")


def run(chunks: Iterable[bytes], limits: Limits | None = None) -> ParsedFnol[Any]:
    parser = FnolParser(BOUNDARY, limits or Limits(), SinkFactory())
    for chunk in chunks:
        parser.feed(chunk)
    return parser.finish()


def failure(raw: bytes, limits: Limits | None = None) -> EcbError:
    factory = SinkFactory()
    parser = FnolParser(BOUNDARY, limits or Limits(), factory)
    try:
        parser.feed(raw)
        parser.finish()
    except EcbError as exc:
        parser.abort()
        assert all(sink.aborts == 1 for sink in factory.sinks)
        return exc
    raise AssertionError("the body was accepted")


def outcome(result: ParsedFnol[Any]) -> object:
    return (
        result.security_token,
        result.damage_notification_json,
        [
            (
                f.index,
                f.file_name,
                f.content_type,
                f.description,
                f.is_damage_image,
                f.size,
                f.sha256,
                bytes(f.blob.data),
                f.blob.sealed,
            )
            for f in result.attachments
        ],
    )


@pytest.mark.parametrize("position", ["first", "middle", "last"])
def test_the_fnol_part_may_be_anywhere(position: str) -> None:
    """§10.2: the FNoL part in any position; every other part is an attachment."""
    parts = [photo(), attachment("note", b"hello", "n.txt", content_type="text/plain")]
    parts.insert({"first": 0, "middle": 1, "last": 2}[position], fnol_part(fnol_document()))
    result = run([body(*parts)])
    assert [(f.file_name, f.description, f.is_damage_image) for f in result.attachments] == [
        ("kitchen.jpg", "kitchen", True),
        ("n.txt", None, False),
    ]
    assert result.attachments[0].sha256 == hashlib.sha256(PHOTO).hexdigest()
    assert result.user_email == "company_ds@example.com"
    assert result.insurance_company_alias == "company"


def test_no_attachment_is_a_valid_fnol() -> None:
    """§10.2: 0 attachments is a valid FNoL."""
    result = run([body(fnol_part(fnol_document(attachments=...)))])
    assert result.attachments == ()


def test_the_damage_notification_is_kept_exactly_as_sent() -> None:
    """§10.2: the payload is kept as sent: spacing, escapes and number forms included."""
    raw = (
        '{"securityToken":"' + TOKEN + '","insuranceCompanyAlias":"company",'
        '"userEmail":"company_ds@example.com","damageNotification":' + DAMAGE + "}"
    ).encode()
    result = run([body(fnol_part(raw))])
    assert result.damage_notification_json == DAMAGE
    assert result.damage_notification == json.loads(DAMAGE)


def test_every_split_of_the_body_parses_alike() -> None:
    """Streaming: a body split at every point, or fed a byte at a time, parses the same."""
    raw = body(photo(), fnol_part(fnol_document()))
    expected = outcome(run([raw]))
    for chunks in split_in_two(raw):
        assert outcome(run(chunks)) == expected
    assert outcome(run(one_byte_at_a_time(raw))) == expected


def test_charset_utf8_is_allowed_on_the_fnol_part() -> None:
    kind = "application/vnd.casecreation+json; charset=UTF-8"
    assert run([body(fnol_part(fnol_document(attachments=...), kind=kind))]).attachments == ()


def test_another_charset_is_refused() -> None:
    kind = "application/vnd.casecreation+json; charset=iso-8859-1"
    error = failure(body(fnol_part(fnol_document(), kind=kind)))
    assert isinstance(error, InvalidRequest)
    assert "charset 'iso-8859-1'" in error.description


def test_an_attachment_defaults_to_octet_stream() -> None:
    """§10.2: an attachment without Content-Type is application/octet-stream."""
    result = run([body(fnol_part(fnol_document()), attachment("photo1", b"x", "a.jpg"))])
    assert result.attachments[0].content_type == "application/octet-stream"


def test_filename_star_names_the_attachment() -> None:
    """§10.2, §3.1: the file name comes from filename* (RFC 5987) before filename."""
    head = (
        'Content-Disposition: attachment; name="photo1"; filename="x.jpg"; '
        "filename*=UTF-8''k%C3%B8kken.jpg"
    )
    result = run([body(fnol_part(fnol_document()), part([head], b"x"))])
    assert result.attachments[0].file_name == "køkken.jpg"


def test_a_base64_attachment_is_decoded() -> None:
    encoded = base64.b64encode(PHOTO)
    raw = body(fnol_part(fnol_document()), attachment("photo1", encoded, encoding="base64"))
    assert bytes(run([raw]).attachments[0].blob.data) == PHOTO


def test_no_fnol_part_is_refused() -> None:
    """§10.2: no application/vnd.casecreation+json part → 400."""
    error = failure(body(photo()))
    assert isinstance(error, InvalidRequest)
    assert error.description == (
        "multipart body: no part of type application/vnd.casecreation+json (the FNoL)"
    )


def test_a_second_fnol_part_is_refused() -> None:
    """§10.2: two FNoL parts → 400, naming the second."""
    error = failure(body(fnol_part(fnol_document()), photo(), fnol_part(fnol_document())))
    assert isinstance(error, InvalidRequest)
    assert error.description.startswith(
        "part 2 ('fnol'): a second part of type application/vnd.casecreation+json"
    )


def test_an_attachment_without_a_filename_is_refused() -> None:
    """§10.2: an attachment's fileName is required."""
    error = failure(body(fnol_part(fnol_document()), attachment("photo1", b"x", None)))
    assert isinstance(error, InvalidRequest)
    assert error.description.startswith("part 1 ('photo1'): an attachment needs a file name")


@pytest.mark.parametrize("filename", ["../a.jpg", "a\tb.jpg", ".."])
def test_an_attachment_filename_follows_the_file_name_rules(filename: str) -> None:
    """§10.2, §3.1: the fileName rules apply to the filename parameter."""
    error = failure(body(fnol_part(fnol_document()), attachment("photo1", b"x", filename)))
    assert isinstance(error, InvalidRequest)
    assert error.description.startswith("part 1 ('photo1'): filename: ")


def test_an_entry_naming_no_part_is_refused() -> None:
    """§10.2: an attachments entry naming no part → 400."""
    error = failure(body(fnol_part(fnol_document()), photo("photo2")))
    assert isinstance(error, InvalidRequest)
    assert error.description == (
        "attachments[0].part: names no attachment part of the request ('photo1')"
    )


def test_two_attachments_with_one_name_are_refused() -> None:
    error = failure(body(fnol_part(fnol_document()), photo(), photo()))
    assert isinstance(error, InvalidRequest)
    assert error.description.startswith("part 2 ('photo1'): a second part named 'photo1'")


def test_an_empty_attachment_is_refused() -> None:
    error = failure(body(fnol_part(fnol_document()), attachment("photo1", b"")))
    assert isinstance(error, InvalidRequest)
    assert error.description == (
        "part 1 ('photo1') ('a.jpg'): is empty; at least 1 byte is required"
    )


def test_an_attachment_over_max_file_bytes_is_413() -> None:
    error = failure(body(fnol_part(fnol_document()), photo()), Limits(max_file_bytes=100))
    assert isinstance(error, PayloadTooLarge)
    assert "maxFileBytes 100" in error.description


def test_an_fnol_part_over_its_bound_is_413_naming_it() -> None:
    """The FNoL part is read whole, so it has a named bound: maxFnolBytes."""
    error = failure(body(fnol_part(fnol_document())), Limits(max_fnol_bytes=64))
    assert isinstance(error, PayloadTooLarge)
    assert error.description == (
        "part 0 ('fnol'): the FNoL part is larger than maxFnolBytes 64 bytes"
    )


def test_more_attachments_than_max_files_per_request_are_refused() -> None:
    parts = [fnol_part(fnol_document(attachments=...))]
    parts += [attachment(f"p{i}", b"x") for i in range(3)]
    error = failure(body(*parts), Limits(max_files_per_request=2))
    assert isinstance(error, InvalidRequest)
    assert "more than maxFilesPerRequest 2 attachments" in error.description


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"securityToken": ...}, "securityToken: required field is missing"),
        ({"securityToken": "x"}, "securityToken: must be a GUID"),
        ({"securityToken": 7}, "securityToken: must be a string, not a number"),
        ({"insuranceCompanyAlias": ""}, "insuranceCompanyAlias: must not be empty"),
        ({"userEmail": "nobody"}, "userEmail: is not a valid e-mail address"),
        ({"damageNotification": ...}, "damageNotification: required field is missing"),
        ({"attachments": {}}, "attachments: must be an array, not an object"),
        ({"attachments": [{}]}, "attachments[0].part: required field is missing"),
        (
            {"attachments": [{"part": "photo1", "isDamageImage": "yes"}]},
            "attachments[0].isDamageImage: must be a boolean (true or false), not a string",
        ),
        (
            {"attachments": [{"part": "photo1", "description": "d" * 4001}]},
            "attachments[0].description: is longer than maxDescriptionChars 4000 characters",
        ),
        (
            {"attachments": [{"part": "photo1"}, {"part": "photo1"}]},
            "attachments[1].part: part 'photo1' is already described by attachments[0]",
        ),
    ],
)
def test_a_field_rule_broken_is_400_naming_the_field(changes: dict[str, Any], message: str) -> None:
    """§10.2 step 2: the §3.1 rules of the FNoL's fields, named by their path."""
    error = failure(body(fnol_part(fnol_document(**changes)), photo()))
    assert isinstance(error, InvalidRequest)
    assert error.description.startswith(message)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"a": 1, "a": 2}', "part 0 ('fnol'): a: duplicate key in one object"),
        (b"{", "part 0 ('fnol'): body ended before the JSON was complete"),
        (b"[]", "part 0 ('fnol'): malformed JSON at byte 0"),
        (b'{"x": "\\ud800"}', "part 0 ('fnol'): x: the string has a lone UTF-16 surrogate"),
    ],
)
def test_the_json_rules_hold_in_the_fnol_part(raw: bytes, message: str) -> None:
    """§3.1's JSON rules apply to the FNoL part, naming it."""
    error = failure(body(fnol_part(raw)))
    assert isinstance(error, InvalidRequest)
    assert error.description.startswith(message)


def test_a_fault_is_met_before_the_rest_of_the_body() -> None:
    """§9: faults are reported in the order they are met in the stream."""
    raw = body(attachment("photo1", b"x", None), fnol_part(b"{"))
    assert failure(raw).description.startswith("part 0 ('photo1'): an attachment needs")


def test_abort_discards_every_attachment_also_after_finish() -> None:
    factory = SinkFactory()
    parser = FnolParser(BOUNDARY, Limits(), factory)
    parser.feed(body(fnol_part(fnol_document()), photo()))
    parser.finish()
    parser.abort()
    parser.abort()
    assert [sink.aborts for sink in factory.sinks] == [1]
