"""Every command explains itself with a description and an example (§5)."""

from __future__ import annotations

import pytest
from tests.functional.cli.conftest import Cli

COMMANDS = [
    [],
    ["serve"],
    ["demo"],
    ["db"],
    ["db", "upgrade"],
    ["load"],
    ["tenant"],
    ["tenant", "fnol-schema"],
    ["case"],
    ["case", "close"],
    ["case", "reopen"],
    ["dn"],
    ["dn", "merge"],
    ["files"],
    ["files", "list"],
    ["files", "get"],
    ["gc"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "ecb-files")
def test_help(cli: Cli, command: list[str]) -> None:
    result = cli.ok(*command, "--help")
    assert result.stdout.startswith("Usage: ecb-files")
    if len(command) != 1:  # groups list their commands; commands show an example
        assert "Example" in result.stdout


def test_main_help_documents_the_exit_codes(cli: Cli) -> None:
    out = cli.ok("--help").stdout
    assert "1  the operation failed" in out
    assert "2  bad usage or bad input" in out
    for command in ("serve", "db", "load", "tenant", "case", "dn", "files", "gc", "keys"):
        assert f"  {command} " in out


def test_unknown_command_is_a_usage_error(cli: Cli) -> None:
    result = cli("frobnicate")
    assert result.returncode == 2
    assert "No such command 'frobnicate'" in result.stderr


def test_bad_configuration_is_bad_input(cli: Cli) -> None:
    result = cli("db", "upgrade", env={"ECB_FILES_MAX_FILE_BYTES": "lots"})
    assert result.returncode == 2
    assert "ECB_FILES_MAX_FILE_BYTES must be a whole number, got 'lots'" in result.stderr
    assert "Traceback" not in result.stderr
