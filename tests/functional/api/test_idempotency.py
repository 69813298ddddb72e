"""Idempotent retries over HTTP (§3.4, §9 idempotency)."""

from __future__ import annotations

import json
import threading
import time
import uuid

import httpx

from tests.functional.conftest import PHOTO, Api, assert_error, file_entry, submission
from tests.functional.world import World


def new_key() -> str:
    return f"key-{uuid.uuid4()}"


def test_retry_replays_the_first_answer_and_stores_nothing_new(api: Api, world: World) -> None:
    """§3.4: same key, same body → first status and body, Idempotent-Replayed: true."""
    body = submission(world, world.open_case, [file_entry("retry.jpg", PHOTO + b"retry me")])
    key = new_key()
    before = len(api.files(case=world.open_case))
    first = api.case(body, headers={"Idempotency-Key": key})
    second = api.case(body, headers={"Idempotency-Key": key})
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert second.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert len(api.files(case=world.open_case)) == before + 1


def test_quoted_key_is_the_same_key(api: Api, world: World) -> None:
    """§3.4: a key bare or as a quoted string (IETF draft) names the same record."""
    body = submission(world, world.open_case, [file_entry("quoted.jpg", PHOTO + b"q")])
    key = new_key()
    first = api.case(body, headers={"Idempotency-Key": key})
    second = api.case(body, headers={"Idempotency-Key": f'"{key}"'})
    assert second.headers.get("idempotent-replayed") == "true"
    assert second.content == first.content


def test_same_key_with_another_body_is_422(api: Api, world: World) -> None:
    """§3.4: the same key with a different body → 422 IdempotencyKeyReused."""
    key = new_key()
    api.case(
        submission(world, world.open_case, [file_entry(data=PHOTO + b"one")]),
        headers={"Idempotency-Key": key},
    )
    response = api.case(
        submission(world, world.open_case, [file_entry(data=PHOTO + b"two")]),
        headers={"Idempotency-Key": key},
    )
    assert_error(response, 422, "IdempotencyKeyReused")


def test_keys_are_scoped_per_endpoint(api: Api, world: World) -> None:
    """§9: the same key on the other endpoint is a different record."""
    key = new_key()
    first = api.case(
        submission(world, world.open_case, [file_entry()]), headers={"Idempotency-Key": key}
    )
    other = api.dn(
        submission(world, world.open_dn, [file_entry()]), headers={"Idempotency-Key": key}
    )
    assert first.status_code == other.status_code == 200
    assert "idempotent-replayed" not in other.headers


def test_4xx_answers_are_remembered(api: Api, world: World) -> None:
    """§9: a 4xx answer is remembered and replayed, even once the cause is gone."""
    key = new_key()
    body = submission(world, world.open_case, [file_entry()], userEmail="nobody@example.com")
    first = api.case(body, headers={"Idempotency-Key": key})
    assert_error(first, 404, "UserNotFound")
    second = api.case(body, headers={"Idempotency-Key": key})
    assert second.status_code == 404
    assert second.headers["idempotent-replayed"] == "true"
    assert second.content == first.content


def test_malformed_body_answer_is_remembered(api: Api, world: World) -> None:
    """§9: a 400 found mid-body is remembered for the same bytes."""
    key = new_key()
    body = b'{"securityToken": 12' + b" " * 5000 + b"}"
    first = api.case(body, headers={"Idempotency-Key": key})
    assert_error(first, 400, "InvalidRequest")
    second = api.case(body, headers={"Idempotency-Key": key})
    assert second.headers.get("idempotent-replayed") == "true"
    assert second.content == first.content


def test_invalid_keys_are_400(api: Api, world: World) -> None:
    """§9: an empty, over-long or non-visible-ASCII key → 400 InvalidRequest."""
    body = submission(world, world.open_case, [file_entry()])
    for key in ("", "x" * 256, "has space", "ümlaut"):
        response = api.case(json.dumps(body).encode(), headers={"Idempotency-Key": key.encode()})  # type: ignore[dict-item]
        assert_error(response, 400, "InvalidRequest", "Idempotency-Key")


def test_request_in_flight_is_409(api: Api, world: World) -> None:
    """§3.4: while the first request with a key is in flight, a second gets 409."""
    key = new_key()
    body = json.dumps(
        submission(world, world.open_case, [file_entry("slow.jpg", PHOTO + b"slow")])
    ).encode()
    release = threading.Event()

    def slow_body() -> object:
        yield body[:10]
        release.wait(10)
        yield body[10:]

    results: list[httpx.Response] = []

    def send_slowly() -> None:
        results.append(
            httpx.post(
                f"{api.server.url}/ecx/host/api/integration/v1/file/submitForCase",
                content=slow_body(),  # type: ignore[arg-type]
                headers={
                    "Authorization": f"Bearer {api.token}",
                    "Content-Type": "application/json",
                    "Idempotency-Key": key,
                },
                timeout=30,
            )
        )

    sender = threading.Thread(target=send_slowly)
    sender.start()
    try:
        time.sleep(1.0)  # the first request's headers have arrived: its key is in flight
        second = api.case(body, headers={"Idempotency-Key": key})
        assert_error(second, 409, "RequestInProgress")
    finally:
        release.set()
        sender.join()
    assert results[0].status_code == 200
