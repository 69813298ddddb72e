"""``ecb-files db``: the database schema."""

from __future__ import annotations

import click

from ecb_files.cli._common import runtime


@click.group()
def db() -> None:
    """The database schema."""


@db.command()
def upgrade() -> None:
    """Apply every pending migration (a no-op on a current database).

    Example: ecb-files db upgrade
    """
    # runtime() migrates before it yields; all that is left is to report.
    with runtime() as rt:
        revision = rt.database.revision()
        click.echo(f"database {rt.database.display_url} is at revision {revision}")
