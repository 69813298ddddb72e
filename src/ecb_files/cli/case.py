"""``ecb-files case``: close and reopen cases."""

from __future__ import annotations

import uuid

import click

from ecb_files.cli._common import runtime, to_guid
from ecb_files.services.cases import StatusChange, close_case, reopen_case


@click.group()
def case() -> None:
    """Change a case's status (closed cases refuse new files with ClaimIsClosed)."""


@case.command()
@click.argument("case_id", metavar="ID", callback=to_guid)
def close(case_id: uuid.UUID) -> None:
    """Close a case.

    Example: ecb-files case close 5d3c2b1a-0000-4000-8000-000000000001
    """
    with runtime() as rt:
        _report(close_case(rt.database, case_id, rt.operator))


@case.command()
@click.argument("case_id", metavar="ID", callback=to_guid)
def reopen(case_id: uuid.UUID) -> None:
    """Reopen a closed case.

    Example: ecb-files case reopen 5d3c2b1a-0000-4000-8000-000000000001
    """
    with runtime() as rt:
        _report(reopen_case(rt.database, case_id, rt.operator))


def _report(change: StatusChange) -> None:
    if change.changed:
        click.echo(f"case {change.case_id} is now {change.status}")
    else:
        click.echo(f"case {change.case_id} was already {change.status}")
