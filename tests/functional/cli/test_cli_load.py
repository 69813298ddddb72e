"""``ecb-files load FILE.json`` (§5, §9: works on a fresh data dir, twice)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.functional.cli.conftest import DEMO, DEMO_FIXTURE, Cli, assert_clean_failure


def test_load_on_a_fresh_data_dir(cli: Cli) -> None:
    result = cli.ok("load", str(DEMO_FIXTURE))
    assert result.stdout.startswith("loaded 1 insurance company (1 new)")
    assert "2 cases (2 new)" in result.stdout


def test_load_twice_creates_nothing_new(cli: Cli) -> None:
    cli.ok("load", str(DEMO_FIXTURE))
    again = cli.ok("load", str(DEMO_FIXTURE)).stdout
    assert "(1 new)" not in again
    assert "(2 new)" not in again
    assert "merged" not in again


def test_invalid_fixture_names_the_path_and_loads_nothing(cli: Cli, tmp_path: Path) -> None:
    document = json.loads(json.dumps(DEMO))
    document["servicePartners"][0]["securityToken"] = "not-a-guid"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document), encoding="utf-8")
    result = cli("load", str(bad))
    assert_clean_failure(result, 2, "servicePartners[0].securityToken: not a GUID ('not-a-guid')")


def test_nothing_is_written_by_a_refused_fixture(cli: Cli, tmp_path: Path) -> None:
    document = json.loads(json.dumps(DEMO))
    document["cases"][1]["insuranceCompany"] = "nobody"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(document), encoding="utf-8")
    assert_clean_failure(cli("load", str(bad)), 2, "cases[1].insuranceCompany: unknown")
    # The company came before the bad reference in the document, yet was not kept.
    first_good_load = cli.ok("load", str(DEMO_FIXTURE)).stdout
    assert "1 insurance company (1 new)" in first_good_load


def test_malformed_json_names_the_file_and_line(cli: Cli, tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text('{"cases": [\n', encoding="utf-8")
    assert_clean_failure(cli("load", str(bad)), 2, "broken.json: not valid JSON", "line 2")


def test_missing_file_is_a_usage_error(cli: Cli, tmp_path: Path) -> None:
    result = cli("load", str(tmp_path / "nope.json"))
    assert_clean_failure(result, 2, "nope.json")
