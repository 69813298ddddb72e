"""New damage notifications from a first notice of loss (§10.2) with the SDK against a
real server: with and without attachments, idempotent retries, the schema, and every
refusal as its typed exception."""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from client_support import CuttingProxy, stored_files
from ecb_files_client import (
    ApiError,
    AsyncSubmitClient,
    ClientCredentials,
    DamageNotificationResult,
    GenericError,
    InsuranceCompanyNotFound,
    InvalidRequest,
    InvalidSecurityToken,
    LocalValidationError,
    RetryPolicy,
    SubmitClient,
    TokenCache,
    Upload,
    UserNotFound,
)

MIB = 1024 * 1024
FNOL = {"incidentDate": "2024-05-01", "description": "Water in the basement, ø"}


def _is_guid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


def _create(client: SubmitClient, world: Any, **kwargs: Any) -> DamageNotificationResult:
    arguments: dict[str, Any] = {
        "insurance_company_alias": "company",
        "user_email": world.email,
        **kwargs,
    }
    payload = arguments.pop("payload", FNOL)
    return client.create_damage_notification(payload, **arguments)


def test_a_damage_notification_with_attachments(
    client: SubmitClient, server: Any, world: Any, tmp_path: Path
) -> None:
    photo = tmp_path / "Küche ø.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(2 * MIB))
    result = _create(
        client,
        world,
        attachments=[
            Upload(photo, description="kitchen floor", is_damage_image=True),
            Upload(b"%PDF-1.7 invoice", file_name="invoice.pdf"),
        ],
    )
    assert _is_guid(result.id)
    assert result.location is not None
    assert result.location.endswith(f"/damageNotification/{result.id}")
    assert [f.file_name for f in result.files] == ["Küche ø.jpg", "invoice.pdf"]
    assert result.files[0].sha256 == hashlib.sha256(photo.read_bytes()).hexdigest()
    assert result.all_sha256_match
    assert result.attempts == 1
    assert not result.replayed
    records = {r["fileName"]: r for r in stored_files(server, dn=result.id)}
    assert set(records) == {"Küche ø.jpg", "invoice.pdf"}
    assert records["Küche ø.jpg"]["isDamageImage"] is True
    assert records["Küche ø.jpg"]["description"] == "kitchen floor"
    assert records["Küche ø.jpg"]["contentType"] == "image/jpeg"
    assert records["invoice.pdf"]["isDamageImage"] is False
    assert records["invoice.pdf"]["contentType"] == "application/pdf"
    # The new damage notification takes files like any other.
    client.submit_to_damage_notification(
        result.id,
        insurance_company_alias="company",
        user_email=world.email,
        files=[Upload(b"later", file_name="later.txt")],
    )
    assert len(stored_files(server, dn=result.id)) == 3


def test_a_damage_notification_without_attachments(
    client: SubmitClient, server: Any, world: Any
) -> None:
    result = _create(client, world)
    assert _is_guid(result.id)
    assert result.files == ()
    assert stored_files(server, dn=result.id) == []


def test_the_same_idempotency_key_gives_the_same_damage_notification_back(
    client: SubmitClient, server: Any, world: Any
) -> None:
    key = f"fnol-{uuid.uuid4()}"
    files = [Upload(b"photo", file_name="a.txt")]
    first = _create(client, world, attachments=files, idempotency_key=key)
    again = _create(client, world, attachments=files, idempotency_key=key)
    assert again.id == first.id
    assert again.replayed
    assert [f.id for f in again.files] == [f.id for f in first.files]
    assert len(stored_files(server, dn=first.id)) == 1


@pytest.mark.parametrize("mode", ["request", "response"])
def test_a_cut_connection_is_retried_into_one_damage_notification(
    server: Any, world: Any, jwt_credentials: ClientCredentials, tmp_path: Path, mode: str
) -> None:
    """Cut mid-body (nothing created yet) or after the answer left (created, answer
    lost): either way the retry, with the same key, ends with one damage notification."""
    path = tmp_path / "dent.bin.dat"
    path.write_bytes(os.urandom(2 * MIB))
    direct = ClientCredentials("jwt-client", jwt_credentials.auth, issuer=server.url)
    with (
        CuttingProxy(server.port, mode=mode, after_bytes=MIB) as proxy,
        SubmitClient(
            proxy.url,
            direct,
            security_token=world.security_token,
            retry=RetryPolicy(max_attempts=4, initial_delay=0.2, max_delay=1.0),
            token_cache=TokenCache(),
        ) as client,
    ):
        result = _create(client, world, attachments=[path])
    assert proxy.cuts_done == 1
    assert result.attempts == 2
    assert result.replayed is (mode == "response")
    assert result.all_sha256_match
    assert [r["fileName"] for r in stored_files(server, dn=result.id)] == [path.name]


def test_the_schema_in_force_is_public(client: SubmitClient) -> None:
    schema = client.damage_notification_schema("company")
    assert "incidentDate" in schema["properties"]
    with pytest.raises(InsuranceCompanyNotFound) as unknown:
        client.damage_notification_schema("no-such-company")
    assert unknown.value.status == 404


def test_a_payload_the_schema_refuses_names_the_failing_member(
    client: SubmitClient, world: Any
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        _create(client, world, payload={"description": "no date"})
    assert refused.value.status == 400
    assert "damageNotification" in refused.value.description
    assert "incidentDate" in refused.value.description
    with pytest.raises(InvalidRequest) as bad_date:
        _create(client, world, payload={**FNOL, "incidentDate": "2024-02-30"})
    assert "damageNotification.incidentDate" in bad_date.value.description


def test_the_servers_refusals_are_typed(client: SubmitClient, world: Any) -> None:
    with pytest.raises(InsuranceCompanyNotFound) as unknown:
        _create(client, world, insurance_company_alias="other")  # not served by the partner
    assert unknown.value.status == 404
    with pytest.raises(UserNotFound):
        _create(client, world, user_email="nobody@example.com")
    with pytest.raises(InvalidSecurityToken):
        _create(client, world, security_token=world.other_security_token)


def test_attachment_types_are_checked_locally_and_by_the_server(
    server: Any, world: Any, jwt_credentials: ClientCredentials
) -> None:
    attachment = Upload(b"MZ\x90\x00", file_name="tool.exe")
    for validate_locally in (True, False):
        with (
            SubmitClient(
                server.url,
                jwt_credentials,
                security_token=world.security_token,
                token_cache=TokenCache(),
                validate_locally=validate_locally,
            ) as client,
            pytest.raises(LocalValidationError if validate_locally else GenericError) as refused,
        ):
            _create(client, world, attachments=[attachment])
        assert getattr(refused.value, "status", None) == 415
        assert "tool.exe" in str(refused.value)
        if validate_locally:
            assert "part 1 ('attachment-0') ('tool.exe')" in str(refused.value)


def test_the_async_client_creates_one_too(
    server: Any, world: Any, jwt_credentials: ClientCredentials
) -> None:
    async def create() -> DamageNotificationResult:
        async with AsyncSubmitClient(
            server.url,
            jwt_credentials,
            security_token=world.security_token,
            token_cache=TokenCache(),
        ) as client:
            return await client.create_damage_notification(
                FNOL,
                insurance_company_alias="company",
                user_email=world.email,
                attachments=[Upload(b"async", file_name="async.txt", is_damage_image=True)],
            )

    result = asyncio.run(create())
    [record] = stored_files(server, dn=result.id)
    assert record["isDamageImage"] is True


FNOL_CASES: dict[str, dict[str, Any]] = {
    "securityToken not a GUID": {"security_token": "not-a-guid"},
    "alias empty": {"insurance_company_alias": ""},
    "e-mail without a domain": {"user_email": "nobody@localhost"},
    "attachment name with a slash": {"attachments": [Upload(b"x", file_name="dir/a.txt")]},
    "attachment empty": {"attachments": [Upload(b"", file_name="a.txt")]},
    "description too long": {
        "attachments": [Upload(b"x", file_name="a.txt", description="d" * 4001)]
    },
    "attachment type not allowed": {"attachments": [Upload(b"x", file_name="virus.exe")]},
    "content type not accepted": {
        "attachments": [Upload(b"x", file_name="a.jpg", content_type="text/plain")]
    },
}
SMALL_FNOL_CASES: dict[str, dict[str, Any]] = {
    "attachment over maxFileBytes": {"attachments": [Upload(b"x" * 1001, file_name="big.txt")]},
    "more than maxFilesPerRequest attachments": {
        "attachments": [Upload(b"x", file_name=f"{i}.txt") for i in range(4)]
    },
}


def _local_and_remote(
    server: Any, world: Any, credentials: ClientCredentials, overrides: dict[str, Any]
) -> tuple[LocalValidationError, ApiError]:
    answers: list[Exception] = []
    for validate_locally in (True, False):
        with (
            SubmitClient(
                server.url,
                credentials,
                security_token=world.security_token,
                validate_locally=validate_locally,
                token_cache=TokenCache(),
            ) as client,
            pytest.raises((LocalValidationError, ApiError)) as caught,
        ):
            _create(client, world, **overrides)
        answers.append(caught.value)
    local, remote = answers
    assert isinstance(local, LocalValidationError), local
    assert isinstance(remote, ApiError), remote
    return local, remote


@pytest.mark.parametrize("case", FNOL_CASES)
def test_local_refusals_of_a_damage_notification_match_the_server(
    case: str, server: Any, world: Any, secret_credentials: ClientCredentials
) -> None:
    local, remote = _local_and_remote(server, world, secret_credentials, FNOL_CASES[case])
    assert local.description == remote.description
    assert (local.error_type, local.status) == (remote.error_type, remote.status)


@pytest.mark.parametrize("case", SMALL_FNOL_CASES)
def test_local_refusals_at_the_servers_limits_match_the_server(
    case: str, small_server: Any, world: Any, secret_credentials: ClientCredentials
) -> None:
    local, remote = _local_and_remote(
        small_server, world, secret_credentials, SMALL_FNOL_CASES[case]
    )
    assert local.description == remote.description
    assert (local.error_type, local.status) == (remote.error_type, remote.status)


def test_attachment_names_survive_the_part_headers(
    client: SubmitClient, server: Any, world: Any
) -> None:
    """A new damage notification's file names travel only in Content-Disposition: plain
    quoted, or RFC 5987 filename* beyond plain ASCII and for quotes and backslashes."""
    names = [
        "semi;colon=x.txt",
        "per%20cent.txt",
        'say "cheese".jpg',
        "Ærø ø 日本.pdf",
        "spaces  and 'single'.txt",
    ]
    # Each starts as what its name says (§12.1): a JPEG, a PDF, or text.
    heads = {"jpg": b"\xff\xd8\xff\xe0", "pdf": b"%PDF-1.7"}
    attachments = [Upload(heads.get(n.rpartition(".")[2], b"x"), file_name=n) for n in names]
    result = _create(client, world, attachments=attachments)
    assert [f.file_name for f in result.files] == names
    assert sorted(r["fileName"] for r in stored_files(server, dn=result.id)) == sorted(names)
