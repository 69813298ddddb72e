"""A bad configuration value ends every command with exit code 2 and one line (§5, §8)."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.functional.cli.conftest import Cli, assert_clean_failure
from tests.functional.cli.test_cli_outages import command_lines

BAD_SETTING = {"ECB_FILES_MAX_FILE_BYTES": "abc"}


@pytest.mark.parametrize("index", range(len(command_lines(Path("x")))))
def test_a_bad_setting_exits_2_naming_the_variable(cli: Cli, tmp_path: Path, index: int) -> None:
    """§8: ``ECB_FILES_MAX_FILE_BYTES=abc`` → exit 2 naming the variable, no stack trace
    (``serve`` and ``keys`` included)."""
    args = command_lines(tmp_path)[index]
    assert_clean_failure(cli(*args, env=BAD_SETTING), 2, "ECB_FILES_MAX_FILE_BYTES")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ECB_FILES_RATE_LIMIT", "600/day"),
        ("ECB_FILES_BYTE_RATE_LIMIT", "20GB/hour"),
        ("ECB_FILES_READ_RATE_LIMIT", "many"),
        ("ECB_FILES_AUTH_FAILURE_WINDOW", "5m"),
        ("ECB_FILES_TRUSTED_PROXIES", "proxy.internal"),
    ],
)
def test_a_bad_rate_limit_stops_serve_naming_the_variable(
    cli: Cli, tmp_path: Path, name: str, value: str
) -> None:
    """§12.2, §8: an invalid rate limit is a clear start-up error naming the variable."""
    result = cli("serve", "--port", "18123", env={name: value})
    assert_clean_failure(result, 2, name)
