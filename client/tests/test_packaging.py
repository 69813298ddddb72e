"""The client is its own distribution: three runtime dependencies, none of the server's."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

CLIENT_ROOT = Path(__file__).resolve().parents[1]
# Not "click": httpx imports it by itself where it happens to be installed (httpx's
# optional command line), as it is in the server's environment.
SERVER_ONLY = {
    "ecb_files",
    "fastapi",
    "starlette",
    "uvicorn",
    "sqlalchemy",
    "alembic",
    "pybase64",
    "argon2",
    "psycopg",
    "boto3",
    "botocore",
}


def test_runtime_dependencies_are_httpx_cryptography_and_joserfc() -> None:
    project = tomllib.loads((CLIENT_ROOT / "pyproject.toml").read_text())["project"]
    names = {d.split(">")[0].split("=")[0].split("[")[0] for d in project["dependencies"]}
    assert names == {"httpx", "cryptography", "joserfc"}
    assert project["scripts"] == {"ecb-files-submit": "ecb_files_client._cli.main:main"}


def test_importing_the_sdk_and_the_command_loads_nothing_of_the_server() -> None:
    code = (
        "import sys, ecb_files_client, ecb_files_client._cli.main; "
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert loaded & SERVER_ONLY == set()
    assert {"httpx", "cryptography", "joserfc"} <= loaded
