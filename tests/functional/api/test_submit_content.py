"""A file's base64 content and its size bounds (§3.1 files[i].content, §3.2 step 2)."""

from __future__ import annotations

import base64
import hashlib
import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.functional.api.bodies import edit, splice, valid_case_body
from tests.functional.api.raw_http import exchange, request_head
from tests.functional.conftest import Api, assert_error, b64, file_entry, submission
from tests.functional.server import ServerProcess
from tests.functional.world import World

# Every byte value, so the base64 holds '+' and '/' and ends in padding.
ALL_BYTES = bytes(range(256)) * 3 + b"\x00"
# A name whose type is not sniffed (§12.1), for contents that are no format at all.
TEXT = {"fileName": "notes.txt", "contentType": "text/plain"}


def stored_bytes(server: ServerProcess, file_id: str, tmp_path: Path) -> bytes:
    out = tmp_path / f"{file_id}.bin"
    server.cli("files", "get", file_id, "-o", str(out))
    return out.read_bytes()


def only_file(response: Any) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    files = response.json()["payload"]["files"]
    assert len(files) == 1
    return dict(files[0])


def test_missing_content_is_400(api: Api, world: World) -> None:
    """§3.1 content: required."""
    body = edit(valid_case_body(world), "payload.files.0.content", delete=True)
    assert_error(api.case(body), 400, "InvalidRequest", "payload.files[0]", ".content")


def test_empty_content_is_400(api: Api, world: World) -> None:
    """§3.1 content: decodes to 1 byte at least — "" (0 bytes) is refused."""
    body = valid_case_body(world, content="")
    assert_error(api.case(body), 400, "InvalidRequest", "payload.files[0]", ".content")


def test_whitespace_only_content_is_400(api: Api, world: World) -> None:
    """§3.1 content: whitespace is ignored, so "  \\r\\n " is 0 bytes and refused."""
    body = valid_case_body(world, content="  \r\n ")
    assert_error(api.case(body), 400, "InvalidRequest", "payload.files[0]", ".content")


@pytest.mark.parametrize(
    "content",
    ["not*base64", "aGVsbG8", "aGVsbA=", "aGVsbG8==", "a", "-_8=", "aGVs_G8=", "aGVsbG8=\u00e9"],
    ids=[
        "bad-char",
        "no-padding",
        "short-padding",
        "extra-padding",
        "one-char",
        "url-safe",
        "url-safe-underscore",
        "non-ascii",
    ],
)
def test_content_that_is_not_standard_padded_base64_is_400(
    api: Api, world: World, content: str
) -> None:
    """§3.1 content: standard base64 (RFC 4648 §4) with padding; URL-safe alphabet refused."""
    body = valid_case_body(world, content=content)
    assert_error(api.case(body), 400, "InvalidRequest", "payload.files[0]", ".content")


def test_non_string_content_is_400(api: Api, world: World) -> None:
    """§3.1 content: a base64 string."""
    body = valid_case_body(world, content=[1, 2, 3])
    assert_error(api.case(body), 400, "InvalidRequest", "payload.files[0]", ".content")


def test_bad_base64_names_the_file_it_is_in(api: Api, world: World) -> None:
    """§9: the fault names its file by index."""
    files = [file_entry("a.jpg"), file_entry("b.jpg"), {**file_entry("c.jpg"), "content": "%%%%"}]
    response = api.case(submission(world, world.open_case, files))
    assert_error(response, 400, "InvalidRequest", "payload.files[2]")


def test_mime_style_line_breaks_are_ignored_and_bytes_are_exact(
    api: Api, world: World, server: ServerProcess, tmp_path: Path
) -> None:
    """§3.1 content: CR LF line breaks (sent as JSON escapes \\r\\n) are ignored."""
    wrapped = "\r\n".join(textwrap.wrap(b64(ALL_BYTES), 76)) + "\r\n"
    body = valid_case_body(
        world, fileName="wrapped.dat", contentType="application/octet-stream", content=wrapped
    )
    assert "\\r\\n" in json.dumps(body)
    entry = only_file(api.case(body))
    assert entry["size"] == len(ALL_BYTES)
    assert stored_bytes(server, entry["id"], tmp_path) == ALL_BYTES


def test_escaped_solidus_is_a_slash_and_bytes_are_exact(
    api: Api, world: World, server: ServerProcess, tmp_path: Path
) -> None:
    """§3.1 content: the JSON escape \\/ is '/', as .NET and PHP serialisers write it."""
    encoded = b64(ALL_BYTES)
    assert "/" in encoded
    body = valid_case_body(
        world, fileName="solidus.dat", contentType="application/octet-stream", content="__RAW__"
    )
    entry = only_file(api.case(splice(body, '"' + encoded.replace("/", "\\/") + '"')))
    assert entry["sha256"] == hashlib.sha256(ALL_BYTES).hexdigest()
    assert stored_bytes(server, entry["id"], tmp_path) == ALL_BYTES


def test_spaces_tabs_and_escaped_characters_are_ignored(api: Api, world: World) -> None:
    """§3.1 content: whitespace anywhere in the base64 is ignored, also as \\uXXXX escapes."""
    data = b"whitespace everywhere!"
    encoded = b64(data)
    raw = (
        '" '
        + encoded[:4]
        + "\\t"
        + encoded[4:9]
        + " \\n"
        + encoded[9:14]
        + "\\u0020"
        + encoded[14:]
        + ' "'
    )
    body = splice(valid_case_body(world, content="__RAW__", **TEXT), raw)
    entry = only_file(api.case(body))
    assert entry["size"] == len(data)
    assert entry["sha256"] == hashlib.sha256(data).hexdigest()


def test_escaped_base64_letters_decode_like_the_letters(api: Api, world: World) -> None:
    """§3.1 content: any JSON escape inside the string is its character (\\u0061 is 'a')."""
    data = b"hello"
    raw = '"\\u0061GVsbG8="'  # "aGVsbG8=" with its first letter escaped
    body = splice(valid_case_body(world, content="__RAW__", **TEXT), raw)
    entry = only_file(api.case(body))
    assert entry["sha256"] == hashlib.sha256(data).hexdigest()


def test_content_is_exempt_from_the_string_length_cap(api: Api, world: World) -> None:
    """§3.1: the 64 KiB string cap is for strings other than content."""
    data = bytes(range(256)) * 240  # 61,440 bytes → 81,920 base64 characters
    body = valid_case_body(
        world, fileName="big.dat", contentType="application/octet-stream", content=b64(data)
    )
    assert len(body["payload"]["files"][0]["content"]) > 65536
    entry = only_file(api.case(body))
    assert entry["size"] == len(data)


@pytest.mark.parametrize("wrap", [False, True], ids=["plain", "line-wrapped"])
def test_file_of_exactly_max_file_bytes_is_accepted(
    small_api: Api, world: World, wrap: bool
) -> None:
    """§3.1 content: at most max_file_bytes (1000 on the small server), decoded size counts."""
    data = bytes(range(250)) * 4
    encoded = b64(data)
    content = "\r\n".join(textwrap.wrap(encoded, 76)) if wrap else encoded
    entry = only_file(small_api.case(valid_case_body(world, content=content, **TEXT)))
    assert entry["size"] == 1000


def test_file_one_byte_over_max_file_bytes_is_413_naming_the_limit(
    small_api: Api, world: World
) -> None:
    """§3.2 step 2: decoded size over max_file_bytes → 413 GenericError naming limit and value."""
    body = valid_case_body(world, content=b64(b"x" * 1001))
    response = small_api.case(body)
    assert_error(response, 413, "GenericError", "maxFileBytes", "1000", "payload.files[0]")


def test_oversized_file_is_refused_without_waiting_for_the_rest_of_the_body(
    small_server: ServerProcess, small_token: str, world: World
) -> None:
    """§3.2 step 2: a file over max_file_bytes → 413 at once; the rest is not read.

    The client sends the oversized file, then stops: the 413 must come, not the 408 of
    the 2 s idle timeout.
    """
    oversized = base64.b64encode(b"y" * 1400).decode()
    body = json.dumps(
        submission(
            world, world.open_case, [file_entry(), {**file_entry("big.jpg"), "content": oversized}]
        )
    ).encode()
    sent = body[: body.index(oversized.encode()) + len(oversized) + 1]
    head = request_head(
        small_server,
        {
            "Authorization": f"Bearer {small_token}",
            "Content-Type": "application/json",
            "Content-Length": str(len(body)),
        },
    )
    answer = exchange(small_server, head + sent, timeout=10)
    assert_error(answer.response, 413, "GenericError", "maxFileBytes", "1000", "payload.files[1]")
