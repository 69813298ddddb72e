"""``ecb-files user``: insurer users, the claims handlers and viewers (§11.1, §11.3)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ecb_files.cli._common import BadInput, runtime
from ecb_files.domain.rules import email_problem
from ecb_files.services.insurer_users import ROLES, UserRecord, add_user, disable_user, list_users


def _email(_ctx: click.Context, param: click.Parameter, value: str) -> str:
    problem = email_problem(value)
    if problem is not None:
        raise click.BadParameter(f"{value!r} is not an e-mail address: {problem}", param=param)
    return value


@click.group()
def user() -> None:
    """Insurer users: people of one insurance company who sign in to /ui/ (handlers may
    merge damage notifications and close or reopen cases; viewers only read)."""


@user.command()
@click.option("--tenant", required=True, metavar="ALIAS", help="The insurance company's alias.")
@click.option("--email", required=True, callback=_email, help="Sign-in address (any case).")
@click.option("--role", type=click.Choice(ROLES), default="handler", show_default=True)
@click.option(
    "--password-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read the password from the first line of this file (else stdin, or a prompt).",
)
def add(tenant: str, email: str, role: str, password_file: Path | None) -> None:
    """Add a user; the password is stored as an argon2id hash only.

    Example: printf '%s\\n' 'a long passphrase' | ecb-files user add --tenant company
    --email handler@company.example --role handler
    """
    password = _read_password(password_file)
    with runtime() as rt:
        added = add_user(rt.database, tenant, email, password, role)
    click.echo(f"added {added.role} {added.email} to {added.tenant_alias}")


@user.command()
@click.option("--tenant", required=True, metavar="ALIAS", help="The insurance company's alias.")
@click.option("--email", required=True, callback=_email, help="The user's address (any case).")
def disable(tenant: str, email: str) -> None:
    """Disable a user: no more sign-ins (the row and its history stay).

    Example: ecb-files user disable --tenant company --email handler@company.example
    """
    with runtime() as rt:
        disabled = disable_user(rt.database, tenant, email)
    click.echo(f"disabled {disabled.email} at {disabled.tenant_alias}")


@user.command(name="list")
@click.option("--tenant", metavar="ALIAS", help="Only this insurance company's users.")
@click.option("--json", "as_json", is_flag=True, help="A JSON array instead of lines.")
def list_(tenant: str | None, as_json: bool) -> None:
    """List users: insuranceCompany, email, role, active (never a password hash).

    Example: ecb-files user list --tenant company --json
    """
    with runtime() as rt:
        users = list_users(rt.database, tenant)
    if as_json:
        click.echo(json.dumps([u.as_json() for u in users], ensure_ascii=False, indent=2))
        return
    for record in users:
        click.echo(_line(record))


def _line(record: UserRecord) -> str:
    state = "active" if record.active else "disabled"
    return f"{record.tenant_alias}\t{record.email}\t{record.role}\t{state}"


def _read_password(password_file: Path | None) -> str:
    if password_file is not None:
        try:
            text = password_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise BadInput(f"--password-file {password_file}: cannot be read ({error})") from None
        password = text.splitlines()[0] if text else ""
    elif sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise BadInput("the password must not be empty")
    return password
