"""A connection cut mid-body, or an answer lost after the files were stored: the retry
stores the files exactly once (§3.4: all or nothing, idempotent retries)."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path
from typing import Any

from client_support import CuttingProxy, named, run_cli, stored_files
from ecb_files_client import (
    AsyncSubmitClient,
    ClientCredentials,
    RetryPolicy,
    SubmitClient,
    SubmitResult,
    TokenCache,
)

MIB = 1024 * 1024
RETRY = RetryPolicy(max_attempts=6, initial_delay=0.2, max_delay=1.0)


def _files(tmp_path: Path, count: int = 2, size: int = 6 * MIB) -> list[Path]:
    paths = []
    for index in range(count):
        path = tmp_path / f"cut-{uuid.uuid4().hex[:8]}-{index}.bin.dat"
        path.write_bytes(os.urandom(size))
        paths.append(path)
    return paths


def _submit_via(
    proxy: CuttingProxy, server: Any, world: Any, credentials: ClientCredentials, files: list[Path]
) -> SubmitResult:
    # Tokens straight from the server: the proxy stands only in front of the API.
    direct = ClientCredentials(credentials.client_id, credentials.auth, issuer=server.url)
    with SubmitClient(
        proxy.url,
        direct,
        security_token=world.security_token,
        retry=RETRY,
        token_cache=TokenCache(),
    ) as client:
        return client.submit_to_case(
            world.open_case,
            insurance_company_alias="company",
            user_email=world.email,
            files=files,
        )


def test_a_body_cut_midway_is_sent_again_and_stored_once(
    server: Any, world: Any, jwt_credentials: ClientCredentials, tmp_path: Path
) -> None:
    files = _files(tmp_path)
    with CuttingProxy(server.port, mode="request", after_bytes=5 * MIB) as proxy:
        result = _submit_via(proxy, server, world, jwt_credentials, files)
    assert proxy.cuts_done == 1
    assert result.attempts >= 2
    assert not result.replayed  # the first attempt never reached the server whole
    assert result.all_sha256_match
    stored = named(stored_files(server, case=world.open_case), {p.name for p in files})
    assert sorted(r["fileName"] for r in stored) == sorted(p.name for p in files)


def test_an_answer_lost_after_storing_is_replayed_not_stored_again(
    server: Any, world: Any, jwt_credentials: ClientCredentials, tmp_path: Path
) -> None:
    files = _files(tmp_path, count=1, size=2 * MIB)
    with CuttingProxy(server.port, mode="response", after_bytes=MIB) as proxy:
        result = _submit_via(proxy, server, world, jwt_credentials, files)
    assert proxy.cuts_done == 1
    assert result.attempts == 2
    assert result.replayed  # the server had stored them: it answers the retry from memory
    assert result.all_sha256_match
    assert len(named(stored_files(server, case=world.open_case), {files[0].name})) == 1


def test_the_command_retries_a_cut_body_and_says_so(
    server: Any, world: Any, cli_env: dict[str, str], tmp_path: Path
) -> None:
    """Plain progress lines show the failed attempt and the retry."""
    files = _files(tmp_path, count=1, size=4 * MIB)
    with CuttingProxy(server.port, mode="request", after_bytes=2 * MIB) as proxy:
        env = {**cli_env, "ECB_SUBMIT_URL": proxy.url, "ECB_SUBMIT_ISSUER": server.url}
        done = run_cli("case", "--id", world.open_case, "--json", str(files[0]), env=env)
    assert done.returncode == 0, done.stderr
    assert "attempt 1 failed:" in done.stderr
    assert "attempt 2: sending 1 file (4.0 MiB)" in done.stderr
    assert len(named(stored_files(server, case=world.open_case), {files[0].name})) == 1


def test_the_async_client_retries_a_cut_body_too(
    server: Any, world: Any, jwt_credentials: ClientCredentials, tmp_path: Path
) -> None:
    """Same flow, asyncio driver: the half-read files are closed, the retry stores once."""
    files = _files(tmp_path, count=2, size=3 * MIB)
    direct = ClientCredentials("jwt-client", jwt_credentials.auth, issuer=server.url)

    async def submit(proxy: CuttingProxy) -> SubmitResult:
        async with AsyncSubmitClient(
            proxy.url,
            direct,
            security_token=world.security_token,
            retry=RETRY,
            token_cache=TokenCache(),
        ) as client:
            return await client.submit_to_case(
                world.open_case,
                insurance_company_alias="company",
                user_email=world.email,
                files=files,
            )

    with CuttingProxy(server.port, mode="request", after_bytes=4 * MIB) as proxy:
        result = asyncio.run(submit(proxy))
    assert proxy.cuts_done == 1
    assert result.attempts >= 2
    assert result.all_sha256_match
    stored = named(stored_files(server, case=world.open_case), {p.name for p in files})
    assert len(stored) == 2
