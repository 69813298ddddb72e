"""``ecb-files load``: create or update the objects of a fixture file."""

from __future__ import annotations

from pathlib import Path

import click

from ecb_files.cli._common import runtime
from ecb_files.services.fixtures import load_fixtures, read_fixture_file


@click.command()
@click.argument(
    "fixture_file",
    metavar="FILE.json",
    type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path),
)
def load(fixture_file: Path) -> None:
    """Create or update the objects in a fixture file; safe to run twice.

    The format is described in docs/fixtures.md. The whole file is checked first and
    loaded in one transaction: an invalid file (exit code 2, the message names the
    JSON path) writes nothing.

    Example: ecb-files load examples/demo-fixtures.json
    """
    with runtime() as rt:
        report = load_fixtures(rt.database, read_fixture_file(fixture_file))
    click.echo(report.summary())
