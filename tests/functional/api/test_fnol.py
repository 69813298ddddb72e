"""FNoL over HTTP (§10.2): damage notifications created from multipart requests built by
curl -F, httpx ``files=`` and by hand (``multipart/mixed``, ``multipart/related``)."""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from tests.functional.conftest import Api, assert_error, b64, secret_token
from tests.functional.server import ServerProcess
from tests.functional.world import World

FNOL_URL = "/ecx/host/api/integration/v1/damageNotification"
SCHEMA_URL = f"{FNOL_URL}/schema"
FNOL_TYPE = "application/vnd.casecreation+json"
PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8  # a JPEG to the §12.1 sniffer
DAMAGE = {"incidentDate": "2026-11-28", "description": "water damage in the kitchen"}
BOUNDARY = "fnol-test-boundary"


def fnol(world: World, **changes: Any) -> dict[str, Any]:
    document: dict[str, Any] = {
        "securityToken": world.security_token,
        "insuranceCompanyAlias": "company",
        "userEmail": world.email,
        "damageNotification": DAMAGE,
        "attachments": [{"part": "photo1", "description": "kitchen", "isDamageImage": True}],
    }
    document.update(changes)
    return {key: value for key, value in document.items() if value is not ...}


def post_files(
    api: Api, files: list[tuple[str, tuple[str | None, bytes, str]]], **headers: str
) -> httpx.Response:
    """A multipart/form-data request as httpx builds it (``files=``)."""
    return httpx.post(
        f"{api.server.url}{FNOL_URL}",
        files=files,
        headers={"Authorization": f"Bearer {api.token}", **headers},
        timeout=60,
    )


def form(world: World, document: dict[str, Any] | None = None, photo: bool = True) -> list[Any]:
    parts: list[Any] = [("fnol", (None, json.dumps(document or fnol(world)).encode(), FNOL_TYPE))]
    if photo:
        parts.append(("photo1", ("kitchen.jpg", PHOTO, "image/jpeg")))
    return parts


def part(headers: list[str], data: bytes) -> bytes:
    head = f"--{BOUNDARY}\r\n" + "".join(f"{h}\r\n" for h in headers) + "\r\n"
    return head.encode() + data + b"\r\n"


def hand_built(*parts: bytes) -> bytes:
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def post_raw(api: Api, body: bytes, content_type: str, **headers: str) -> httpx.Response:
    return httpx.post(
        f"{api.server.url}{FNOL_URL}",
        content=body,
        headers={"Authorization": f"Bearer {api.token}", "Content-Type": content_type, **headers},
        timeout=60,
    )


def row_counts(server: ServerProcess) -> dict[str, int]:
    """How many DNs, submissions and files the deployment's database holds."""
    url = server.deployment.database_url.replace("postgresql://", "postgresql+psycopg://")
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                table: int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
                for table in ("damage_notifications", "submissions", "files")
            }
    finally:
        engine.dispose()


def stored_fnol(server: ServerProcess, dn_id: str) -> tuple[str | None, str]:
    url = server.deployment.database_url.replace("postgresql://", "postgresql+psycopg://")
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            row = connection.execute(
                text("SELECT fnol, partner_id FROM damage_notifications WHERE id = :id"),
                {"id": uuid.UUID(dn_id).hex if "sqlite" in url else dn_id},
            ).one()
    finally:
        engine.dispose()
    return row[0], str(uuid.UUID(str(row[1])))


@pytest.fixture
def nothing_left_behind(server: ServerProcess) -> Iterator[None]:
    """The test's refused requests leave no DN, submission, file row or blob (§3.4)."""
    rows, blobs = row_counts(server), server.blob_files()
    yield
    assert row_counts(server) == rows
    assert server.blob_files() == blobs


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"success", "payload"}
    assert body["success"] is True
    dn_id = body["payload"]["id"]
    assert response.headers["location"] == f"{FNOL_URL}/{dn_id}"
    payload: dict[str, Any] = body["payload"]
    return payload


# -- success ------------------------------------------------------------------------------


def test_httpx_form_creates_an_open_dn_with_its_attachment(
    api: Api, world: World, server: ServerProcess
) -> None:
    """§10.2: 201, Location, the new DN's id and its files (id, fileName, size, sha256)."""
    payload = created(post_files(api, form(world)))
    [entry] = payload["files"]
    assert entry["fileName"] == "kitchen.jpg"
    assert entry["size"] == len(PHOTO)
    assert entry["sha256"] == hashlib.sha256(PHOTO).hexdigest()
    [record] = api.files(dn=payload["id"])
    assert (record["description"], record["isDamageImage"], record["isRestricted"]) == (
        "kitchen",
        True,
        False,
    )
    assert record["contentType"] == "image/jpeg"
    assert record["uploadedBy"] == world.email
    out = server.data_dir / f"{entry['id']}.bin"
    server.cli("files", "get", entry["id"], "-o", str(out))
    assert out.read_bytes() == PHOTO


def test_the_dn_keeps_the_fnol_exactly_as_sent(
    api: Api, world: World, server: ServerProcess
) -> None:
    """§10.2, §11: the damageNotification is kept as sent, for the insurer to see."""
    sent = '{"incidentDate" : "2026-11-28",\n "description":"vand i k\\u00f8kkenet"}'
    raw = (
        '{"securityToken": "' + world.security_token + '", "insuranceCompanyAlias": "company",'
        ' "userEmail": "' + world.email + '", "damageNotification": ' + sent + "}"
    ).encode()
    payload = created(post_files(api, [("fnol", (None, raw, FNOL_TYPE))]))
    assert stored_fnol(server, payload["id"]) == (sent, world.partner_id)


def test_curl_form_creates_a_dn(api: Api, world: World, tmp_path: Path) -> None:
    """§10.2: a request as ``curl -F`` builds it."""
    (tmp_path / "fnol.json").write_text(json.dumps(fnol(world)))
    (tmp_path / "kitchen.jpg").write_bytes(PHOTO)
    result = subprocess.run(
        [
            "curl", "-s", "-i",
            "-H", f"Authorization: Bearer {api.token}",
            "-F", f"fnol=@{tmp_path / 'fnol.json'};type={FNOL_TYPE}",
            "-F", f"photo1=@{tmp_path / 'kitchen.jpg'};type=image/jpeg",
            f"{api.server.url}{FNOL_URL}",
        ],
        capture_output=True, check=True, timeout=60,
    )  # fmt: skip
    head, _, body = result.stdout.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 201"), result.stdout
    answer = json.loads(body)
    assert answer["payload"]["files"][0]["fileName"] == "kitchen.jpg"
    location = f"location: {FNOL_URL}/{answer['payload']['id']}".lower().encode()
    assert location in head.lower()


@pytest.mark.parametrize("position", [0, 1, 2])
def test_the_fnol_part_may_come_first_middle_or_last(api: Api, world: World, position: int) -> None:
    """§10.2: the FNoL part in any position; attachments are listed in part order."""
    parts = [
        ("photo1", ("kitchen.jpg", PHOTO, "image/jpeg")),
        ("note", ("note.txt", b"a note", "text/plain")),
    ]
    parts.insert(position, ("fnol", (None, json.dumps(fnol(world)).encode(), FNOL_TYPE)))
    payload = created(post_files(api, parts))
    assert [f["fileName"] for f in payload["files"]] == ["kitchen.jpg", "note.txt"]


def test_zero_attachments_is_a_valid_fnol(api: Api, world: World) -> None:
    """§10.2: 0 attachments is a valid FNoL."""
    payload = created(post_files(api, form(world, fnol(world, attachments=...), photo=False)))
    assert payload["files"] == []
    assert api.files(dn=payload["id"]) == []


@pytest.mark.parametrize("subtype", ["mixed", "related"])
def test_hand_built_mixed_and_related_bodies_create_a_dn(
    api: Api, world: World, subtype: str
) -> None:
    """§10.2: multipart/mixed and multipart/related, attachments as Content-Disposition:
    attachment (one base64-encoded), the FNoL part last with charset=utf-8."""
    body = hand_built(
        part(
            [
                'Content-Disposition: attachment; name="photo1"; filename="kitchen.jpg"',
                "Content-Type: image/jpeg",
                "Content-Transfer-Encoding: base64",
            ],
            b64(PHOTO).encode(),
        ),
        part(
            ["Content-Disposition: attachment; filename*=UTF-8''k%C3%B8kken.pdf"],
            b"%PDF-1.4 report",
        ),
        part(
            [f"Content-Type: {FNOL_TYPE}; charset=utf-8"],
            json.dumps(fnol(world)).encode(),
        ),
    )
    content_type = f'multipart/{subtype}; boundary="{BOUNDARY}"'
    if subtype == "related":
        content_type += f'; type="{FNOL_TYPE}"'
    payload = created(post_raw(api, body, content_type))
    assert [(f["fileName"], f["size"]) for f in payload["files"]] == [
        ("kitchen.jpg", len(PHOTO)),
        ("køkken.pdf", len(b"%PDF-1.4 report")),
    ]
    records = api.files(dn=payload["id"])
    assert {r["fileName"]: r["contentType"] for r in records} == {
        "kitchen.jpg": "image/jpeg",
        "køkken.pdf": "application/octet-stream",
    }


def test_the_new_dn_accepts_submit_for_damage_notification(api: Api, world: World) -> None:
    """§10.2, §3: a DN created by FNoL is open, the partner's, in the tenant."""
    dn_id = created(post_files(api, form(world)))["id"]
    body = {
        "securityToken": world.security_token,
        "payload": {
            "id": dn_id,
            "insuranceCompanyAlias": "company",
            "userEmail": world.email,
            "files": [
                {"fileName": "later.jpg", "contentType": "image/jpeg", "content": b64(PHOTO)}
            ],
        },
    }
    response = api.dn(body)
    assert response.status_code == 200, response.text
    assert sorted(f["fileName"] for f in api.files(dn=dn_id)) == ["kitchen.jpg", "later.jpg"]


def test_an_idempotent_retry_returns_the_same_dn_and_creates_nothing(
    api: Api, world: World, server: ServerProcess
) -> None:
    """§10.2, §3.4: same Idempotency-Key → same DN, 201 and Location again, nothing new.
    httpx picks a new boundary for each request: the retry still counts as the same."""
    key = f"fnol-{uuid.uuid4()}"
    first = post_files(api, form(world), **{"Idempotency-Key": key})
    rows = row_counts(server)
    second = post_files(api, form(world), **{"Idempotency-Key": key})
    assert created(second) == created(first)
    assert second.headers["idempotent-replayed"] == "true"
    assert second.headers["location"] == first.headers["location"]
    assert row_counts(server) == rows


def test_the_same_key_with_another_fnol_is_422(api: Api, world: World) -> None:
    key = f"fnol-{uuid.uuid4()}"
    created(post_files(api, form(world), **{"Idempotency-Key": key}))
    other = fnol(world, damageNotification={**DAMAGE, "description": "fire"})
    response = post_files(api, form(world, other), **{"Idempotency-Key": key})
    assert_error(response, 422, "IdempotencyKeyReused")


# -- refusals, in §10.2's order, each leaving nothing behind -------------------------------


@pytest.mark.usefixtures("nothing_left_behind")
def test_no_bearer_token_is_401(api: Api, world: World) -> None:
    response = httpx.post(f"{api.server.url}{FNOL_URL}", files=form(world), timeout=60)
    assert_error(response, 401, "Unauthorized")


@pytest.mark.usefixtures("nothing_left_behind")
def test_a_token_without_the_write_scope_is_403(
    api: Api, world: World, server: ServerProcess
) -> None:
    reader = secret_token(server, "read-only-client", world.secret)
    response = httpx.post(
        f"{api.server.url}{FNOL_URL}",
        files=form(world),
        headers={"Authorization": f"Bearer {reader}"},
        timeout=60,
    )
    assert_error(response, 403, "Forbidden")


@pytest.mark.usefixtures("nothing_left_behind")
@pytest.mark.parametrize("content_type", ["application/json", "multipart/alternative; boundary=x"])
def test_another_content_type_is_415(api: Api, world: World, content_type: str) -> None:
    """§10.2: multipart/form-data, mixed or related only."""
    response = post_raw(api, json.dumps(fnol(world)).encode(), content_type)
    assert_error(response, 415, "GenericError", "multipart/form-data, multipart/mixed")


@pytest.mark.usefixtures("nothing_left_behind")
def test_a_multipart_type_without_boundary_is_400(api: Api, world: World) -> None:
    """§10: the boundary parameter is required."""
    response = post_raw(api, b"", "multipart/form-data")
    assert_error(response, 400, "InvalidRequest", "boundary")


@pytest.mark.usefixtures("nothing_left_behind")
def test_no_fnol_part_is_400(api: Api, world: World) -> None:
    parts = [("photo1", ("kitchen.jpg", PHOTO, "image/jpeg"))]
    response = post_files(api, parts)
    assert_error(response, 400, "InvalidRequest", f"no part of type {FNOL_TYPE}")


@pytest.mark.usefixtures("nothing_left_behind")
def test_two_fnol_parts_are_400(api: Api, world: World) -> None:
    parts = [*form(world), ("fnol2", (None, json.dumps(fnol(world)).encode(), FNOL_TYPE))]
    response = post_files(api, parts)
    assert_error(response, 400, "InvalidRequest", "part 2 ('fnol2'): a second part of type")


@pytest.mark.usefixtures("nothing_left_behind")
def test_an_attachment_without_a_filename_is_400(api: Api, world: World) -> None:
    parts = [*form(world, photo=False), ("photo1", (None, PHOTO, "image/jpeg"))]
    response = post_files(api, parts)
    assert_error(response, 400, "InvalidRequest", "part 1 ('photo1'): an attachment needs")


@pytest.mark.usefixtures("nothing_left_behind")
def test_an_attachments_entry_naming_no_part_is_400(api: Api, world: World) -> None:
    document = fnol(world, attachments=[{"part": "photo9"}])
    response = post_files(api, form(world, document))
    assert_error(
        response, 400, "InvalidRequest", "attachments[0].part: names no attachment part", "photo9"
    )


@pytest.mark.usefixtures("nothing_left_behind")
def test_an_invalid_security_token_is_401(api: Api, world: World) -> None:
    document = fnol(world, securityToken=world.other_security_token)
    response = post_files(api, form(world, document))
    assert_error(response, 401, "InvalidSecurityToken", "securityToken")


@pytest.mark.usefixtures("nothing_left_behind")
def test_an_unknown_user_is_404(api: Api, world: World) -> None:
    response = post_files(api, form(world, fnol(world, userEmail=world.inactive_email)))
    assert_error(response, 404, "UserNotFound", "userEmail", world.inactive_email)


@pytest.mark.usefixtures("nothing_left_behind")
@pytest.mark.parametrize("alias", ["nope", "other"])
def test_an_unknown_or_unserved_alias_is_404(api: Api, world: World, alias: str) -> None:
    """§10.2: the alias unknown or not served by the partner, alike."""
    response = post_files(api, form(world, fnol(world, insuranceCompanyAlias=alias)))
    assert_error(
        response,
        404,
        "InsuranceCompanyNotFound",
        f"insuranceCompanyAlias: no insurance company '{alias}' served by this service partner",
    )


@pytest.mark.usefixtures("nothing_left_behind")
def test_a_schema_violation_is_400_naming_its_path(api: Api, world: World) -> None:
    """§10.2: the failing instance's JSON path and why."""
    document = fnol(world, damageNotification={**DAMAGE, "incidentDate": "2026-02-30"})
    response = post_files(api, form(world, document))
    assert_error(
        response,
        400,
        "InvalidRequest",
        'damageNotification.incidentDate: "2026-02-30" is not a valid date',
    )


@pytest.mark.usefixtures("nothing_left_behind")
def test_an_attachment_of_a_refused_type_is_415(api: Api, world: World) -> None:
    parts = [*form(world), ("tool", ("tool.exe", b"MZ", "application/octet-stream"))]
    response = post_files(api, parts)
    assert_error(response, 415, "GenericError", "part 2 ('tool') ('tool.exe')", "'.exe'")


@pytest.mark.usefixtures("nothing_left_behind")
def test_the_schema_is_checked_before_the_attachments_types(api: Api, world: World) -> None:
    """§10.2's order: the schema's 400 comes before an attachment's 415."""
    document = fnol(world, damageNotification={"description": "x"})
    parts = [*form(world, document), ("tool", ("tool.exe", b"MZ", "application/octet-stream"))]
    response = post_files(api, parts)
    assert_error(response, 400, "InvalidRequest", "damageNotification.incidentDate")


# -- the schema endpoint and the operator's schemas ----------------------------------------


def test_the_schema_endpoint_serves_the_default_without_a_token(api: Api) -> None:
    response = httpx.get(
        f"{api.server.url}{SCHEMA_URL}", params={"insuranceCompanyAlias": "company"}
    )
    assert response.status_code == 200
    schema = response.json()
    assert schema["required"] == ["incidentDate", "description"]
    assert schema["additionalProperties"] is False


def test_the_schema_endpoint_answers_404_for_an_unknown_alias(api: Api) -> None:
    response = httpx.get(f"{api.server.url}{SCHEMA_URL}", params={"insuranceCompanyAlias": "nope"})
    assert_error(response, 404, "InsuranceCompanyNotFound", "'nope'")


def test_the_schema_endpoint_needs_the_alias(api: Api) -> None:
    response = httpx.get(f"{api.server.url}{SCHEMA_URL}")
    assert_error(response, 400, "InvalidRequest", "insuranceCompanyAlias")


def test_a_tenant_schema_set_by_the_operator_is_served_and_enforced(
    api: Api, world: World, server: ServerProcess, tmp_path: Path
) -> None:
    """§10.2: ``tenant fnol-schema`` sets the schema in force; ``--reset`` restores the
    default."""
    schema = {
        "type": "object",
        "required": ["claimType"],
        "properties": {"claimType": {"enum": ["glass", "water"]}},
    }
    (tmp_path / "schema.json").write_text(json.dumps(schema))
    server.cli("tenant", "fnol-schema", "company", str(tmp_path / "schema.json"))
    try:
        served = httpx.get(
            f"{api.server.url}{SCHEMA_URL}", params={"insuranceCompanyAlias": "company"}
        )
        assert served.json() == schema
        response = post_files(api, form(world))
        assert_error(response, 400, "InvalidRequest", "damageNotification.claimType: required")
        created(
            post_files(api, form(world, fnol(world, damageNotification={"claimType": "glass"})))
        )
    finally:
        server.cli("tenant", "fnol-schema", "company", "--reset")
    shown = json.loads(server.cli("tenant", "fnol-schema", "company", "--show").stdout)
    assert shown["required"] == ["incidentDate", "description"]
    created(post_files(api, form(world)))


def test_a_large_attachment_streams_into_storage_exactly(
    api: Api, world: World, server: ServerProcess
) -> None:
    """§10, §6: an attachment of many batches arrives whole, hashed as it streamed."""
    data = PHOTO + hashlib.sha256(b"seed").digest() * (6 * 1024 * 1024 // 32)
    parts = [*form(world, photo=False), ("photo1", ("big.jpg", data, "image/jpeg"))]
    payload = created(post_files(api, parts))
    assert payload["files"][0]["sha256"] == hashlib.sha256(data).hexdigest()
    out = server.data_dir / "big.bin"
    server.cli("files", "get", payload["files"][0]["id"], "-o", str(out))
    assert out.read_bytes() == data


def test_a_dropped_connection_leaves_nothing_behind(
    api: Api, world: World, server: ServerProcess
) -> None:
    """§3.4 for §10.2: a body cut off mid-attachment stores no DN, row or blob."""
    rows, blobs = row_counts(server), server.blob_files()
    body = hand_built(
        part([f"Content-Type: {FNOL_TYPE}"], json.dumps(fnol(world)).encode()),
        part(
            ['Content-Disposition: form-data; name="photo1"; filename="a.jpg"'],
            b"x" * 3_000_000,
        ),
    )
    head = (
        f"POST {FNOL_URL} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.port}\r\n"
        f"Authorization: Bearer {api.token}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(head + body[: len(body) * 3 // 4])
        time.sleep(0.5)  # let the server stream part of it into staging
    deadline = time.monotonic() + 5
    while server.blob_files() != blobs and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.blob_files() == blobs
    assert row_counts(server) == rows
