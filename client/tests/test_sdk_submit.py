"""Submitting with the SDK to a real server (§3): both endpoints, sync and
async, every kind of source, metadata, and what the result reports."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from client_support import named, stored_files
from ecb_files_client import (
    AsyncSubmitClient,
    ClientCredentials,
    SubmitClient,
    SubmitResult,
    TokenCache,
    Upload,
)


def _unique(name: str) -> str:
    stem, _, ext = name.rpartition(".")
    return f"{stem}-{uuid.uuid4().hex[:8]}.{ext}"


def test_submit_to_case_from_a_path_bytes_and_a_file_object(
    client: SubmitClient, server: Any, world: Any, tmp_path: Path
) -> None:
    """§3.3: files in request order with size and sha256, each matching what was sent."""
    photo = tmp_path / _unique("photo.JPG")
    photo.write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(300_000 - 4))  # a JPEG (§12.1)
    report = io.BytesIO(b"%PDF-1.7 report")
    names = [photo.name, _unique("notes.txt"), _unique("report.pdf")]
    result = client.submit_to_case(
        world.open_case,
        insurance_company_alias="company",
        user_email=world.email,
        files=[
            photo,
            Upload(b"some notes", file_name=names[1], description="kitchen, ø", is_restricted=True),
            Upload(report, file_name=names[2]),
        ],
    )
    assert [f.file_name for f in result.files] == names
    assert [f.size for f in result.files] == [300_000, 10, 15]
    assert result.files[0].sha256 == hashlib.sha256(photo.read_bytes()).hexdigest()
    assert result.all_sha256_match
    assert result.attempts == 1
    assert not result.replayed
    records = {
        r["fileName"]: r for r in named(stored_files(server, case=world.open_case), set(names))
    }
    assert records[names[0]]["contentType"] == "image/jpeg"  # from the extension, §4
    assert records[names[1]]["description"] == "kitchen, ø"
    assert records[names[1]]["isRestricted"] is True
    assert records[names[2]]["contentType"] == "application/pdf"
    assert {r["id"] for r in records.values()} == {f.id for f in result.files}


def test_submit_to_damage_notification_with_damage_images(
    client: SubmitClient, server: Any, world: Any
) -> None:
    name = _unique("dent.png")
    client.submit_to_damage_notification(
        world.open_dn,
        insurance_company_alias="company",
        user_email=world.email,
        files=[Upload(b"\x89PNG...", file_name=name, is_damage_image=True)],
    )
    [record] = named(stored_files(server, dn=world.open_dn), {name})
    assert record["isDamageImage"] is True


def test_flags_an_endpoint_ignores_are_refused_not_dropped(
    client: SubmitClient, world: Any
) -> None:
    """A DN's files become public when merged: asking for restricted is a mistake."""
    with pytest.raises(ValueError, match="is_restricted is honoured by submitForCase only"):
        client.submit_to_damage_notification(
            world.open_dn,
            insurance_company_alias="company",
            user_email=world.email,
            files=[Upload(b"x", file_name="a.txt", is_restricted=True)],
        )


def test_a_stream_of_unknown_size_goes_chunked(
    client: SubmitClient, server: Any, world: Any
) -> None:
    """A pipe has no size: the body is sent with chunked transfer encoding."""
    read_end, write_end = os.pipe()
    data = os.urandom(60_000)
    with os.fdopen(write_end, "wb") as writer:
        writer.write(data)  # fits in the pipe's buffer before anyone reads
    name = _unique("piped.bin.dat")
    with os.fdopen(read_end, "rb", buffering=0) as reader:
        result = client.submit_to_case(
            world.open_case,
            insurance_company_alias="company",
            user_email=world.email,
            files=[Upload(reader, file_name=name)],
        )
    assert result.files[0].size == 60_000
    assert result.files[0].sha256_matches


def test_the_same_key_and_body_again_is_replayed_not_stored_twice(
    client: SubmitClient, server: Any, world: Any
) -> None:
    """§3.4: a deliberate retry (same Idempotency-Key, same files) replays the answer."""
    name = _unique("once.txt")
    key = f"test-{uuid.uuid4()}"

    def send() -> SubmitResult:
        return client.submit_to_case(
            world.open_case,
            insurance_company_alias="company",
            user_email=world.email,
            files=[Upload(b"only once", file_name=name)],
            idempotency_key=key,
        )

    first, second = send(), send()
    assert (first.replayed, second.replayed) == (False, True)
    assert first.files == second.files
    assert len(named(stored_files(server, case=world.open_case), {name})) == 1


def test_async_client_submits_concurrently(
    server: Any, world: Any, jwt_credentials: ClientCredentials, tmp_path: Path
) -> None:
    """The asyncio twin: three submissions at once, each with its own file."""
    paths = []
    for index in range(3):
        path = tmp_path / _unique(f"async-{index}.jpg")
        path.write_bytes(b"\xff\xd8\xff\xe0" + os.urandom(2_000_000 + index))
        paths.append(path)

    async def submit_all() -> list[SubmitResult]:
        async with AsyncSubmitClient(
            server.url,
            jwt_credentials,
            security_token=world.security_token,
            token_cache=TokenCache(),
        ) as client:
            return await asyncio.gather(
                *(
                    client.submit_to_case(
                        world.open_case,
                        insurance_company_alias="company",
                        user_email=world.email,
                        files=[path],
                    )
                    for path in paths
                )
            )

    results = asyncio.run(submit_all())
    assert [r.files[0].file_name for r in results] == [p.name for p in paths]
    assert all(r.all_sha256_match for r in results)
    stored = named(stored_files(server, case=world.open_case), {p.name for p in paths})
    assert len(stored) == 3


def test_async_damage_notification(
    server: Any, world: Any, secret_credentials: ClientCredentials
) -> None:
    name = _unique("async-dn.txt")

    async def submit() -> SubmitResult:
        async with AsyncSubmitClient(
            server.url, secret_credentials, security_token=world.security_token
        ) as client:
            return await client.submit_to_damage_notification(
                world.open_dn,
                insurance_company_alias="company",
                user_email=world.email,
                files=[Upload(b"async", file_name=name)],
            )

    assert asyncio.run(submit()).files[0].file_name == name


def test_limits_are_read_from_the_server(client: SubmitClient) -> None:
    limits = client.limits()
    assert (limits.max_file_bytes, limits.max_files_per_request) == (104_857_600, 100)
