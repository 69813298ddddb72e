"""Which error answers a body with two faults (§3.2 "the first failure is the
answer", §9: step 1 token → Content-Type → Content-Length; step 2 in stream order; any
§3.1 fault beats every step-3 check; step 3 in the order 3.1 → 3.5)."""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import httpx
import pytest

from tests.functional.api.bodies import splice
from tests.functional.api.raw_http import SUBMIT_PATH, exchange, request_head
from tests.functional.conftest import Api, assert_error, b64, file_entry, secret_token, submission
from tests.functional.server import ServerProcess
from tests.functional.world import World

EXE = {"fileName": "tool.exe", "contentType": "application/octet-stream", "content": "aGk="}
UNKNOWN_USER = {"userEmail": "nobody@example.com"}


def body(world: World, target: str, files: list[dict[str, Any]], **payload: Any) -> dict[str, Any]:
    return submission(world, target, files, **payload)


def other_token(world: World) -> dict[str, str]:
    return {"securityToken": world.other_security_token}


# --- a §3.1 fault beats every step-3 fault -------------------------------------------


def step_3_faulty_bodies(world: World) -> dict[str, tuple[str, dict[str, Any]]]:
    """Bodies with one step-3 fault and one §3.1 fault met late in the stream, by id:
    endpoint, body. The §3.1 fault is always in the last file."""
    return {
        "bad-token+slash-in-name": (
            "case",
            body(world, world.open_case, [file_entry("a/b.jpg")], **other_token(world)),
        ),
        "unknown-user+bad-base64": (
            "case",
            body(world, world.open_case, [file_entry(content="not*base64")], **UNKNOWN_USER),
        ),
        "unknown-case+long-description": (
            "case",
            body(world, str(uuid.uuid4()), [file_entry(description="d" * 4001)]),
        ),
        "closed-case+empty-content": (
            "case",
            body(world, world.closed_case, [file_entry(content="")]),
        ),
        "exe+empty-file-name": ("case", body(world, world.open_case, [EXE, file_entry("")])),
        "exe+sha256-mismatch": (
            "case",
            body(world, world.open_case, [EXE, file_entry(sha256="0" * 64)]),
        ),
        "merged-dn+control-char": ("dn", body(world, world.merged_dn, [file_entry("a\x01.jpg")])),
        "unknown-dn+not-boolean": (
            "dn",
            body(world, str(uuid.uuid4()), [file_entry(isDamageImage="yes")]),
        ),
        "every-step-3-fault+bad-padding": (
            "case",
            body(
                world,
                world.closed_case,
                [EXE, file_entry(content="aGk")],
                **other_token(world),
                **UNKNOWN_USER,
            ),
        ),
    }


@pytest.mark.parametrize(
    "case_id",
    [
        "bad-token+slash-in-name",
        "unknown-user+bad-base64",
        "unknown-case+long-description",
        "closed-case+empty-content",
        "exe+empty-file-name",
        "exe+sha256-mismatch",
        "merged-dn+control-char",
        "unknown-dn+not-boolean",
        "every-step-3-fault+bad-padding",
    ],
)
def test_a_section_3_1_fault_beats_every_step_3_fault(api: Api, world: World, case_id: str) -> None:
    """§9: any §3.1 fault → 400 InvalidRequest, whatever step 3 would have said."""
    endpoint, faulty = step_3_faulty_bodies(world)[case_id]
    response = api.case(faulty) if endpoint == "case" else api.dn(faulty)
    last = len(faulty["payload"]["files"]) - 1
    assert_error(response, 400, "InvalidRequest", f"payload.files[{last}]")


def test_file_over_max_file_bytes_beats_step_3(small_api: Api, world: World) -> None:
    """§3.2: the 413 of step 2 beats a closed case, a bad token and a bad extension."""
    big = {"fileName": "big.exe", "contentType": "application/zip", "content": b64(b"z" * 1001)}
    faulty = body(world, world.closed_case, [big], **other_token(world))
    assert_error(small_api.case(faulty), 413, "GenericError", "maxFileBytes")


# --- between two §3.1 faults, the first met in the stream wins ---------------------


def test_bad_security_token_first_in_the_stream_wins(api: Api, world: World) -> None:
    """§9: securityToken (first member) not a GUID, then a bad fileName → securityToken."""
    faulty = body(world, world.open_case, [file_entry("a/b.jpg")], securityToken="nope")
    response = api.case(faulty)
    assert_error(response, 400, "InvalidRequest", "securityToken")
    assert "fileName" not in response.json()["errorDescription"]


def test_bad_file_name_first_in_the_stream_wins(api: Api, world: World) -> None:
    """§9: payload (with a bad fileName) before a bad securityToken → the fileName."""
    faulty = body(world, world.open_case, [file_entry("a/b.jpg")])
    reordered = {"payload": faulty["payload"], "securityToken": "nope"}
    response = api.case(reordered)
    assert_error(response, 400, "InvalidRequest", "payload.files[0]", "fileName")
    assert "securityToken" not in response.json()["errorDescription"]


def test_missing_field_is_met_when_its_object_closes(api: Api, world: World) -> None:
    """§9: a missing securityToken is met at the end of the root — after a bad fileName."""
    faulty = body(world, world.open_case, [file_entry("a\\b.jpg")])
    del faulty["securityToken"]
    response = api.case(faulty)
    assert_error(response, 400, "InvalidRequest", "payload.files[0]", "fileName")


def test_earlier_file_fault_wins_over_later_file_fault(api: Api, world: World) -> None:
    """§9: files[0] bad base64 and files[1] bad fileName → files[0]."""
    files = [file_entry("a.jpg", content="%%%%"), file_entry("b/c.jpg")]
    response = api.case(body(world, world.open_case, files))
    assert_error(response, 400, "InvalidRequest", "payload.files[0]")
    assert "payload.files[1]" not in response.json()["errorDescription"]


@pytest.mark.parametrize("content_first", [True, False], ids=["content-first", "name-first"])
def test_within_a_file_the_first_member_met_wins(
    api: Api, world: World, content_first: bool
) -> None:
    """§9: content (bad base64) and fileName (with '/') in either order → whichever comes first."""
    name, content = ("fileName", "a/b.jpg"), ("content", "**")
    members = [content, name] if content_first else [name, content]
    entry = dict([*members, ("contentType", "image/jpeg")])
    response = api.case(body(world, world.open_case, [entry]))
    first = members[0][0]
    other = members[1][0]
    assert_error(response, 400, "InvalidRequest", f".{first}")
    assert f".{other}" not in response.json()["errorDescription"]


def test_field_fault_beats_later_malformed_json(api: Api, world: World) -> None:
    """§9: a bad securityToken met before a JSON syntax error is the one reported."""
    raw = splice(
        body(world, world.open_case, [file_entry()], securityToken="nope") | {"x": "__RAW__"}, "}{"
    )
    assert_error(api.case(raw), 400, "InvalidRequest", "securityToken")


def test_oversized_file_met_first_beats_later_field_fault(small_api: Api, world: World) -> None:
    """§9: a file over max_file_bytes before a bad fileName → 413."""
    files = [file_entry("a.jpg", b"a" * 1001), file_entry("b/c.jpg")]
    assert_error(small_api.case(body(world, world.open_case, files)), 413, "GenericError")


def test_field_fault_met_first_beats_later_oversized_file(small_api: Api, world: World) -> None:
    """§9: a bad fileName before a file over max_file_bytes → 400."""
    files = [file_entry("b/c.jpg"), file_entry("a.jpg", b"a" * 1001)]
    response = small_api.case(body(world, world.open_case, files))
    assert_error(response, 400, "InvalidRequest", "payload.files[0]")


# --- step 3 in order ------------------------------------------------------------------


def test_invalid_security_token_beats_user_not_found(api: Api, world: World) -> None:
    """§3.2: 3.1 (401 InvalidSecurityToken) before 3.2 (UserNotFound)."""
    faulty = body(world, world.open_case, [file_entry()], **other_token(world), **UNKNOWN_USER)
    assert_error(api.case(faulty), 401, "InvalidSecurityToken")


def test_invalid_security_token_beats_every_later_check(api: Api, world: World) -> None:
    """§3.2: 3.1 before 3.2–3.5 all failing at once."""
    faulty = body(world, str(uuid.uuid4()), [EXE], **other_token(world), **UNKNOWN_USER)
    assert_error(api.dn(faulty), 401, "InvalidSecurityToken")


@pytest.mark.parametrize("endpoint", ["case", "dn"])
def test_user_not_found_beats_target_not_found(api: Api, world: World, endpoint: str) -> None:
    """§3.2: 3.2 (UserNotFound) before 3.3 (ClaimNotFound / DamageNotificationNotFound)."""
    faulty = body(world, str(uuid.uuid4()), [file_entry()], **UNKNOWN_USER)
    response = api.case(faulty) if endpoint == "case" else api.dn(faulty)
    assert_error(response, 404, "UserNotFound")


def test_inactive_user_beats_closed_case(api: Api, world: World) -> None:
    """§3.2: 3.2 (UserNotFound) before 3.4 (ClaimIsClosed)."""
    faulty = body(world, world.closed_case, [file_entry()], userEmail=world.inactive_email)
    assert_error(api.case(faulty), 404, "UserNotFound")


def test_claim_not_found_beats_file_type(api: Api, world: World) -> None:
    """§3.2: 3.3 (ClaimNotFound) before 3.5 (415)."""
    faulty = body(world, world.unassigned_case, [EXE])
    assert_error(api.case(faulty), 404, "ClaimNotFound")


def test_dn_not_found_beats_file_type(api: Api, world: World) -> None:
    """§3.2: 3.3 (DamageNotificationNotFound) before 3.5 (415)."""
    faulty = body(world, world.other_partner_dn, [EXE])
    assert_error(api.dn(faulty), 404, "DamageNotificationNotFound")


def test_claim_is_closed_beats_file_type(api: Api, world: World) -> None:
    """§3.2: 3.4 (ClaimIsClosed) before 3.5 (415)."""
    faulty = body(world, world.closed_case, [file_entry(), EXE])
    assert_error(api.case(faulty), 400, "ClaimIsClosed")


def test_merged_dn_beats_file_type(api: Api, world: World) -> None:
    """§3.2: 3.4 (DamageNotificationMergedToClaim) before 3.5 (415)."""
    faulty = body(world, world.merged_dn, [EXE])
    assert_error(api.dn(faulty), 400, "DamageNotificationMergedToClaim")


# --- step 1: token, then Content-Type, then Content-Length; all before the body --------


def raw_post(server: ServerProcess, headers: dict[str, str], content: bytes) -> httpx.Response:
    url = server.url + SUBMIT_PATH.format(endpoint="submitForCase")
    return httpx.post(url, content=content, headers=headers)


def test_missing_token_beats_wrong_content_type(server: ServerProcess, world: World) -> None:
    """§9 step 1: no bearer token and a text/plain body → 401."""
    content = json.dumps(body(world, world.open_case, [file_entry()])).encode()
    response = raw_post(server, {"Content-Type": "text/plain"}, content)
    assert_error(response, 401, "Unauthorized")


def test_missing_scope_beats_wrong_content_type(server: ServerProcess, world: World) -> None:
    """§9 step 1: a token without the write scope and a text/plain body → 403."""
    read_only = secret_token(server, "read-only-client", world.secret)
    headers = {"Authorization": f"Bearer {read_only}", "Content-Type": "text/plain"}
    response = raw_post(server, headers, b"{}")
    assert_error(response, 403, "Forbidden")


def test_missing_token_beats_content_length_over_the_limit(small_server: ServerProcess) -> None:
    """§9 step 1: no bearer token and Content-Length over max_request_bytes → 401."""
    head = request_head(
        small_server, {"Content-Type": "application/json", "Content-Length": "50000"}
    )
    assert_error(exchange(small_server, head).response, 401, "Unauthorized")


def test_wrong_content_type_beats_content_length_over_the_limit(
    small_server: ServerProcess, small_token: str
) -> None:
    """§9 step 1: a text/plain body announcing 50,000 bytes (limit 20,000) → 415, not 413."""
    head = request_head(
        small_server,
        {
            "Authorization": f"Bearer {small_token}",
            "Content-Type": "text/plain",
            "Content-Length": "50000",
        },
    )
    assert_error(exchange(small_server, head).response, 415, "GenericError", "Content-Type")


def test_wrong_content_type_beats_malformed_body(api: Api) -> None:
    """§3.2: step 1 (Content-Type, 415) before step 2 (malformed JSON, 400)."""
    response = api.case(b"{not json", headers={"Content-Type": "text/plain"})
    assert_error(response, 415, "GenericError")


def test_content_length_over_the_limit_beats_malformed_body(
    small_server: ServerProcess, small_token: str
) -> None:
    """§3.2: step 1 (413 from Content-Length) before step 2 — decided before the body."""
    head = request_head(
        small_server,
        {
            "Authorization": f"Bearer {small_token}",
            "Content-Type": "application/json",
            "Content-Length": "20001",
        },
    )
    answer = exchange(small_server, head + b"{not json", timeout=10)
    assert_error(answer.response, 413, "GenericError", "maxRequestBytes")


def test_sha256_is_checked_while_streaming_not_after(api: Api, world: World) -> None:
    """§3.1 sha256 is a step-2 check: it beats the unknown case of step 3."""
    wrong = hashlib.sha256(b"other").hexdigest()
    faulty = body(world, str(uuid.uuid4()), [file_entry(data=b"data", sha256=wrong)])
    assert_error(api.case(faulty), 400, "InvalidRequest", "payload.files[0]")


def test_fault_met_before_the_body_stalls_is_the_answer(
    small_server: ServerProcess, small_token: str
) -> None:
    """§3.2 step 2: a bad securityToken met in the stream is answered with 400 — not with the
    408 of the idle timeout (2 s here) that follows when the client then stops sending."""
    head = request_head(
        small_server,
        {
            "Authorization": f"Bearer {small_token}",
            "Content-Type": "application/json",
            "Content-Length": "5000",
        },
    )
    answer = exchange(small_server, head + b'{"securityToken": "nope", "payload": {', timeout=10)
    assert_error(answer.response, 400, "InvalidRequest", "securityToken")
