"""``ecb-files tenant``: insurance companies' settings (the FNoL schema of §10.2)."""

from __future__ import annotations

from pathlib import Path

import click

from ecb_files.cli._common import runtime
from ecb_files.services.fixtures import read_fixture_file
from ecb_files.services.tenants import (
    fnol_schema_in_force,
    reset_fnol_schema,
    schema_document,
    set_fnol_schema,
)


@click.group()
def tenant() -> None:
    """Insurance companies (tenants)."""


@tenant.command("fnol-schema")
@click.argument("alias")
@click.argument(
    "schema_file",
    metavar="[FILE.json]",
    required=False,
    type=click.Path(dir_okay=False, path_type=Path),
)
@click.option("--show", is_flag=True, help="Print the FNoL schema in force.")
@click.option("--reset", is_flag=True, help="Go back to the built-in default schema.")
def fnol_schema(alias: str, schema_file: Path | None, show: bool, reset: bool) -> None:
    """Set, show or reset an insurance company's FNoL schema.

    The schema (JSON Schema draft 2020-12) describes the damageNotification of the
    FNoLs partners send for this company; it may refer only to its own parts
    ('#/$defs/…'). An invalid schema is refused with exit code 2, an unknown alias
    with 1.

    \b
    Examples:
      ecb-files tenant fnol-schema company fnol-schema.json
      ecb-files tenant fnol-schema company --show
      ecb-files tenant fnol-schema company --reset
    """
    if (schema_file is not None) + show + reset != 1:
        raise click.UsageError("give exactly one of FILE.json, --show and --reset")
    with runtime() as rt:
        if show:
            schema, is_default = fnol_schema_in_force(rt.database, alias)
            click.echo(schema_document(schema))
            if is_default:
                click.echo(f"({alias}: the built-in default schema)", err=True)
        elif reset:
            reset_fnol_schema(rt.database, alias)
            click.echo(f"insurance company {alias!r} now uses the built-in default FNoL schema")
        else:
            assert schema_file is not None
            set_fnol_schema(rt.database, alias, read_fixture_file(schema_file))
            click.echo(f"insurance company {alias!r} now uses the FNoL schema of {schema_file}")
