"""``ecb-files dn merge DN_ID CASE_ID`` (§1, §5)."""

from __future__ import annotations

import json

from tests.functional.cli.conftest import (
    CLOSED_CASE,
    MERGED_DN,
    OPEN_CASE,
    OPEN_DN,
    Cli,
    assert_clean_failure,
)


def test_merge_moves_the_files_and_makes_them_public(demo_cli: Cli) -> None:
    stored = demo_cli.add_file(dn_id=OPEN_DN, restricted=True)
    result = demo_cli.ok("dn", "merge", OPEN_DN, CLOSED_CASE)
    assert (
        result.stdout
        == f"damage notification {OPEN_DN} merged into case {CLOSED_CASE} (1 file(s) moved)\n"
    )
    records = json.loads(demo_cli.ok("files", "list", "--case", CLOSED_CASE, "--json").stdout)
    assert [(r["id"], r["isRestricted"]) for r in records] == [(str(stored.id), False)]


def test_after_a_merge_files_list_shows_the_files_under_the_case_only(demo_cli: Cli) -> None:
    """§1, §5: ``files list --dn`` after ``dn merge`` lists nothing (the files moved);
    ``files list --case`` lists them."""
    stored = demo_cli.add_file(dn_id=OPEN_DN)
    demo_cli.ok("dn", "merge", OPEN_DN, CLOSED_CASE)
    by_dn = json.loads(demo_cli.ok("files", "list", "--dn", OPEN_DN, "--json").stdout)
    by_case = json.loads(demo_cli.ok("files", "list", "--case", CLOSED_CASE, "--json").stdout)
    assert by_dn == []
    assert [r["id"] for r in by_case] == [str(stored.id)]


def test_merging_again_into_the_same_case_succeeds(demo_cli: Cli) -> None:
    assert "was already merged" in demo_cli.ok("dn", "merge", MERGED_DN, OPEN_CASE).stdout


def test_merging_into_another_case_exits_1(demo_cli: Cli) -> None:
    result = demo_cli("dn", "merge", MERGED_DN, CLOSED_CASE)
    assert_clean_failure(result, 1, f"already merged into case {OPEN_CASE}")


def test_unknown_dn_exits_1(demo_cli: Cli) -> None:
    unknown = "7b0e6f7e-0000-4000-8000-0000000000ff"
    result = demo_cli("dn", "merge", unknown, OPEN_CASE)
    assert_clean_failure(result, 1, f"no damage notification with id {unknown}")


def test_malformed_case_guid_exits_2_naming_it(cli: Cli) -> None:
    result = cli("dn", "merge", OPEN_DN, "not-a-case")
    assert_clean_failure(result, 2, "CASE_ID", "'not-a-case' is not a GUID")
