"""``ecb-files dn``: damage notifications."""

from __future__ import annotations

import uuid

import click

from ecb_files.cli._common import runtime, to_guid
from ecb_files.services.cases import merge_damage_notification


@click.group()
def dn() -> None:
    """Damage notifications (first notices of loss created by service partners)."""


@dn.command()
@click.argument("dn_id", metavar="DN_ID", callback=to_guid)
@click.argument("case_id", metavar="CASE_ID", callback=to_guid)
def merge(dn_id: uuid.UUID, case_id: uuid.UUID) -> None:
    """Merge a damage notification into a case: its files move to the case, all public.

    Merging again into the same case is a no-op; a DN merged into another case, or a
    case of another insurance company, is refused (exit code 1).

    \b
    Example:
      ecb-files dn merge 7b0e6f7e-0000-4000-8000-000000000001 \
          5d3c2b1a-0000-4000-8000-000000000001
    """
    with runtime() as rt:
        result = merge_damage_notification(rt.database, dn_id, case_id, rt.operator)
    if result.already_merged:
        click.echo(f"damage notification {dn_id} was already merged into case {case_id}")
    else:
        click.echo(
            f"damage notification {dn_id} merged into case {case_id} ({result.files} file(s) moved)"
        )
