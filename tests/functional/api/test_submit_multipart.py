"""Binary submissions (multipart/form-data) on both submit endpoints, over HTTP (§10.1)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.functional.api.multipart_bodies import (
    API,
    Part,
    curl,
    post_parts,
    post_raw,
    raw_part,
    submission_part,
)
from tests.functional.api.raw_http import exchange, request_head
from tests.functional.api.test_all_or_nothing import wait_until_storage_is
from tests.functional.api.test_large import with_peak_growth
from tests.functional.conftest import Api, assert_error, secret_token, submission
from tests.functional.server import ServerProcess
from tests.functional.world import World

# A JPEG to the §12.1 sniffer; 76,804 bytes: past the in-row size, to the blob store.
PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 300
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 300


def stored_bytes(server: ServerProcess, file_id: str) -> bytes:
    out = server.data_dir / f"{file_id}.out"
    server.cli("files", "get", file_id, "-o", str(out))
    return out.read_bytes()


class Unchanged:
    """The case's rows and the storage area, before and after a refused request (§3.4)."""

    def __init__(self, api: Api, world: World) -> None:
        self.api, self.world = api, world
        self.rows = api.files(case=world.open_case)
        self.blobs = api.server.blob_files()

    def check(self) -> None:
        wait_until_storage_is(self.api.server, self.blobs)
        assert self.api.files(case=self.world.open_case) == self.rows


# --- accepted -------------------------------------------------------------------------


def test_curl_form_stores_the_exact_bytes_named_by_their_parts(
    api: Api, world: World, server: ServerProcess, tmp_path: Path
) -> None:
    """§10.1: curl -F; fileName and contentType from each part; bytes and SHA-256 exact."""
    (tmp_path / "kitchen.jpg").write_bytes(PHOTO)
    (tmp_path / "note.txt").write_bytes(b"water under the sink\n")
    document = submission(
        world,
        world.open_case,
        [{"part": "photo", "description": "kitchen"}, {"part": "note"}],
    )
    (tmp_path / "submission.json").write_text(json.dumps(document))
    response = curl(
        api,
        "submitForCase",
        "submission=@submission.json;type=application/json",
        "photo=@kitchen.jpg;type=image/jpeg",
        "note=@note.txt;type=text/plain",
        workdir=tmp_path,
    )
    assert response.status_code == 200, response.text
    photo, note = response.json()["payload"]["files"]
    assert (photo["fileName"], photo["size"]) == ("kitchen.jpg", len(PHOTO))
    assert photo["sha256"] == hashlib.sha256(PHOTO).hexdigest()
    assert note["fileName"] == "note.txt"
    assert stored_bytes(server, photo["id"]) == PHOTO
    assert stored_bytes(server, note["id"]) == b"water under the sink\n"
    records = {r["id"]: r for r in api.files(case=world.open_case)}
    assert records[photo["id"]]["contentType"] == "image/jpeg"
    assert records[photo["id"]]["description"] == "kitchen"


def test_httpx_files_with_names_in_the_submission(
    api: Api, world: World, server: ServerProcess
) -> None:
    """§10.1: fileName/contentType in the submission win; the sha256 claim is checked."""
    digest = hashlib.sha256(PDF).hexdigest()
    document = submission(
        world,
        world.open_case,
        [
            {
                "part": "p1",
                "fileName": "plan.pdf",
                "contentType": "application/pdf",
                "sha256": digest,
            }
        ],
    )
    response = post_parts(
        api, "submitForCase", [submission_part(document), ("p1", ("x.bin", PDF, None))]
    )
    assert response.status_code == 200, response.text
    (stored,) = response.json()["payload"]["files"]
    assert (stored["fileName"], stored["sha256"]) == ("plan.pdf", digest)
    assert stored_bytes(server, stored["id"]) == PDF


def test_damage_notification_takes_the_binary_form(api: Api, world: World) -> None:
    """§10.1 on submitForDamageNotification, isDamageImage honoured."""
    document = submission(
        world, world.open_dn, [{"part": "img", "isDamageImage": True, "contentType": "image/png"}]
    )
    response = post_parts(
        api,
        "submitForDamageNotification",
        [submission_part(document), ("img", ("d.png", b"\x89PNG\r\n\x1a\n", None))],
    )
    assert response.status_code == 200, response.text
    (stored,) = response.json()["payload"]["files"]
    (record,) = [r for r in api.files(dn=world.open_dn) if r["id"] == stored["id"]]
    assert record["isDamageImage"] is True


def test_base64_transfer_encoded_part_is_decoded(
    api: Api, world: World, server: ServerProcess
) -> None:
    """§10.1: Content-Transfer-Encoding: base64 on a part is honoured."""
    boundary = f"b-{uuid.uuid4().hex}"
    document = submission(world, world.open_case, [{"part": "f", "fileName": "f.pdf"}])
    body = (
        raw_part(
            boundary,
            "submission",
            json.dumps(document).encode(),
            "Content-Type: application/json\r\n",
        )
        + raw_part(
            boundary,
            "f",
            base64.encodebytes(PDF),
            "Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n",
        )
        + f"--{boundary}--\r\n".encode()
    )
    response = post_raw(api, "submitForCase", body, boundary)
    assert response.status_code == 200, response.text
    (stored,) = response.json()["payload"]["files"]
    assert stored["size"] == len(PDF)
    assert stored_bytes(server, stored["id"]) == PDF


def test_a_20_mib_part_arrives_whole(api: Api, world: World, server: ServerProcess) -> None:
    """§10.1/§3.4: a large binary part streams to its blob; bytes and digest exact."""
    data = b"PK\x03\x04" + os.urandom(1024 * 1024) * 20  # a ZIP to the §12.1 sniffer
    document = submission(
        world, world.open_case, [{"part": "big", "contentType": "application/zip"}]
    )
    response = post_parts(
        api, "submitForCase", [submission_part(document), ("big", ("big.zip", data, None))]
    )
    assert response.status_code == 200, response.text
    (stored,) = response.json()["payload"]["files"]
    assert stored["sha256"] == hashlib.sha256(data).hexdigest()
    assert stored_bytes(server, stored["id"]) == data


def test_limits_say_multipart(server: ServerProcess) -> None:
    """§10.1: GET …/file/limits says "multipart": true, with the part bounds (§10)."""
    limits = httpx.get(f"{server.url}{API}/limits").json()
    assert limits["multipart"] is True
    assert limits["maxPartHeaderBytes"] == 16 * 1024
    assert limits["maxParts"] == limits["maxFilesPerRequest"] + 64


# --- refused, nothing left behind -----------------------------------------------------


SUBMISSION = "submission"  # where the submission part goes in a REFUSALS layout
A_PART: Part = ("a", ("a.txt", PHOTO, "text/plain"))
WRONG_SHA256 = hashlib.sha256(b"other").hexdigest()

# §10.1: each 400 of the binary form — (files of the submission, parts in body order,
# the start of errorDescription).
REFUSALS = {
    "content member": (
        [{"part": "a", "fileName": "a.txt", "contentType": "text/plain", "content": "aGk="}],
        [SUBMISSION, A_PART],
        "payload.files[0] ('a.txt').content: not allowed in a multipart submission",
    ),
    "part naming no part": (
        [{"part": "a"}, {"part": "missing", "fileName": "m.txt"}],
        [SUBMISSION, A_PART],
        "payload.files[1] ('m.txt').part: names no part of the request ('missing')",
    ),
    "part named by no file": (
        [{"part": "a"}],
        [SUBMISSION, A_PART, ("stray", ("s.txt", b"s", "text/plain"))],
        "part 2 ('stray'): no payload.files[i].part names this part",
    ),
    "two parts with one name": (
        [{"part": "a"}],
        [SUBMISSION, A_PART, ("a", ("b.txt", b"b", "text/plain"))],
        "part 2 ('a'): a second part named 'a'",
    ),
    "file part before submission": (
        [{"part": "a"}],
        [A_PART, SUBMISSION],
        "part 0 ('a'): comes before the 'submission' part",
    ),
    "sha256 mismatch": (
        [{"part": "a", "sha256": WRONG_SHA256}],
        [SUBMISSION, A_PART],
        "payload.files[0] ('a.txt').sha256: does not match",
    ),
}


@pytest.mark.parametrize(("files", "layout", "description"), REFUSALS.values(), ids=REFUSALS)
def test_each_fault_of_the_binary_form_is_400_and_leaves_nothing(
    api: Api, world: World, files: list[dict[str, Any]], layout: list[Any], description: str
) -> None:
    """§10.1: 400 InvalidRequest naming the part or file; §3.4: no row, no blob."""
    document = submission(world, world.open_case, files)
    parts = [submission_part(document) if p == SUBMISSION else p for p in layout]
    before = Unchanged(api, world)
    response = post_parts(api, "submitForCase", parts)
    assert_error(response, 400, "InvalidRequest")
    assert response.json()["errorDescription"].startswith(description), response.text
    before.check()


def test_a_body_without_closing_delimiter_is_refused(api: Api, world: World) -> None:
    """§10: malformed multipart (no closing boundary) → 400 naming the part."""
    boundary = "cut-short"
    document = submission(
        world, world.open_case, [{"part": "f", "fileName": "f.txt", "contentType": "text/plain"}]
    )
    body = raw_part(boundary, "submission", json.dumps(document).encode()) + raw_part(
        boundary, "f", PHOTO
    )
    before = Unchanged(api, world)
    response = post_raw(api, "submitForCase", body, boundary)
    assert_error(
        response, 400, "InvalidRequest", "part 1 ('f'): the body ends without the closing delimiter"
    )
    before.check()


def test_a_multipart_type_without_boundary_is_400(api: Api) -> None:
    """§10: the boundary parameter is required."""
    response = httpx.post(
        f"{api.server.url}{API}/submitForCase",
        content=b"x",
        headers={"Authorization": f"Bearer {api.token}", "Content-Type": "multipart/form-data"},
    )
    assert_error(response, 400, "InvalidRequest", "without its boundary parameter")


def test_another_type_is_415_naming_both_forms(api: Api) -> None:
    """§3.1/§10.1: anything but the two forms → 415 naming both."""
    response = httpx.post(
        f"{api.server.url}{API}/submitForCase",
        content=b"x",
        headers={
            "Authorization": f"Bearer {api.token}",
            "Content-Type": "multipart/mixed; boundary=x",
        },
    )
    assert_error(
        response, 415, "GenericError", "application/json (charset=utf-8) or multipart/form-data"
    )


def test_a_part_over_max_file_bytes_is_413(small_api: Api, world: World) -> None:
    """§10.1 with §3.2 step 2: a file over maxFileBytes → 413 naming it and the limit."""
    document = submission(world, world.open_case, [{"part": "a"}])
    rows = small_api.files(case=world.open_case)
    response = post_parts(
        small_api,
        "submitForCase",
        [submission_part(document), ("a", ("a.txt", b"x" * 1001, "text/plain"))],
    )
    assert_error(
        response,
        413,
        "GenericError",
        "part 1 ('a') for payload.files[0] ('a.txt')",
        "maxFileBytes 1000",
    )
    assert small_api.files(case=world.open_case) == rows


def test_a_wrong_security_token_is_answered_after_the_body(api: Api, world: World) -> None:
    """§3.2 order of errors holds: step 3.1 after the body was read."""
    document = submission(world, world.open_case, [{"part": "a"}], securityToken=str(uuid.uuid4()))
    before = Unchanged(api, world)
    response = post_parts(
        api, "submitForCase", [submission_part(document), ("a", ("a.txt", PHOTO, "text/plain"))]
    )
    assert_error(response, 401, "InvalidSecurityToken")
    before.check()


def test_a_connection_dropped_mid_part_leaves_nothing(
    api: Api, world: World, server: ServerProcess
) -> None:
    """§3.4/§9: a dropped connection in the middle of a file part stores nothing."""
    before = Unchanged(api, world)
    boundary = "dropped"
    document = submission(
        world,
        world.open_case,
        [{"part": "a", "fileName": "a.zip", "contentType": "application/zip"}],
    )
    body = (
        raw_part(boundary, "submission", json.dumps(document).encode())
        + raw_part(boundary, "a", os.urandom(3_000_000))
        + f"--{boundary}--\r\n".encode()
    )
    head = (
        f"POST {API}/submitForCase HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.port}\r\n"
        f"Authorization: Bearer {api.token}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(head + body[: len(body) * 3 // 4])
        time.sleep(0.5)  # let the server stream part of it into staging
    before.check()


def test_a_stalled_file_part_is_cut_off_with_408_and_leaves_nothing(
    small_api: Api, world: World
) -> None:
    """§10 with §9: no byte for the idle timeout (2 s here) mid-part → 408; §3.4: nothing
    of it stays."""
    server = small_api.server
    before = Unchanged(small_api, world)
    boundary = "stalled"
    document = submission(
        world, world.open_case, [{"part": "a", "fileName": "a.txt", "contentType": "text/plain"}]
    )
    body = (
        raw_part(boundary, "submission", json.dumps(document).encode())
        + raw_part(boundary, "a", b"x" * 900)
        + f"--{boundary}--\r\n".encode()
    )
    head = request_head(
        server,
        {
            "Authorization": f"Bearer {small_api.token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(len(body)),
        },
    )
    answer = exchange(server, head + body[: body.index(b"x" * 900) + 400], timeout=15)
    assert_error(answer.response, 408, "GenericError")
    before.check()


# --- idempotent retries ---------------------------------------------------------------


def test_a_retry_with_a_new_boundary_replays(api: Api, world: World) -> None:
    """§3.4: the same parts again (httpx picks a new boundary) → the first answer."""
    key = f"mp-{uuid.uuid4()}"
    document = submission(world, world.open_case, [{"part": "a"}])
    parts = [submission_part(document), ("a", ("retry.txt", PHOTO, "text/plain"))]
    rows = len(api.files(case=world.open_case))
    first = post_parts(api, "submitForCase", parts, {"Idempotency-Key": key})
    second = post_parts(api, "submitForCase", parts, {"Idempotency-Key": key})
    assert first.status_code == second.status_code == 200, second.text
    assert second.content == first.content
    assert second.headers["idempotent-replayed"] == "true"
    assert len(api.files(case=world.open_case)) == rows + 1


def test_a_retry_with_other_bytes_is_422(api: Api, world: World) -> None:
    """§3.4: the same key with a different body → 422 IdempotencyKeyReused."""
    key = f"mp-{uuid.uuid4()}"
    document = submission(world, world.open_case, [{"part": "a"}])
    first = post_parts(
        api,
        "submitForCase",
        [submission_part(document), ("a", ("a.txt", b"one", "text/plain"))],
        {"Idempotency-Key": key},
    )
    assert first.status_code == 200, first.text
    second = post_parts(
        api,
        "submitForCase",
        [submission_part(document), ("a", ("a.txt", b"two", "text/plain"))],
        {"Idempotency-Key": key},
    )
    assert_error(second, 422, "IdempotencyKeyReused")


def test_a_remembered_refusal_is_replayed(api: Api, world: World) -> None:
    """§3.4: 4xx answers are remembered for the key, binary form included."""
    key = f"mp-{uuid.uuid4()}"
    document = submission(world, world.open_case, [{"part": "a"}, {"part": "ghost"}])
    parts = [submission_part(document), ("a", ("a.txt", b"a", "text/plain"))]
    first = post_parts(api, "submitForCase", parts, {"Idempotency-Key": key})
    assert_error(first, 400, "InvalidRequest", "('ghost')")
    second = post_parts(api, "submitForCase", parts, {"Idempotency-Key": key})
    assert second.headers["idempotent-replayed"] == "true"
    assert second.content == first.content


# --- large ----------------------------------------------------------------------------

MIB = 1024 * 1024


def streamed_parts(
    world: World, boundary: str, files: int, size: int, digests: list[str]
) -> tuple[int, Iterator[bytes]]:
    """A binary body of ``files`` parts of ``size`` bytes each: its exact length and a
    generator of it; never more than one chunk in memory."""
    document = submission(
        world,
        world.open_case,
        [
            {"part": f"f{i}", "fileName": f"big-{i}.dat", "contentType": "application/octet-stream"}
            for i in range(files)
        ],
    )
    head = raw_part(boundary, "submission", json.dumps(document).encode())
    part_heads = [raw_part(boundary, f"f{i}", b"")[:-2] for i in range(files)]
    tail = f"--{boundary}--\r\n".encode()
    length = len(head) + sum(len(h) + size + 2 for h in part_heads) + len(tail)
    noise = os.urandom(4 * MIB)

    def generate() -> Iterator[bytes]:
        yield head
        for i, part_head in enumerate(part_heads):
            yield part_head
            digest = hashlib.sha256()
            sent = 0
            while sent < size:
                stamp = f"{i}:{sent}:".encode()  # distinct chunks, cheaply
                block = (stamp + noise[len(stamp) :])[: min(len(noise), size - sent)]
                digest.update(block)
                sent += len(block)
                yield block
            digests.append(digest.hexdigest())
            yield b"\r\n"
        yield tail

    return length, generate()


@pytest.mark.large
def test_three_100_mib_parts_keep_server_memory_flat(tmp_path: Path, world: World) -> None:
    """§10 with §6: 3 × 100 MiB binary parts, peak RSS growth ≤ 64 MiB; digests exact."""
    server = ServerProcess(tmp_path / "data")
    server.cli("load", str(world.write_fixture(tmp_path / "fixture.json")))
    server.start()
    try:
        api = Api(server, secret_token(server, "secret-client", world.secret))
        warm = post_parts(
            api,
            "submitForCase",
            [
                submission_part(submission(world, world.open_case, [{"part": "w"}])),
                ("w", ("w.txt", b"warm", "text/plain")),
            ],
        )
        assert warm.status_code == 200, warm.text
        digests: list[str] = []
        boundary = f"large-{uuid.uuid4().hex}"
        length, body = streamed_parts(world, boundary, 3, 100 * MIB, digests)
        response, growth_mib = with_peak_growth(
            server.pid,
            lambda: post_raw(api, "submitForCase", body, boundary, {"Content-Length": str(length)}),
        )
        assert response.status_code == 200, response.text
        stored = response.json()["payload"]["files"]
        assert [f["sha256"] for f in stored] == digests
        assert all(f["size"] == 100 * MIB for f in stored)
        assert growth_mib <= 64, f"peak RSS grew by {growth_mib:.1f} MiB"
    finally:
        server.stop()
