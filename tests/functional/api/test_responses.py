"""The shape of every answer and its request id (§3.3, §9 submit endpoints)."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable

import httpx
import pytest

from tests.functional.api.raw_http import SUBMIT_PATH
from tests.functional.conftest import Api, file_entry, secret_token, submission
from tests.functional.world import World

GUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)
SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def ok_body(world: World) -> dict[str, object]:
    return submission(world, world.open_case, [file_entry()])


# --- success ---------------------------------------------------------------------------


def test_success_has_exactly_the_contract_members_in_request_order(api: Api, world: World) -> None:
    """§3.3: {success: true, payload: {files: [{id, fileName, size, sha256}]}}, request order."""
    sent = [("zeta.txt", b"first file"), ("alpha.pdf", b"%PDF-2nd"), ("mid.png", b"\x89PNG third")]
    types = {"txt": "text/plain", "pdf": "application/pdf", "png": "image/png"}
    files = [file_entry(n, d, contentType=types[n.rsplit(".", 1)[1]]) for n, d in sent]
    response = api.case(submission(world, world.open_case, files))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"success", "payload"}
    assert body["success"] is True
    assert set(body["payload"]) == {"files"}
    answered = body["payload"]["files"]
    assert [set(f) for f in answered] == [{"id", "fileName", "size", "sha256"}] * 3
    assert [(f["fileName"], f["size"], f["sha256"]) for f in answered] == [
        (name, len(data), hashlib.sha256(data).hexdigest()) for name, data in sent
    ]
    assert all(GUID.fullmatch(f["id"]) for f in answered)
    assert len({f["id"] for f in answered}) == 3


def test_dn_success_has_the_same_shape(api: Api, world: World) -> None:
    """§3.3: submitForDamageNotification answers in the same shape."""
    response = api.dn(submission(world, world.open_dn, [file_entry()]))
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"success", "payload"}
    assert [set(f) for f in response.json()["payload"]["files"]] == [
        {"id", "fileName", "size", "sha256"}
    ]


# --- every error ------------------------------------------------------------------------


def no_token(api: Api, world: World) -> httpx.Response:
    return api.case(ok_body(world), headers={"Authorization": ""})


def bad_token(api: Api, world: World) -> httpx.Response:
    return api.case(ok_body(world), token="not-a-jwt")


def no_scope(api: Api, world: World) -> httpx.Response:
    return api.case(
        ok_body(world), token=secret_token(api.server, "read-only-client", world.secret)
    )


def wrong_security_token(api: Api, world: World) -> httpx.Response:
    return api.case(
        submission(world, world.open_case, [file_entry()], securityToken=world.other_security_token)
    )


def malformed(api: Api, world: World) -> httpx.Response:
    return api.case(b"{")


def unknown_user(api: Api, world: World) -> httpx.Response:
    return api.case(submission(world, world.open_case, [file_entry()], userEmail="x@example.com"))


def closed(api: Api, world: World) -> httpx.Response:
    return api.case(submission(world, world.closed_case, [file_entry()]))


def merged(api: Api, world: World) -> httpx.Response:
    return api.dn(submission(world, world.merged_dn, [file_entry()]))


def bad_extension(api: Api, world: World) -> httpx.Response:
    return api.case(submission(world, world.open_case, [file_entry("a.exe")]))


def wrong_media_type(api: Api, world: World) -> httpx.Response:
    return api.case(ok_body(world), headers={"Content-Type": "text/plain"})


def too_large(api: Api, world: World) -> httpx.Response:
    url = api.server.url + SUBMIT_PATH.format(endpoint="submitForCase")
    headers = {"Authorization": f"Bearer {api.token}", "Content-Type": "application/json"}
    return httpx.post(url, content=b"{" + b" " * 30000 + b"}", headers=headers)


def no_route(api: Api, world: World) -> httpx.Response:
    return httpx.get(api.server.url + "/no/such/path")


def wrong_method(api: Api, world: World) -> httpx.Response:
    return httpx.get(api.server.url + SUBMIT_PATH.format(endpoint="submitForCase"))


ERRORS: dict[str, tuple[Callable[[Api, World], httpx.Response], int]] = {
    "401-no-token": (no_token, 401),
    "401-bad-token": (bad_token, 401),
    "403-no-scope": (no_scope, 403),
    "401-security-token": (wrong_security_token, 401),
    "400-malformed": (malformed, 400),
    "404-user": (unknown_user, 404),
    "400-closed": (closed, 400),
    "400-merged": (merged, 400),
    "415-extension": (bad_extension, 415),
    "415-media-type": (wrong_media_type, 415),
    "404-route": (no_route, 404),
    "405-method": (wrong_method, 405),
}


@pytest.mark.parametrize("kind", list(ERRORS))
def test_every_error_has_exactly_the_three_members(api: Api, world: World, kind: str) -> None:
    """§3.3/§9: {success: false, errorDescription, errorType} and nothing else, as JSON."""
    make, status = ERRORS[kind]
    response = make(api, world)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"success", "errorDescription", "errorType"}
    assert body["success"] is False
    assert isinstance(body["errorType"], str)
    assert isinstance(body["errorDescription"], str)
    assert body["errorDescription"]


def test_413_has_exactly_the_three_members(small_api: Api, world: World) -> None:
    """§3.3: a 413 is the same envelope, errorType GenericError."""
    response = too_large(small_api, world)
    assert response.status_code == 413, response.text
    assert response.json().keys() == {"success", "errorDescription", "errorType"}
    assert response.json()["errorType"] == "GenericError"


# --- X-Request-Id -------------------------------------------------------------------------


@pytest.mark.parametrize("request_id", ["abc-123._:x", "A" * 128, "0", "req:2024-05-01T12.00"])
def test_sane_request_id_is_echoed(api: Api, world: World, request_id: str) -> None:
    """§9: an X-Request-Id of 1–128 characters from [A-Za-z0-9._:-] is echoed."""
    response = api.case(ok_body(world), headers={"X-Request-Id": request_id})
    assert response.status_code == 200, response.text
    assert response.headers["x-request-id"] == request_id


def test_sane_request_id_is_echoed_on_errors(api: Api, world: World) -> None:
    """§3.3: the client's own id, on a refusal too."""
    response = api.case(b"{", headers={"X-Request-Id": "abc-123._:x"})
    assert response.status_code == 400
    assert response.headers["x-request-id"] == "abc-123._:x"


@pytest.mark.parametrize(
    "request_id",
    ["A" * 129, "abc def", "abc/def", "a;b", "<script>", "ab\u00e9", "a,b", ""],
    ids=["129-chars", "space", "slash", "semicolon", "angle-brackets", "latin-1", "comma", "empty"],
)
def test_other_request_ids_are_replaced(api: Api, world: World, request_id: str) -> None:
    """§9: any other X-Request-Id is replaced by a new, sane one."""
    # As bytes: a header value outside ASCII goes on the wire as its latin-1 byte.
    response = httpx.post(
        api.server.url + SUBMIT_PATH.format(endpoint="submitForCase"),
        content=json.dumps(ok_body(world)).encode(),
        headers={
            b"Authorization": f"Bearer {api.token}".encode(),
            b"Content-Type": b"application/json",
            b"X-Request-Id": request_id.encode("latin-1"),
        },
    )
    assert response.status_code == 200, response.text
    answered = response.headers["x-request-id"]
    assert answered != request_id
    assert SANE_ID.fullmatch(answered), answered


def test_new_request_ids_differ_per_request(api: Api, world: World) -> None:
    """§3.3: without a client id, each answer gets a new one."""
    ids = {api.case(b"{").headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3


@pytest.mark.parametrize(
    "kind", ["401-no-token", "403-no-scope", "404-route", "405-method", "415-media-type"]
)
def test_request_id_is_on_every_answer(api: Api, world: World, kind: str) -> None:
    """§3.3: X-Request-Id on every response, refusals before the body included."""
    response = ERRORS[kind][0](api, world)
    assert SANE_ID.fullmatch(response.headers.get("x-request-id", "")), response.headers
