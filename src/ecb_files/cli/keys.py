"""``ecb-files keys``: the server's token-signing keys."""

from __future__ import annotations

import click

from ecb_files.cli._common import runtime
from ecb_files.services.keys import published_keys, rotate_signing_key


@click.group()
def keys() -> None:
    """Token-signing keys (kept in the database, shared by every process)."""


@keys.command()
def rotate() -> None:
    """Make a new signing key; the old one stays published until its tokens expire.

    Example: ecb-files keys rotate
    """
    with runtime() as rt:
        kid, dropped = rotate_signing_key(
            rt.database, keep_seconds=rt.settings.token_lifetime_seconds
        )
    click.echo(f"new signing key {kid}")
    for old in dropped:
        click.echo(f"dropped expired key {old}")


@keys.command(name="list")
def list_keys() -> None:
    """Print the published signing keys, current first.

    Example: ecb-files keys list
    """
    with runtime() as rt:
        snapshot = published_keys(rt.database, keep_seconds=rt.settings.token_lifetime_seconds)
    click.echo(f"{snapshot.current.kid}\tcurrent")
    for key in snapshot.published:
        if key.kid != snapshot.current.kid:
            click.echo(f"{key.kid}\tpublished")
