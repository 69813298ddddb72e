"""``ecb-files-submit --url`` against a server started without ``ECB_FILES_PUBLIC_URL``:
its issuer is where it listens, so discovery and ``private_key_jwt`` work as they are."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from client_support import run_cli, stored_files
from conftest import needs_server


def test_submit_to_a_server_on_its_own_port(
    tmp_path: Path, world: Any, key_files: tuple[Path, Path]
) -> None:
    needs_server()
    from tests.functional.server import ServerProcess

    server = ServerProcess(tmp_path / "data", public_url=False)
    server.cli("load", str(world.write_fixture(tmp_path / "fixture.json")))
    server.start()
    try:
        key, cert = key_files
        env = {k: v for k, v in os.environ.items() if not k.startswith("ECB_SUBMIT_")}
        env["XDG_CONFIG_HOME"] = str(tmp_path / "no-config")
        path = tmp_path / "own-port.txt"
        path.write_bytes(b"issued where it listens\n")
        done = run_cli(
            "case",
            "--url",
            f"http://127.0.0.1:{server.port}",
            "--client-id",
            "jwt-client",
            "--key",
            str(key),
            "--cert",
            str(cert),
            "--security-token",
            world.security_token,
            "--alias",
            "company",
            "--email",
            world.email,
            "--id",
            world.open_case,
            str(path),
            env=env,
        )
        assert done.returncode == 0, done.stderr
        assert "1 file(s) stored (attempt 1)" in done.stdout
        assert [r["fileName"] for r in stored_files(server, case=world.open_case)] == [path.name]
    finally:
        server.stop()
