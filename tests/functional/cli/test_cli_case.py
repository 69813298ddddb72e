"""``ecb-files case close|reopen ID`` (§5)."""

from __future__ import annotations

import pytest
from tests.functional.cli.conftest import CLOSED_CASE, OPEN_CASE, Cli, assert_clean_failure


def test_close_then_reopen(demo_cli: Cli) -> None:
    assert demo_cli.ok("case", "close", OPEN_CASE).stdout == f"case {OPEN_CASE} is now closed\n"
    assert demo_cli.ok("case", "reopen", OPEN_CASE).stdout == f"case {OPEN_CASE} is now open\n"


def test_closing_a_closed_case_succeeds_and_says_so(demo_cli: Cli) -> None:
    assert "was already closed" in demo_cli.ok("case", "close", CLOSED_CASE).stdout


def test_guid_in_upper_case_is_accepted(demo_cli: Cli) -> None:
    demo_cli.ok("case", "close", OPEN_CASE.upper())


@pytest.mark.parametrize("action", ["close", "reopen"])
def test_unknown_case_exits_1(demo_cli: Cli, action: str) -> None:
    unknown = "5d3c2b1a-0000-4000-8000-0000000000ff"
    assert_clean_failure(demo_cli("case", action, unknown), 1, f"no case with id {unknown}")


def test_malformed_guid_exits_2_naming_it(cli: Cli) -> None:
    assert_clean_failure(cli("case", "close", "CN-1001"), 2, "'CN-1001' is not a GUID")
