"""``ecb-files files``: list stored files and write their bytes out."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import click

from ecb_files.cli._common import BadInput, runtime, to_guid
from ecb_files.services.files import export_file, list_file_records


@click.group()
def files() -> None:
    """Stored files of cases and damage notifications."""


@files.command(name="list")
@click.option(
    "--case", "case_id", metavar="ID", callback=to_guid, help="List the files of this case."
)
@click.option(
    "--dn",
    "dn_id",
    metavar="ID",
    callback=to_guid,
    help="List the files of this damage notification.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of file records.")
def list_files(case_id: uuid.UUID | None, dn_id: uuid.UUID | None, as_json: bool) -> None:
    """List the files of a case or a damage notification (give exactly one), oldest first.

    A record has id, fileName, contentType, size, sha256, description, isRestricted,
    isDamageImage, uploadedBy (the employee's e-mail) and createdAt (ISO 8601 UTC).
    Files merged from a DN into a case are listed under the case only (they moved).

    Example: ecb-files files list --case 5d3c2b1a-0000-4000-8000-000000000001 --json
    """
    if (case_id is None) == (dn_id is None):
        raise click.UsageError("give exactly one of --case ID and --dn ID")
    with runtime() as rt:
        records = list_file_records(rt.database, case_id=case_id, dn_id=dn_id)
    if as_json:
        click.echo(json.dumps(records, ensure_ascii=False, indent=2))
    else:
        _print_table(records)


@files.command(name="get")
@click.argument("file_id", metavar="FILE_ID", callback=to_guid)
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    metavar="PATH",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where to write the file (replaced if it exists).",
)
def get_file(file_id: uuid.UUID, output: Path) -> None:
    """Write the stored bytes of a file, checked against its size and SHA-256.

    Nothing is written for an unknown id (exit code 1), and PATH is only replaced once
    the complete file has been verified.

    Example: ecb-files files get 0c1d2e3f-0000-4000-8000-000000000001 -o photo.jpg
    """
    if not output.parent.is_dir():
        raise BadInput(f"-o {output}: directory {output.parent} does not exist")
    with runtime() as rt:
        store = rt.store()
        try:
            row = export_file(rt.database, store, file_id, output, rt.operator)
        except OSError as error:
            reason = error.strerror or str(error)
            raise click.ClickException(
                f"cannot export file {file_id} to {output}: {reason}"
            ) from None
    click.echo(f"wrote {row.size} bytes to {output} (sha256 {row.sha256})")


def _print_table(records: list[dict[str, Any]]) -> None:
    if not records:
        click.echo("no files")
        return
    for record in records:
        restricted = "restricted" if record["isRestricted"] else "public"
        click.echo(
            f"{record['id']}  {record['createdAt']}  {record['size']:>12}  {restricted:<10}  "
            f"{record['uploadedBy']}  {record['fileName']}"
        )
