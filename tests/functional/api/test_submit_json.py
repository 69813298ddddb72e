"""The body as JSON: its media type, shape, size and nesting (§3.1, §3.2 steps 1–2, §9)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.functional.api.bodies import splice, valid_case_body
from tests.functional.api.raw_http import SUBMIT_PATH, exchange, request_head
from tests.functional.conftest import Api, assert_error, file_entry, submission
from tests.functional.server import ServerProcess
from tests.functional.world import World


def post_with_content_type(api: Api, world: World, content_type: str | None) -> httpx.Response:
    """A valid body, sent with exactly this Content-Type header (or none at all)."""
    headers = {"Authorization": f"Bearer {api.token}"}
    if content_type is not None:
        headers["Content-Type"] = content_type
    return httpx.post(
        api.server.url + SUBMIT_PATH.format(endpoint="submitForCase"),
        content=json.dumps(valid_case_body(world)).encode(),
        headers=headers,
    )


def nested(depth: int, kind: str) -> str:
    """JSON ``depth`` levels deep: arrays, or objects with one member each."""
    if kind == "array":
        return "[" * depth + "]" * depth
    return '{"n":' * (depth - 1) + "{}" + "}" * (depth - 1)


# --- request Content-Type (step 1) ---------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json; charset=utf-8",
        "application/json;charset=UTF-8",
        "Application/JSON",
        'application/json; charset="utf-8"',
    ],
)
def test_json_content_type_with_utf8_charset_is_accepted(
    api: Api, world: World, content_type: str
) -> None:
    """§3.1: application/json, a charset=utf-8 parameter allowed; §9 MIME types case-insensitive."""
    response = post_with_content_type(api, world, content_type)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    "content_type",
    [
        None,
        "text/plain",
        "application/json; charset=latin-1",
        "application/x-www-form-urlencoded",
        "multipart/mixed; boundary=x",  # §10.1 takes multipart/form-data only
        "application/jsonx",
        "",
    ],
    ids=["missing", "text-plain", "latin-1", "form", "multipart-mixed", "jsonx", "empty"],
)
def test_other_content_types_are_415(api: Api, world: World, content_type: str | None) -> None:
    """§3.1: any other request Content-Type → 415 GenericError."""
    response = post_with_content_type(api, world, content_type)
    assert_error(response, 415, "GenericError", "Content-Type")


# --- malformed JSON (step 2) ---------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"{",
        b'{"securityToken": }',
        b"[]",
        b'"text"',
        b"null",
        b"{} {}",
        b"{}x",
        b'{"securityToken": "a",}',
        b"{'securityToken': 'a'}",
        b'{"n": NaN}',
        b'{"n": 01}',
        b'{"n": "\xff"}',
        b'{"n": "\xed\xa0\x80"}',
        b'{"n": "a\tb"}',
    ],
    ids=[
        "empty",
        "unclosed",
        "missing-value",
        "array-root",
        "string-root",
        "null-root",
        "two-roots",
        "trailing-garbage",
        "trailing-comma",
        "single-quotes",
        "NaN",
        "leading-zero",
        "invalid-utf8",
        "utf8-encoded-surrogate",
        "raw-control-char",
    ],
)
def test_malformed_json_is_400(api: Api, raw: bytes) -> None:
    """§3.2 step 2: malformed JSON (RFC 8259, UTF-8) → 400 InvalidRequest."""
    assert_error(api.case(raw), 400, "InvalidRequest")


def test_trailing_whitespace_after_the_body_is_fine(api: Api, world: World) -> None:
    """§3.1: insignificant whitespace around the root object is JSON."""
    response = api.case(b" \r\n" + json.dumps(valid_case_body(world)).encode() + b"\n\t ")
    assert response.status_code == 200, response.text


# --- key order -----------------------------------------------------------------------


def test_keys_are_accepted_in_any_order(api: Api, world: World) -> None:
    """§3.1: members in any order at every level (the seed puts files before id)."""
    entry = {
        "content": "aGVsbG8=",
        "description": "d",
        "contentType": "text/plain",
        "fileName": "z.txt",
    }
    body = {
        "payload": {
            "files": [entry],
            "userEmail": world.email,
            "id": world.open_case,
            "insuranceCompanyAlias": "company",
        },
        "timestamp": "2024-05-01",
        "securityToken": world.security_token,
    }
    response = api.case(body)
    assert response.status_code == 200, response.text
    assert response.json()["payload"]["files"][0]["fileName"] == "z.txt"


# --- duplicate keys ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("duplicated", "where"),
    [
        ('"securityToken": "{token}", "securityToken": "{token}"', "securityToken"),
        ('"securityToken": "{token}", "extra": {{"a": 1, "a": 1}}', "extra"),
    ],
    ids=["root", "unknown-object"],
)
def test_duplicate_keys_at_the_root_are_400(
    api: Api, world: World, duplicated: str, where: str
) -> None:
    """§3.1: duplicate keys in one object (any object, known or not) → 400 InvalidRequest."""
    body = valid_case_body(world)
    del body["securityToken"]
    text = json.dumps(body)
    raw = "{" + duplicated.format(token=world.security_token) + ", " + text[1:]
    assert_error(api.case(raw.encode()), 400, "InvalidRequest", where)


def test_duplicate_key_in_payload_is_400(api: Api, world: World) -> None:
    """§3.1: duplicate keys in payload → 400 naming the key."""
    body = valid_case_body(world)
    body["payload"]["id"] = "__RAW__"
    raw = f'"{world.open_case}", "id": "{world.open_case}"'
    assert_error(api.case(splice(body, raw)), 400, "InvalidRequest", "id")


def test_duplicate_key_in_a_file_entry_is_400(api: Api, world: World) -> None:
    """§3.1: duplicate keys in a file entry (two fileNames) → 400 naming the key."""
    body = valid_case_body(world, fileName="__RAW__")
    assert_error(
        api.case(splice(body, '"a.jpg", "fileName": "b.jpg"')), 400, "InvalidRequest", "fileName"
    )


# --- nesting depth -------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["array", "object"])
def test_depth_32_is_accepted(api: Api, world: World, kind: str) -> None:
    """§3.1/§9: nesting to 32 levels, the root object counting as 1, is fine."""
    body = splice(valid_case_body(world) | {"extra": "__RAW__"}, nested(31, kind))
    response = api.case(body)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("kind", ["array", "object"])
def test_depth_33_is_400_naming_the_limit(api: Api, world: World, kind: str) -> None:
    """§3.1/§9: deeper than 32 levels → 400 InvalidRequest naming the limit."""
    body = splice(valid_case_body(world) | {"extra": "__RAW__"}, nested(32, kind))
    assert_error(api.case(body), 400, "InvalidRequest", "32")


def test_depth_33_inside_a_file_entry_is_400(api: Api, world: World) -> None:
    """§3.1: the depth bound holds at every level (root, payload, files, entry = 4)."""
    body = splice(valid_case_body(world, extra="__RAW__"), nested(29, "array"))
    assert_error(api.case(body), 400, "InvalidRequest", "32")


# --- string length cap ---------------------------------------------------------------


@pytest.mark.parametrize("char", ["x", "ø", "😀"], ids=["ascii", "two-byte", "astral"])
def test_unknown_string_of_65536_characters_is_accepted(api: Api, world: World, char: str) -> None:
    """§3.1/§9: a string of 64 KiB characters (code points) is fine, in an unknown field too."""
    response = api.case(valid_case_body(world) | {"note": char * 65536})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("char", ["x", "😀"], ids=["ascii", "astral"])
def test_unknown_string_of_65537_characters_is_400_naming_the_limit(
    api: Api, world: World, char: str
) -> None:
    """§3.1/§9: a string other than content longer than 64 KiB → 400; the cap covers
    unknown fields."""
    response = api.case(valid_case_body(world) | {"note": char * 65537})
    assert_error(response, 400, "InvalidRequest", "65536")


def test_long_string_deep_in_an_unknown_object_is_400(api: Api, world: World) -> None:
    """§9: the 64 KiB cap applies to unknown fields at any depth."""
    body = valid_case_body(world, meta={"tags": ["a", "y" * 65537]})
    assert_error(api.case(body), 400, "InvalidRequest", "65536")


def test_known_field_of_65536_characters_passes_step_2(api: Api, world: World) -> None:
    """§3.1: a 64 KiB insuranceCompanyAlias is within the cap — refused only at lookup."""
    body = submission(world, world.open_case, [file_entry()], insuranceCompanyAlias="c" * 65536)
    assert_error(api.case(body), 404, "ClaimNotFound")


def test_known_field_of_65537_characters_is_400(api: Api, world: World) -> None:
    """§3.1: a 64 KiB + 1 insuranceCompanyAlias is refused in step 2, naming the field."""
    body = submission(world, world.open_case, [file_entry()], insuranceCompanyAlias="c" * 65537)
    assert_error(api.case(body), 400, "InvalidRequest", "payload.insuranceCompanyAlias", "65536")


# --- lone surrogates -----------------------------------------------------------------


@pytest.mark.parametrize("escape", ["\\ud800", "\\udc00", "\\udc00\\ud800", "\\ud800x"])
def test_lone_surrogate_in_an_unknown_field_is_400(api: Api, world: World, escape: str) -> None:
    """§9: lone surrogates anywhere → 400 InvalidRequest."""
    body = splice(valid_case_body(world) | {"note": "__RAW__"}, f'"a{escape}b"')
    assert_error(api.case(body), 400, "InvalidRequest")


def test_lone_surrogate_in_a_file_name_is_400(api: Api, world: World) -> None:
    """§9: lone surrogates anywhere → 400, also in a fileName."""
    body = splice(valid_case_body(world, fileName="__RAW__"), '"photo\\ud800.jpg"')
    assert_error(api.case(body), 400, "InvalidRequest", "payload.files[0]")


def test_lone_surrogate_in_a_key_is_400(api: Api, world: World) -> None:
    """§9: lone surrogates anywhere → 400, also in a member name."""
    body = splice(valid_case_body(world) | {"__RAW__": 1}, '"k\\udfff"')
    assert_error(api.case(body), 400, "InvalidRequest")


# --- request size (steps 1 and 2) ----------------------------------------------------


def padded_body(world: World, size: int) -> bytes:
    """A valid body of exactly ``size`` bytes, padded in an unknown field."""
    body = valid_case_body(world) | {"pad": ""}
    bare = len(json.dumps(body).encode())
    assert size >= bare
    return json.dumps(valid_case_body(world) | {"pad": "p" * (size - bare)}).encode()


def in_chunks(data: bytes, size: int = 4096) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_body_of_exactly_max_request_bytes_is_accepted(small_api: Api, world: World) -> None:
    """§3.1: a body of max_request_bytes (20,000 on the small server) is fine."""
    response = small_api.case(padded_body(world, 20000))
    assert response.status_code == 200, response.text


def test_streamed_body_over_max_request_bytes_is_413_naming_the_limit(
    small_api: Api, world: World
) -> None:
    """§3.1: a body over max_request_bytes (chunked, no Content-Length) → 413 GenericError."""
    body = padded_body(world, 20001)
    response = httpx.post(
        small_api.server.url + SUBMIT_PATH.format(endpoint="submitForCase"),
        content=in_chunks(body),
        headers={"Authorization": f"Bearer {small_api.token}", "Content-Type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    assert_error(response, 413, "GenericError", "maxRequestBytes", "20000")


@pytest.mark.parametrize("use_small", [True, False], ids=["small", "default"])
def test_content_length_over_max_request_bytes_is_413_before_the_body(
    request: pytest.FixtureRequest, use_small: bool
) -> None:
    """§3.2 step 1: Content-Length over max_request_bytes → 413 naming the limit, before
    any of the body is sent."""
    server: ServerProcess = request.getfixturevalue("small_server" if use_small else "server")
    token: str = request.getfixturevalue("small_token" if use_small else "token")
    limit = 20000 if use_small else 1073741824
    head = request_head(
        server,
        {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Content-Length": str(limit + 1),
        },
    )
    answer = exchange(server, head, timeout=10)
    assert_error(answer.response, 413, "GenericError", "maxRequestBytes", str(limit))
