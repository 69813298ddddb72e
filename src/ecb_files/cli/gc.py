"""``ecb-files gc``: remove what no row refers to any more."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from ecb_files.cli._common import runtime
from ecb_files.services.gc import DEFAULT_MIN_AGE_SECONDS, collect_garbage


@click.command()
@click.option(
    "--min-age",
    "min_age",
    metavar="SECONDS",
    type=click.FloatRange(min=0),
    default=DEFAULT_MIN_AGE_SECONDS,
    show_default=True,
    help="Only remove blobs and temporary files older than this.",
)
def gc(min_age: float) -> None:
    """Remove orphaned blobs, stale temporary files and uploads, and expired records.

    A blob no file row refers to (left by a crash between storing and committing) is
    removed once it is older than --min-age; keep that well above the longest upload,
    and the command is safe while the service takes uploads.

    Example: ecb-files gc --min-age 7200
    """
    with runtime() as rt:
        report = collect_garbage(
            rt.database, rt.store(), min_age_seconds=min_age, now=datetime.now(UTC)
        )
    click.echo(report.summary())
