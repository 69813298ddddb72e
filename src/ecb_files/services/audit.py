"""The audit trail (docs/behaviour.md §12.3): reads of a file's bytes and insurer actions.

What is recorded, one row each (``db/audit.py``):

- ``file.content``: a file's bytes sent (``…/content`` of the API, the page's download
  and preview); a 304 sends none and is not recorded; a range is named in ``detail``.
- ``file.thumbnail``: a thumbnail sent (it shows the picture); ``detail`` its size.
- ``file.zip``: one row per file put in a case's ZIP (``files.zip``), so the trail of
  a file lists every way its bytes left; ``detail`` names the archive's request.
- ``file.export``: an operator's ``ecb-files files get``.
- ``dn.merge``, ``case.close``, ``case.reopen``: insurer actions (API or page), in the
  action's own transaction — the row exists exactly when the change happened (the
  operator's ``case close|reopen`` and ``dn merge`` too, under kind ``operator``); a no-op
  (merged again into the same case, closed twice) is recorded with ``detail``
  ``no change``; a refused action (404, 403, 409) changes nothing and is not recorded.
- ``ui.sign_in``, ``ui.sign_in_refused`` (``detail``: ``wrong`` or ``locked``; the
  e-mail as typed), ``ui.sign_out``.

A read's row is written in its own transaction just before the bytes are streamed: a
download the client abandons halfway is still recorded, and a failure to record
(database down) refuses the download (503) rather than send bytes unrecorded.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ecb_files.db import Database, Transaction
from ecb_files.db import audit as rows
from ecb_files.services.visibility import Viewer

FILE_CONTENT = "file.content"
FILE_THUMBNAIL = "file.thumbnail"
FILE_ZIP = "file.zip"
FILE_EXPORT = "file.export"
DN_MERGE = "dn.merge"
CASE_CLOSE = "case.close"
CASE_REOPEN = "case.reopen"
SIGN_IN = "ui.sign_in"
SIGN_IN_REFUSED = "ui.sign_in_refused"
SIGN_OUT = "ui.sign_out"
NO_CHANGE = "no change"


@dataclass(frozen=True)
class Origin:
    """Where a request came from: the client's address and the request's id."""

    address: str = "-"
    request_id: str = "-"


# Where a call from no request comes from (the operator's tools, tests).
NO_ORIGIN = Origin()


@dataclass(frozen=True)
class Actor:
    """Who: ``kind`` ``client`` (an OAuth client id) or ``user`` (an e-mail)."""

    kind: str
    name: str
    tenant_id: int | None = None
    partner_id: uuid.UUID | None = None

    @classmethod
    def of(cls, viewer: Viewer) -> Actor:
        # Viewer.who is "<kind> <name>" (services/visibility.py).
        kind, _, name = viewer.who.partition(" ")
        return cls(kind, name, viewer.tenant_id, viewer.partner_id)


@dataclass(frozen=True)
class AuditEntry:
    """One event as ``ecb-files audit list`` shows it."""

    row: rows.AuditRow

    def as_json(self) -> dict[str, Any]:
        row = self.row
        return {
            "at": row.at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "action": row.action,
            "principalKind": row.principal_kind,
            "principal": row.principal,
            "tenantId": row.tenant_id,
            "partnerId": _text(row.partner_id),
            "fileId": _text(row.file_id),
            "caseId": _text(row.case_id),
            "damageNotificationId": _text(row.dn_id),
            "address": row.address,
            "requestId": row.request_id,
            "detail": row.detail,
        }


def event(
    action: str,
    who: Actor,
    origin: Origin,
    *,
    detail: str = "",
    file_id: uuid.UUID | None = None,
    case_id: uuid.UUID | None = None,
    dn_id: uuid.UUID | None = None,
) -> rows.AuditRow:
    return rows.AuditRow(
        at=datetime.now(UTC),
        action=action,
        principal_kind=who.kind,
        principal=who.name[:320],
        address=origin.address[:64],
        request_id=origin.request_id[:128],
        detail=detail[:200],
        tenant_id=who.tenant_id,
        partner_id=who.partner_id,
        file_id=file_id,
        case_id=case_id,
        dn_id=dn_id,
    )


def record_in(unit: Transaction, *events: rows.AuditRow) -> None:
    """Events written in the caller's transaction (an insurer action's own)."""
    rows.add_events(unit, events)


def file_event(
    action: str, viewer: Viewer, origin: Origin, file: Any, detail: str = ""
) -> rows.AuditRow:
    """A read of ``file`` (anything with ``id``, ``case_id``, ``damage_notification_id``)."""
    return event(
        action,
        Actor.of(viewer),
        origin,
        detail=detail,
        file_id=file.id,
        case_id=file.case_id,
        dn_id=file.damage_notification_id,
    )


class AuditTrail:
    def __init__(self, database: Database) -> None:
        self._database = database

    def record(self, *events: rows.AuditRow) -> None:
        """``events`` in a transaction of their own (blocking)."""
        with self._database.write() as unit:
            rows.add_events(unit, events)

    def file_read(
        self, action: str, viewer: Viewer, origin: Origin, file: Any, detail: str = ""
    ) -> None:
        self.record(file_event(action, viewer, origin, file, detail))

    def files_read(
        self, action: str, viewer: Viewer, origin: Origin, files: Iterable[Any], detail: str = ""
    ) -> None:
        self.record(*(file_event(action, viewer, origin, file, detail) for file in files))

    def entries(
        self,
        *,
        file_id: uuid.UUID | None = None,
        case_id: uuid.UUID | None = None,
        since: datetime | None = None,
    ) -> list[AuditEntry]:
        """Oldest first, filtered by any of the three."""
        with self._database.read() as unit:
            found = rows.list_events(unit, file_id=file_id, case_id=case_id, since=since)
        return [AuditEntry(row) for row in found]


def _text(value: uuid.UUID | None) -> str | None:
    return None if value is None else str(value)
