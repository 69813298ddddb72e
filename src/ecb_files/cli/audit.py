"""``ecb-files audit``: the audit trail of file reads and insurer actions (§12.3)."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta

import click

from ecb_files.cli._common import runtime, to_guid
from ecb_files.services.audit import AuditEntry, AuditTrail

_AGO = re.compile(r"(\d{1,9})([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


@click.group()
def audit() -> None:
    """Who read which file's bytes, and who merged, closed or reopened what, and when.

    Recorded by the API, the claims-handler page, and these commands: files get,
    case close|reopen, dn merge (docs/behaviour.md §12.3)."""


def _to_moment(_ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """Click callback: an ISO 8601 date or date-time (UTC unless it has an offset), or an
    age: ``30m``, ``24h``, ``7d``."""
    if value is None:
        return None
    text = value.strip()
    ago = _AGO.fullmatch(text)
    if ago is not None:
        return datetime.now(UTC) - timedelta(**{_UNITS[ago[2]]: int(ago[1])})
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(
            f"{value!r} is neither an ISO 8601 date-time nor an age like 24h or 7d",
            param=param,
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@audit.command(name="list")
@click.option("--file", "file_id", metavar="ID", callback=to_guid, help="Events of this file.")
@click.option(
    "--case",
    "case_id",
    metavar="ID",
    callback=to_guid,
    help="Events of this case: its actions and the reads of its files.",
)
@click.option(
    "--since",
    metavar="T",
    callback=_to_moment,
    help="Events from T on: ISO 8601 (2026-12-01, 2026-12-01T08:00:00Z) or an age (24h).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of events.")
def list_events(
    file_id: uuid.UUID | None,
    case_id: uuid.UUID | None,
    since: datetime | None,
    as_json: bool,
) -> None:
    """List audit events, oldest first; the options narrow the list and combine.

    An event has at, action (file.content, file.thumbnail, file.zip, file.export,
    dn.merge, case.close, case.reopen, ui.sign_in, ui.sign_in_refused, ui.sign_out),
    principalKind (client, user or operator), principal (client id, e-mail, or the
    operator's login name), tenantId,
    partnerId, fileId, caseId, damageNotificationId, address, requestId and detail.

    Example: ecb-files audit list --case 5d3c2b1a-0000-4000-8000-000000000001 --since 7d --json
    """
    with runtime() as rt:
        entries = AuditTrail(rt.database).entries(file_id=file_id, case_id=case_id, since=since)
    if as_json:
        click.echo(json.dumps([entry.as_json() for entry in entries], ensure_ascii=False, indent=2))
    else:
        _print_table(entries)


def _print_table(entries: list[AuditEntry]) -> None:
    if not entries:
        click.echo("no events")
        return
    for entry in entries:
        event = entry.as_json()
        what = event["fileId"] or event["damageNotificationId"] or event["caseId"] or "-"
        detail = f"  ({event['detail']})" if event["detail"] else ""
        click.echo(
            f"{event['at']}  {event['action']:<18}  {event['principalKind']} "
            f"{event['principal']}  {what}  from {event['address']}{detail}"
        )
