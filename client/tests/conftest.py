"""Fixtures for the client's tests: real ecb-files servers, the test world, credentials.

The client's tests run against the server of this repository, so the repository root
goes on ``sys.path`` to reach its functional-test helpers (``ServerProcess``, ``World``).
Tests that need a server are skipped, with the reason, where the server package is not
importable (a client-only environment). Run them from the repository root with::

    .venv/bin/python -m pytest client/tests
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

try:
    import ecb_files_client  # noqa: F401
except ImportError:  # not installed: test the source tree, in subprocesses too
    CLIENT_SRC = str(REPO_ROOT / "client" / "src")
    sys.path.insert(0, CLIENT_SRC)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        filter(None, [CLIENT_SRC, os.environ.get("PYTHONPATH")])
    )

try:
    import ecb_files  # noqa: F401
    from tests.functional.server import ServerProcess
    from tests.functional.stack import STACK
    from tests.functional.world import World

    SERVER_IMPORT_ERROR: str | None = None
except ImportError as error:  # a client-only environment
    SERVER_IMPORT_ERROR = f"the ecb-files server is not importable ({error})"

from ecb_files_client import (  # noqa: E402
    ClientCredentials,
    ClientSecret,
    PrivateKeyJwt,
    RetryPolicy,
    SubmitClient,
    TokenCache,
)

SMALL_LIMITS = {
    "ECB_FILES_MAX_FILE_BYTES": "1000",
    "ECB_FILES_MAX_FILES_PER_REQUEST": "3",
    "ECB_FILES_MAX_REQUEST_BYTES": "20000",
    "ECB_FILES_BODY_IDLE_TIMEOUT": "5",
}
FAST_RETRY = RetryPolicy(max_attempts=4, initial_delay=0.05, max_delay=0.2)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-large",
        action="store_true",
        default=os.environ.get("ECB_FILES_RUN_LARGE") == "1",
        help="also run the tests marked 'large' (or set ECB_FILES_RUN_LARGE=1)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-large"):
        return
    skip = pytest.mark.skip(reason="large test: run with --run-large or ECB_FILES_RUN_LARGE=1")
    for item in items:
        if "large" in item.keywords:
            item.add_marker(skip)


def needs_server() -> None:
    if SERVER_IMPORT_ERROR is not None:
        pytest.skip(SERVER_IMPORT_ERROR)


@pytest.fixture(scope="session", autouse=True)
def _stack() -> Iterator[None]:
    """Drop the databases and buckets the servers of this run used (production stack)."""
    yield
    if SERVER_IMPORT_ERROR is None:
        STACK.close()


@pytest.fixture(scope="session")
def world() -> Any:
    needs_server()
    return World()


def start_server(tmp: Path, world: Any, env: dict[str, str] | None = None) -> Any:
    needs_server()
    server = ServerProcess(tmp / "data", env)
    server.cli("load", str(world.write_fixture(tmp / "fixture.json")))
    server.start()
    return server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, world: Any) -> Iterator[Any]:
    """An ecb-files server on its defaults, loaded with the test world."""
    process = start_server(tmp_path_factory.mktemp("server"), world)
    yield process
    process.stop()


@pytest.fixture(scope="session")
def small_server(tmp_path_factory: pytest.TempPathFactory, world: Any) -> Iterator[Any]:
    """A server with tiny limits (1000-byte files, 3 files, 20000-byte bodies)."""
    process = start_server(tmp_path_factory.mktemp("small"), world, SMALL_LIMITS)
    yield process
    process.stop()


@pytest.fixture(scope="session")
def key_files(tmp_path_factory: pytest.TempPathFactory, world: Any) -> tuple[Path, Path]:
    """``jwt-client``'s private key and certificate as PEM files."""
    folder = tmp_path_factory.mktemp("keys")
    key, cert = folder / "client.key", folder / "client.crt"
    key.write_bytes(world.cert_key.private_pem)
    cert.write_text(world.cert_key.certificate_pem)
    return key, cert


@pytest.fixture(scope="session")
def jwt_credentials(key_files: tuple[Path, Path]) -> ClientCredentials:
    return ClientCredentials("jwt-client", PrivateKeyJwt.from_pem_files(*key_files))


@pytest.fixture(scope="session")
def secret_credentials(world: Any) -> ClientCredentials:
    return ClientCredentials("secret-client", ClientSecret(world.secret))


@pytest.fixture
def client(server: Any, world: Any, jwt_credentials: ClientCredentials) -> Iterator[SubmitClient]:
    """A blocking client of ``jwt-client`` on the default server, with fast retries."""
    with SubmitClient(
        server.url,
        jwt_credentials,
        security_token=world.security_token,
        retry=FAST_RETRY,
        token_cache=TokenCache(),
    ) as submit_client:
        yield submit_client


@pytest.fixture
def cli_env(server: Any, world: Any, key_files: tuple[Path, Path]) -> dict[str, str]:
    """Environment for ``ecb-files-submit`` as ``jwt-client`` of the default server."""
    key, cert = key_files
    env = {k: v for k, v in os.environ.items() if not k.startswith("ECB_SUBMIT_")}
    env.update(
        ECB_SUBMIT_URL=server.url,
        ECB_SUBMIT_CLIENT_ID="jwt-client",
        ECB_SUBMIT_KEY=str(key),
        ECB_SUBMIT_CERT=str(cert),
        ECB_SUBMIT_SECURITY_TOKEN=world.security_token,
        ECB_SUBMIT_ALIAS="company",
        ECB_SUBMIT_EMAIL=world.email,
        # No config file from the developer's home directory.
        XDG_CONFIG_HOME=str(key.parent / "no-config"),
    )
    return env
