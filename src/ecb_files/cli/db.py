"""``ecb-files db``: the database schema."""

from __future__ import annotations

import click

from ecb_files.cli._common import runtime
from ecb_files.db.errors import safe_url
from ecb_files.db.migrate import current_revision


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
        revision = current_revision(rt.engine)
        click.echo(f"database {safe_url(rt.engine.url)} is at revision {revision}")
