"""Every command with the database down and with the storage down (§5, §8).

A dependency that cannot be reached ends a command with exit code 1 and one line that
says which dependency, without a stack trace; commands that do not need it still work.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.functional.cli.conftest import (
    DEMO_FIXTURE,
    MERGED_DN,
    OPEN_CASE,
    OPEN_DN,
    Cli,
    assert_clean_failure,
)

# Nothing listens on port 1: connections are refused at once.
DATABASE_DOWN = {"ECB_FILES_DATABASE_URL": "postgresql://postgres@127.0.0.1:1/test"}
STORAGE_DOWN = {
    "ECB_FILES_STORAGE_URL": "s3://outage/files",
    "ECB_FILES_S3_ENDPOINT_URL": "http://127.0.0.1:1",
    "AWS_ACCESS_KEY_ID": "outage",
    "AWS_SECRET_ACCESS_KEY": "outage",
    "AWS_DEFAULT_REGION": "us-east-1",
}
FILE_ID = "00000000-0000-4000-8000-000000000001"


def command_lines(tmp: Path) -> list[list[str]]:
    return [
        ["db", "upgrade"],
        ["load", str(DEMO_FIXTURE)],
        ["tenant", "fnol-schema", "company", "--show"],
        ["tenant", "fnol-schema", "company", "--reset"],
        ["case", "close", OPEN_CASE],
        ["case", "reopen", OPEN_CASE],
        ["dn", "merge", OPEN_DN, OPEN_CASE],
        ["files", "list", "--case", OPEN_CASE, "--json"],
        ["files", "list", "--dn", MERGED_DN, "--json"],
        ["files", "get", FILE_ID, "-o", str(tmp / "out.bin")],
        ["audit", "list", "--case", OPEN_CASE, "--json"],
        ["gc"],
        ["keys", "list"],
        ["tenant", "fnol-schema", "company", "--show"],
        ["user", "list", "--json"],
        ["user", "disable", "--tenant", "company", "--email", "handler@company.example"],
        ["keys", "rotate"],
        ["demo"],
        ["serve", "--port", "1"],
    ]


def test_the_list_names_every_command(cli: Cli, tmp_path: Path) -> None:
    """§5: the outage list below covers every command group of ``ecb-files``."""
    listed = {args[0] for args in command_lines(tmp_path)}
    help_text = cli.ok("--help").stdout
    lines = help_text.split("Commands:", 1)[1].splitlines()
    groups = {line.split()[0] for line in lines if line.startswith("  ") and line.strip()}
    assert groups
    assert groups <= listed


@pytest.mark.parametrize("index", range(len(command_lines(Path("x")))))
def test_database_down_exits_1_naming_the_database(cli: Cli, tmp_path: Path, index: int) -> None:
    """§8: PostgreSQL refusing connections → exit 1, one line naming the database."""
    args = command_lines(tmp_path)[index]
    result = cli(*args, env=DATABASE_DOWN)
    assert_clean_failure(result, 1, "database", "127.0.0.1:1")
    assert not (tmp_path / "out.bin").exists()


def test_storage_down_fails_the_commands_that_need_it(demo_cli: Cli, tmp_path: Path) -> None:
    """§8: the S3 API unreachable → ``files get`` and ``gc`` exit 1 naming the storage;
    commands that only touch the database still work."""
    stored = demo_cli.add_file(case_id=OPEN_CASE)
    target = tmp_path / "copy.jpg"
    got = demo_cli("files", "get", str(stored.id), "-o", str(target), env=STORAGE_DOWN)
    assert_clean_failure(got, 1, "storage")
    assert not target.exists()
    assert_clean_failure(demo_cli("gc", env=STORAGE_DOWN), 1, "storage")
    listed = demo_cli("files", "list", "--case", OPEN_CASE, "--json", env=STORAGE_DOWN)
    assert listed.returncode == 0, listed.stderr
    closed = demo_cli("case", "close", OPEN_CASE, env=STORAGE_DOWN)
    assert closed.returncode == 0, closed.stderr
    audited = demo_cli("audit", "list", "--case", OPEN_CASE, "--json", env=STORAGE_DOWN)
    assert audited.returncode == 0, audited.stderr
