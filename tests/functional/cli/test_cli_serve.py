"""`ecb-files serve` (§5): with no ECB_FILES_PUBLIC_URL, the public URL — the issuer, and
the token endpoint that assertions name as `aud` (§2, §8) — is where the server listens.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from tests.functional.cli.conftest import Cli, assert_clean_failure
from tests.functional.server import ServerProcess
from tests.functional.tokens import assertion_form, vendor_style_assertion
from tests.functional.world import World

EXTERNAL_URL = "https://files.example.test/ecb"


def startup_line(server: ServerProcess) -> str:
    return next(line for line in server.log_path.read_text().splitlines() if "ecb-files on" in line)


@pytest.mark.parametrize(
    "args",
    [
        pytest.param((), id="default-host"),
        pytest.param(("--host", "0.0.0.0", "--workers", "2"), id="any-address-two-workers"),
    ],
)
def test_without_a_public_url_the_issuer_is_where_serve_listens(
    tmp_path: Path, world: World, args: tuple[str, ...]
) -> None:
    """Discovery, the token endpoint and the start-up line name the port given to serve;
    on 0.0.0.0 (every address) the URL is the loopback one, in every worker."""
    server = ServerProcess(tmp_path / "data", public_url=False)
    server.cli("load", str(world.write_fixture(tmp_path / "fixture.json")))
    server.start(*args)
    try:
        token_endpoint = f"{server.url}/connect/token"
        # Several connections, so that with two workers both answer.
        for _ in range(6):
            document = httpx.get(f"{server.url}/.well-known/openid-configuration").json()
            assert document["issuer"] == server.url
            assert document["token_endpoint"] == token_endpoint
            assert document["jwks_uri"] == f"{server.url}/.well-known/openid-configuration/jwks"
            # An assertion naming the real token endpoint as aud gets a token.
            assertion = vendor_style_assertion(
                server, "jwt-client", world.cert_key.private_pem, world.cert_key.x5t
            )
            response = httpx.post(token_endpoint, data=assertion_form(assertion))
            assert response.status_code == 200, response.text
        line = startup_line(server)
        assert f"ecb-files on http://{args[1] if args else '127.0.0.1'}:{server.port} " in line
        assert f"(issuer {server.url})" in line
    finally:
        server.stop()


def test_a_configured_public_url_wins(tmp_path: Path, world: World) -> None:
    """Behind a proxy the operator names the public URL; serve's host and port do not."""
    server = ServerProcess(tmp_path / "data", {"ECB_FILES_PUBLIC_URL": EXTERNAL_URL + "/"})
    server.start()
    try:
        document = httpx.get(f"{server.url}/.well-known/openid-configuration").json()
        assert document["issuer"] == EXTERNAL_URL
        assert document["token_endpoint"] == f"{EXTERNAL_URL}/connect/token"
        assert f"(issuer {EXTERNAL_URL})" in startup_line(server)
    finally:
        server.stop()


def test_serve_demo_prints_a_curl_pair_for_its_own_port(tmp_path: Path) -> None:
    """What `./dev serve --port N` runs: the demo data is loaded and the printed commands,
    naming port N, submit a file once the server is up."""
    server = ServerProcess(tmp_path / "data", public_url=False)
    server.start("--demo")
    try:
        lines = server.log_path.read_text().splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith("TOKEN="))
        script = "\n".join(lines[start : start + 4])
        assert f"{server.url}/connect/token" in script
        assert f"{server.url}/ecx/host/api/integration/v1/file/submitForCase" in script
        assert ":8080" not in "\n".join(lines)
        result = subprocess.run(
            ["bash", "-c", script], capture_output=True, text=True, timeout=60, check=True
        )
        answer = json.loads(result.stdout)
        assert answer["success"] is True, answer
    finally:
        server.stop()


def test_port_0_is_refused_with_the_reason(cli: Cli) -> None:
    """An ephemeral port is not known before the workers start, so it could not be the
    issuer's: serve asks for a port instead of starting on one nobody can name."""
    try:
        result = subprocess.run(
            [sys.executable, "-m", "ecb_files.cli.main", "serve", "--port", "0"],
            env=cli.env,
            capture_output=True,
            text=True,
            timeout=30,
            cwd=cli.data_dir.parent,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("serve --port 0 started a server instead of refusing")
    assert_clean_failure(result, 2, "--port 0", "ECB_FILES_PUBLIC_URL")


def test_a_bad_configuration_is_bad_input(cli: Cli) -> None:
    """Like every other command (§5 exit codes): a message and 2, no stack trace."""
    result = cli("serve", env={"ECB_FILES_MAX_FILE_BYTES": "lots"})
    assert_clean_failure(result, 2, "ECB_FILES_MAX_FILE_BYTES must be a whole number")
