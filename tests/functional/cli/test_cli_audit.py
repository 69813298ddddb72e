"""``ecb-files audit list [--file ID | --case ID | --since T] [--json]`` (§12.3), on the
events the operator's own commands record (``files get``, ``case close|reopen``,
``dn merge``); the API's and the page's are in tests/functional/api/test_audit.py and
tests/functional/ui/test_ui_audit.py."""

from __future__ import annotations

import getpass
import json
import socket
from pathlib import Path
from typing import Any

from tests.functional.cli.conftest import OPEN_CASE, OPEN_DN, Cli, assert_clean_failure


def listed(cli: Cli, *options: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = json.loads(cli.ok("audit", "list", *options, "--json").stdout)
    return events


def test_an_empty_trail_is_an_empty_json_array(demo_cli: Cli) -> None:
    """§12.3: an empty trail is an empty json array."""
    assert listed(demo_cli) == []
    assert demo_cli.ok("audit", "list").stdout == "no events\n"


def test_operator_actions_are_listed_oldest_first_with_who_and_where(demo_cli: Cli) -> None:
    """§12.3: operator actions are listed oldest first with who and where."""
    demo_cli.ok("case", "close", OPEN_CASE)
    demo_cli.ok("case", "close", OPEN_CASE)
    demo_cli.ok("dn", "merge", OPEN_DN, OPEN_CASE)
    events = listed(demo_cli, "--case", OPEN_CASE)
    assert [(e["action"], e["detail"]) for e in events] == [
        ("case.close", ""),
        ("case.close", "no change"),
        ("dn.merge", ""),
    ]
    assert events[2]["damageNotificationId"] == OPEN_DN
    assert {(e["principalKind"], e["principal"]) for e in events} == {
        ("operator", getpass.getuser())
    }
    assert {e["address"] for e in events} == {socket.gethostname()}


def test_files_get_is_recorded_and_found_by_file(demo_cli: Cli, tmp_path: Path) -> None:
    """§12.3: files get is recorded and found by file."""
    stored = demo_cli.add_file(case_id=OPEN_CASE)
    other = demo_cli.add_file(case_id=OPEN_CASE)
    for file in (stored, other):
        demo_cli.ok("files", "get", str(file.id), "-o", str(tmp_path / f"{file.id}.bin"))
    events = listed(demo_cli, "--file", str(stored.id))
    assert [(e["action"], e["fileId"], e["caseId"]) for e in events] == [
        ("file.export", str(stored.id), OPEN_CASE)
    ]


def test_since_leaves_out_what_came_before(demo_cli: Cli) -> None:
    """§12.3: since leaves out what came before."""
    demo_cli.ok("case", "close", OPEN_CASE)
    assert len(listed(demo_cli, "--since", "1h")) == 1
    assert len(listed(demo_cli, "--since", "2000-01-01")) == 1
    assert listed(demo_cli, "--since", "2999-01-01T00:00:00Z") == []


def test_the_table_names_action_principal_and_object(demo_cli: Cli) -> None:
    """§12.3: the table names action principal and object."""
    demo_cli.ok("case", "reopen", OPEN_CASE)
    [line] = demo_cli.ok("audit", "list").stdout.splitlines()
    assert "case.reopen" in line
    assert f"operator {getpass.getuser()}" in line
    assert OPEN_CASE in line
    assert "(no change)" in line


def test_a_bad_since_exits_2_naming_it(cli: Cli) -> None:
    """§12.3: a bad since exits 2 naming it."""
    assert_clean_failure(cli("audit", "list", "--since", "yesterday"), 2, "'yesterday'")


def test_a_malformed_file_id_exits_2(cli: Cli) -> None:
    """§12.3: a malformed file id exits 2."""
    assert_clean_failure(cli("audit", "list", "--file", "nope"), 2, "'nope' is not a GUID")
