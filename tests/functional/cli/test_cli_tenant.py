"""``ecb-files tenant fnol-schema ALIAS FILE.json | --show | --reset`` (§10.2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.functional.cli.conftest import Cli, assert_clean_failure

SCHEMA = {"type": "object", "required": ["claimType"], "properties": {"claimType": {}}}


def schema_file(tmp_path: Path, schema: Any, name: str = "schema.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(schema))
    return str(path)


def shown(cli: Cli) -> Any:
    return json.loads(cli.ok("tenant", "fnol-schema", "company", "--show").stdout)


def test_show_prints_the_default_until_one_is_set(demo_cli: Cli) -> None:
    result = demo_cli.ok("tenant", "fnol-schema", "company", "--show")
    assert json.loads(result.stdout)["required"] == ["incidentDate", "description"]
    assert "built-in default" in result.stderr


def test_set_then_show_then_reset(demo_cli: Cli, tmp_path: Path) -> None:
    result = demo_cli.ok("tenant", "fnol-schema", "company", schema_file(tmp_path, SCHEMA))
    assert "now uses the FNoL schema of" in result.stdout
    assert shown(demo_cli) == SCHEMA
    demo_cli.ok("tenant", "fnol-schema", "company", "--reset")
    assert shown(demo_cli)["required"] == ["incidentDate", "description"]


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"$ref": "https://example.com/s.json"}, "refers outside the schema"),
        ({"properties": {"a": {"$ref": "other.json#/x"}}}, "schema.properties.a.$ref"),
        ({"type": "thing"}, "schema.type"),
        ([1], "must be a JSON object"),
    ],
)
def test_an_invalid_schema_exits_2_and_changes_nothing(
    demo_cli: Cli, tmp_path: Path, schema: Any, message: str
) -> None:
    """§10.2: an invalid schema, or one with an outside $ref → exit 2, with the reason."""
    result = demo_cli("tenant", "fnol-schema", "company", schema_file(tmp_path, schema))
    assert_clean_failure(result, 2, message)
    assert shown(demo_cli)["required"] == ["incidentDate", "description"]


def test_a_file_that_is_not_json_exits_2(demo_cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{")
    result = demo_cli("tenant", "fnol-schema", "company", str(tmp_path / "broken.json"))
    assert_clean_failure(result, 2, "not valid JSON")


def test_an_unknown_alias_exits_1(demo_cli: Cli, tmp_path: Path) -> None:
    result = demo_cli("tenant", "fnol-schema", "nobody", "--show")
    assert_clean_failure(result, 1, "no insurance company with alias 'nobody'")


@pytest.mark.parametrize("args", [[], ["--show", "--reset"], ["x.json", "--show"]])
def test_exactly_one_action_is_required(demo_cli: Cli, args: list[str]) -> None:
    result = demo_cli("tenant", "fnol-schema", "company", *args)
    assert_clean_failure(result, 2, "give exactly one of FILE.json, --show and --reset")


def test_a_fixture_sets_and_resets_the_schema(demo_cli: Cli, tmp_path: Path) -> None:
    """§10.2: the fixture's insuranceCompanies[].fnolSchema does what the command does."""
    company = {"alias": "company", "name": "Company Insurance", "fnolSchema": SCHEMA}
    demo_cli.ok("load", schema_file(tmp_path, {"insuranceCompanies": [company]}, "f.json"))
    assert shown(demo_cli) == SCHEMA
    kept = {"alias": "company", "name": "Company Insurance"}  # no fnolSchema: kept as it is
    demo_cli.ok("load", schema_file(tmp_path, {"insuranceCompanies": [kept]}, "g.json"))
    assert shown(demo_cli) == SCHEMA
    company["fnolSchema"] = None
    demo_cli.ok("load", schema_file(tmp_path, {"insuranceCompanies": [company]}, "h.json"))
    assert shown(demo_cli)["required"] == ["incidentDate", "description"]


def test_a_fixture_with_an_invalid_schema_exits_2(demo_cli: Cli, tmp_path: Path) -> None:
    company = {"alias": "company", "name": "C", "fnolSchema": {"$ref": "http://x/y"}}
    result = demo_cli("load", schema_file(tmp_path, {"insuranceCompanies": [company]}))
    assert_clean_failure(result, 2, "insuranceCompanies[0].fnolSchema: schema.$ref")
