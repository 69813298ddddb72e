"""``ecb-files user add|disable|list`` (§11.3 operator)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.functional.cli.conftest import Cli, assert_clean_failure


def test_add_reads_the_password_from_stdin_and_lists_the_user(demo_cli: Cli) -> None:
    result = demo_cli(
        "user",
        "add",
        "--tenant",
        "company",
        "--email",
        "v@company.example",
        "--role",
        "viewer",
        input_text="pw\n",
    )
    assert result.stdout == "added viewer v@company.example to company\n"
    listed = json.loads(demo_cli.ok("user", "list", "--json").stdout)
    assert {
        "insuranceCompany": "company",
        "email": "v@company.example",
        "role": "viewer",
        "active": True,
    } in listed
    assert all("password" not in json.dumps(user) for user in listed)


def test_the_password_file_gives_the_first_line(demo_cli: Cli, tmp_path: Path) -> None:
    secret = tmp_path / "password"
    secret.write_text("from a file\nignored\n")
    demo_cli.ok(
        "user",
        "add",
        "--tenant",
        "company",
        "--email",
        "f@company.example",
        "--password-file",
        str(secret),
    )
    listed = json.loads(demo_cli.ok("user", "list", "--tenant", "company", "--json").stdout)
    assert any(u["email"] == "f@company.example" and u["role"] == "handler" for u in listed)


def test_an_empty_password_exits_2(demo_cli: Cli) -> None:
    result = demo_cli(
        "user", "add", "--tenant", "company", "--email", "e@company.example", input_text="\n"
    )
    assert_clean_failure(result, 2, "password must not be empty")


def test_an_address_taken_in_the_tenant_exits_1(demo_cli: Cli) -> None:
    result = demo_cli(
        "user",
        "add",
        "--tenant",
        "company",
        "--email",
        "HANDLER@company.example",
        input_text="pw\n",
    )
    assert_clean_failure(result, 1, "already has a user")


def test_an_unknown_tenant_exits_1(demo_cli: Cli) -> None:
    result = demo_cli(
        "user", "add", "--tenant", "nope", "--email", "x@company.example", input_text="pw\n"
    )
    assert_clean_failure(result, 1, "no insurance company with alias 'nope'")


def test_a_malformed_address_exits_2_naming_it(demo_cli: Cli) -> None:
    result = demo_cli("user", "add", "--tenant", "company", "--email", "nope", input_text="pw\n")
    assert_clean_failure(result, 2, "--email")


def test_disable_marks_the_user_inactive(demo_cli: Cli) -> None:
    result = demo_cli.ok(
        "user", "disable", "--tenant", "company", "--email", "Handler@Company.example"
    )
    assert result.stdout == "disabled handler@company.example at company\n"
    listed = json.loads(demo_cli.ok("user", "list", "--json").stdout)
    assert [u["active"] for u in listed if u["email"] == "handler@company.example"] == [False]


def test_disabling_an_unknown_user_exits_1(demo_cli: Cli) -> None:
    result = demo_cli("user", "disable", "--tenant", "company", "--email", "no@company.example")
    assert_clean_failure(result, 1, "no user 'no@company.example'")
