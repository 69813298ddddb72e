"""``ecb-files db upgrade`` (§5)."""

from __future__ import annotations

from tests.functional.cli.conftest import Cli, assert_clean_failure

from ecb_files.db.migrate import head_revision


def test_upgrade_creates_the_database_on_a_fresh_data_dir(cli: Cli) -> None:
    result = cli.ok("db", "upgrade")
    if "ECB_FILES_DATABASE_URL" not in cli.env:  # the embedded default: a file in the data dir
        assert (cli.data_dir / "ecb-files.sqlite3").is_file()
    assert f"is at revision {head_revision()}" in result.stdout


def test_upgrade_twice_is_fine(cli: Cli) -> None:
    cli.ok("db", "upgrade")
    assert f"is at revision {head_revision()}" in cli.ok("db", "upgrade").stdout


def test_unreachable_database_is_a_clean_failure(cli: Cli) -> None:
    result = cli(
        "db",
        "upgrade",
        env={"ECB_FILES_DATABASE_URL": "postgresql://ecb:pw@127.0.0.1:1/ecb?connect_timeout=2"},
    )
    assert_clean_failure(result, 1, "cannot use the database postgresql+psycopg://ecb:***@")
