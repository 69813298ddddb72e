"""The read side's use cases (§11.2): a viewer's case, damage notification and file
records, and an insurer's lists. Every answer goes through ``services/visibility.py``;
what a viewer may not see raises the not-found error of its kind.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TypeVar

from ecb_files.db import Database, ReadConnection
from ecb_files.db import reading as rows
from ecb_files.errors import ClaimNotFound, DamageNotificationNotFound, FileNotFound, InvalidRequest
from ecb_files.services import visibility
from ecb_files.services.bearer import Principal
from ecb_files.services.pagination import Page, PageRequest, page_of
from ecb_files.services.read_models import CaseView, DamageNotificationView, FileView
from ecb_files.services.visibility import Viewer

CASE_STATUSES = ("open", "closed")
DN_STATUSES = ("open", "merged")

_Row = TypeVar("_Row", rows.CaseRow, rows.DamageNotificationRow, rows.FileRow)
_View = TypeVar("_View")


class Reader:
    def __init__(self, database: Database) -> None:
        self._database = database

    def viewer_of(self, principal: Principal, *, write: bool = False) -> Viewer:
        """The viewer a bearer token names (403 without the scope this use needs)."""
        with self._database.read_connection() as connection:
            return visibility.viewer_of_client(connection, principal, write=write)

    def case(self, viewer: Viewer, case_id: uuid.UUID) -> CaseView:
        with self._database.read_connection() as connection:
            row = _visible_case(connection, viewer, case_id)
            scope = visibility.case_file_scope(viewer)
            return CaseView.of(row, rows.count_files(connection, scope, case_id=case_id))

    def case_by_number(self, viewer: Viewer, number: str) -> CaseView:
        """An insurer's case by its number exactly as written (merging "into case
        CN-1001" on the claims-handler page); ``ClaimNotFound`` when there is none."""
        tenant_id = _insurer_tenant(viewer)
        with self._database.read_connection() as connection:
            row = rows.find_case_by_number(connection, tenant_id, number.strip())
            if row is None:
                raise ClaimNotFound(f"no case numbered {number.strip()!r}")
            scope = visibility.case_file_scope(viewer)
            return CaseView.of(row, rows.count_files(connection, scope, case_id=row.id))

    def case_files(
        self, viewer: Viewer, case_id: uuid.UUID, page: PageRequest | None = None
    ) -> Page[FileView]:
        request = page or PageRequest()
        with self._database.read_connection() as connection:
            _visible_case(connection, viewer, case_id)
            found = rows.list_files(
                connection,
                visibility.case_file_scope(viewer),
                case_id=case_id,
                after=request.after,
                limit=request.limit + 1,
            )
        return _paged(found, request, FileView.of)

    def damage_notification(self, viewer: Viewer, dn_id: uuid.UUID) -> DamageNotificationView:
        """The DN with its FNoL payload: whoever sees a DN (its tenant, its creator)
        sees its FNoL."""
        with self._database.read_connection() as connection:
            return DamageNotificationView.of(_visible_dn(connection, viewer, dn_id))

    def dn_files(
        self, viewer: Viewer, dn_id: uuid.UUID, page: PageRequest | None = None
    ) -> Page[FileView]:
        """A DN's files; none once it is merged (they moved to the case, §1)."""
        request = page or PageRequest()
        with self._database.read_connection() as connection:
            _visible_dn(connection, viewer, dn_id)
            found = rows.list_files(
                connection,
                rows.FileScope(everything=True),
                dn_id=dn_id,
                after=request.after,
                limit=request.limit + 1,
            )
        return _paged(found, request, FileView.of)

    def file(self, viewer: Viewer, file_id: uuid.UUID) -> FileView:
        """One file record, ``blob_id`` included for the content layer."""
        with self._database.read_connection() as connection:
            row = rows.find_file(connection, file_id)
            if row is None or not visibility.sees_file(connection, viewer, row):
                raise FileNotFound(f"no file with id {file_id}")
            return FileView.of(row)

    def cases(
        self,
        viewer: Viewer,
        *,
        status: str | None = None,
        search: str | None = None,
        page: PageRequest | None = None,
    ) -> Page[CaseView]:
        """An insurer's cases, newest first; ``search`` is part of a number or an id."""
        request = page or PageRequest()
        _check_choice("status", status, CASE_STATUSES)
        tenant_id = _insurer_tenant(viewer)
        with self._database.read_connection() as connection:
            found = rows.list_cases(
                connection,
                tenant_id,
                status=status,
                search=(search or "").strip() or None,
                after=request.after,
                limit=request.limit + 1,
            )
        return _paged(found, request, CaseView.of)

    def damage_notifications(
        self,
        viewer: Viewer,
        *,
        status: str | None = None,
        search: str | None = None,
        page: PageRequest | None = None,
    ) -> Page[DamageNotificationView]:
        """An insurer's damage notifications, newest first; ``search`` is an id."""
        request = page or PageRequest()
        _check_choice("status", status, DN_STATUSES)
        tenant_id = _insurer_tenant(viewer)
        with self._database.read_connection() as connection:
            found = rows.list_damage_notifications(
                connection,
                tenant_id,
                merged=None if status is None else status == "merged",
                search=(search or "").strip() or None,
                after=request.after,
                limit=request.limit + 1,
            )
        return _paged(found, request, DamageNotificationView.of)


def _visible_case(connection: ReadConnection, viewer: Viewer, case_id: uuid.UUID) -> rows.CaseRow:
    row = rows.find_case(connection, case_id)
    if row is None or not visibility.sees_case(connection, viewer, row):
        raise ClaimNotFound(f"no case with id {case_id}")
    return row


def _visible_dn(
    connection: ReadConnection, viewer: Viewer, dn_id: uuid.UUID
) -> rows.DamageNotificationRow:
    row = rows.find_damage_notification(connection, dn_id)
    if row is None or not visibility.sees_damage_notification(viewer, row):
        raise DamageNotificationNotFound(f"no damage notification with id {dn_id}")
    return row


def _insurer_tenant(viewer: Viewer) -> int:
    # Lists are the insurer's (the claims-handler page); a partner reads by id.
    if viewer.tenant_id is None:
        raise ValueError("only an insurer lists a tenant's cases and damage notifications")
    return viewer.tenant_id


def _check_choice(name: str, value: str | None, allowed: tuple[str, ...]) -> None:
    if value is not None and value not in allowed:
        raise InvalidRequest(f"{name}: must be one of {', '.join(allowed)}, not {value[:40]!r}")


def _paged(found: list[_Row], request: PageRequest, view: Callable[[_Row], _View]) -> Page[_View]:
    last = found[request.limit - 1] if len(found) > request.limit else None
    keyset = None if last is None else (last.created_at, last.id)
    return page_of([view(row) for row in found], request, keyset)
