"""Signing-key rotation keeps the old public key published (§2)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.functional.conftest import Api, file_entry, secret_token, submission
from tests.functional.server import ServerProcess
from tests.functional.world import World


@pytest.fixture
def own_server(tmp_path: Path, world: World) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path / "data")
    server.cli("load", str(world.write_fixture(tmp_path / "fixture.json")))
    server.start()
    yield server
    server.stop()


def published_kids(server: ServerProcess) -> set[str]:
    document = httpx.get(f"{server.url}/.well-known/openid-configuration/jwks").json()
    return {key["kid"] for key in document["keys"]}


def test_rotation_publishes_the_new_key_and_keeps_the_old_one(
    own_server: ServerProcess, world: World
) -> None:
    """§2: after `ecb-files keys rotate` both keys are in the JWKS; old tokens still work."""
    old_token = secret_token(own_server, "secret-client", world.secret)
    old_kids = published_kids(own_server)
    rotated = own_server.cli("keys", "rotate").stdout
    new_kid = rotated.split()[3]
    assert new_kid not in old_kids
    # The JWKS is read fresh from the database, at most once a second.
    deadline = time.monotonic() + 5
    while new_kid not in published_kids(own_server) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert published_kids(own_server) == old_kids | {new_kid}
    response = Api(own_server, old_token).case(submission(world, world.open_case, [file_entry()]))
    assert response.status_code == 200, response.text


def test_tokens_signed_by_a_key_rotated_in_by_another_process_verify(
    own_server: ServerProcess, world: World
) -> None:
    """§2/§6: a token signed with a key this process has not loaded yet is accepted."""
    own_server.cli("keys", "rotate")
    # A second process of the same deployment signs with the new key at once.
    other = ServerProcess(
        own_server.data_dir,
        {"ECB_FILES_PUBLIC_URL": own_server.url},
        deployment=own_server.deployment,
    )
    other.start()
    try:
        fresh = secret_token(other, "secret-client", world.secret)
    finally:
        other.stop()
    response = Api(own_server, fresh).case(submission(world, world.open_case, [file_entry()]))
    assert response.status_code == 200, response.text
