"""The FNoL use case (``FnolService``) against a real database and a real local blob store:
§10.2's answers in their order, all or nothing, the payload kept as sent, and
idempotent retries through the shared attempt (§3.4)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.db_support import CLIENT_ID, EMAIL, INACTIVE_EMAIL, PARTNER, PARTNER_TOKEN, seed_world

from ecb_files.config import Settings
from ecb_files.db import models
from ecb_files.errors import (
    EcbError,
    InsuranceCompanyNotFound,
    InvalidRequest,
    InvalidSecurityToken,
    UnsupportedMediaType,
    UserNotFound,
)
from ecb_files.services.attempt import Answer
from ecb_files.services.bearer import Principal
from ecb_files.services.container import Services
from ecb_files.services.tenants import set_fnol_schema

PRINCIPAL = Principal(CLIENT_ID, frozenset({"platform-service-provider:write"}), time.time() + 3600)
BOUNDARY = "svc-boundary"
DAMAGE = '{"incidentDate": "2026-11-28",  "description": "storm"}'


@pytest.fixture
def services(database_url: str, tmp_path: Path) -> Iterator[Services]:
    # Every attachment to the blob store, so that the store shows what a request left.
    settings = Settings(data_dir=tmp_path / "data", database_url=database_url, small_file_bytes=0)
    built = Services.build(settings)
    seed_world(built.database)
    yield built
    built.close()


def body(
    *,
    attachment: tuple[str, str, bytes] | None = ("a.jpg", "image/jpeg", b"\xff\xd8jpg"),
    damage: str = DAMAGE,
    **fields: str,
) -> bytes:
    document = {
        "securityToken": str(PARTNER_TOKEN),
        "insuranceCompanyAlias": "company",
        "userEmail": EMAIL,
        **fields,
    }
    fnol = (
        json.dumps(document)[:-1]
        + f', "damageNotification": {damage}, '
        + ('"attachments": [{"part": "p", "isDamageImage": true}]}' if attachment else '"x": 0}')
    )
    parts = [
        f"--{BOUNDARY}\r\nContent-Type: application/vnd.casecreation+json\r\n\r\n".encode()
        + fnol.encode()
        + b"\r\n"
    ]
    if attachment is not None:
        name, kind, data = attachment
        head = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="p"; filename="{name}"'
            f"\r\nContent-Type: {kind}\r\n\r\n"
        )
        parts.append(head.encode() + data + b"\r\n")
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def drive(services: Services, raw: bytes, key: str | None = None) -> Answer:
    attempt = services.fnol.begin(PRINCIPAL, key, BOUNDARY)
    try:
        if attempt.holds_a_key:
            attempt.claim()
        return attempt.finish(raw)
    except BaseException:
        attempt.abandon()
        raise


def counts(services: Services) -> tuple[int, int, int, list[Path]]:
    with services.database.read() as unit:
        dns = unit.scalar(select(func.count()).select_from(models.DamageNotification))
        submissions = unit.scalar(select(func.count()).select_from(models.Submission))
        files = unit.scalar(select(func.count()).select_from(models.StoredFile))
    blobs = services.settings.data_dir / "blobs"
    stored = sorted(p for p in blobs.rglob("*") if p.is_file()) if blobs.exists() else []
    return int(dns or 0), int(submissions or 0), int(files or 0), stored


def test_an_fnol_creates_an_open_dn_of_the_tenant_and_partner(services: Services) -> None:
    """§10.2: 201; the DN open, the tenant's and partner's, its FNoL kept as sent."""
    answer = drive(services, body())
    assert answer.status == 201
    payload = json.loads(answer.body)["payload"]
    with services.database.read() as unit:
        dn = unit.get_one(models.DamageNotification, uuid.UUID(payload["id"]))
        assert (dn.partner_id, dn.company.alias, dn.merged_to_case_id) == (PARTNER, "company", None)
        assert dn.fnol == DAMAGE
        assert dn.created_at is not None
        [stored] = unit.scalars(select(models.StoredFile).where(models.StoredFile.dn_id == dn.id))
        assert (stored.file_name, stored.is_damage_image, stored.is_restricted) == (
            "a.jpg",
            True,
            False,
        )
        submission = unit.get_one(models.Submission, stored.submission_id)
        assert (submission.endpoint, submission.dn_id) == ("damageNotification", dn.id)


@pytest.mark.parametrize(
    ("raw", "refusal", "fragment"),
    [
        (
            body(securityToken=str(uuid.uuid4()), userEmail=INACTIVE_EMAIL),
            InvalidSecurityToken,
            "securityToken",
        ),
        (body(userEmail=INACTIVE_EMAIL, insuranceCompanyAlias="nope"), UserNotFound, "userEmail"),
        (
            body(insuranceCompanyAlias="other", damage="{}"),
            InsuranceCompanyNotFound,
            "no insurance company 'other' served by this service partner",
        ),
        (
            body(damage='{"incidentDate": "x"}', attachment=("a.exe", "image/jpeg", b"x")),
            InvalidRequest,
            "damageNotification.description: required field is missing",
        ),
        (body(attachment=("a.exe", "image/jpeg", b"x")), UnsupportedMediaType, "'.exe'"),
    ],
    ids=["token-first", "user-then", "tenant-then", "schema-then", "types-last"],
)
def test_the_order_of_errors_and_nothing_left_behind(
    services: Services, raw: bytes, refusal: type[EcbError], fragment: str
) -> None:
    """§10.2's order: token, user, tenant, schema, attachment types; nothing stays."""
    before = counts(services)
    with pytest.raises(refusal) as caught:
        drive(services, raw)
    assert fragment in caught.value.description
    assert counts(services) == before


def test_a_tenant_schema_is_enforced(services: Services) -> None:
    set_fnol_schema(services.database, "company", {"type": "object", "required": ["vin"]})
    with pytest.raises(InvalidRequest, match=r"damageNotification\.vin: required"):
        drive(services, body())
    assert drive(services, body(damage='{"vin": "WVW"}')).status == 201


def test_an_idempotent_retry_returns_the_same_dn_and_creates_nothing(services: Services) -> None:
    """§10.2, §3.4: the remembered answer is the 201 with the same DN id."""
    first = drive(services, body(), key="k-1")
    before = counts(services)
    second = drive(services, body(), key="k-1")
    assert (second.status, second.body, second.replayed) == (201, first.body, True)
    assert counts(services) == before


def test_a_remembered_refusal_is_replayed(services: Services) -> None:
    """§3.4: a 4xx is remembered too; the retry gets it again, creating nothing."""
    raw = body(insuranceCompanyAlias="other")
    with pytest.raises(InsuranceCompanyNotFound):
        drive(services, raw, key="k-2")
    answer = drive(services, raw, key="k-2")
    assert (answer.status, answer.replayed) == (404, True)
    assert json.loads(answer.body)["errorType"] == "InsuranceCompanyNotFound"


def test_an_fnol_without_attachments_is_kept(services: Services) -> None:
    answer = drive(services, body(attachment=None))
    assert json.loads(answer.body)["payload"]["files"] == []
