"""Who sees what (§11.1), in one place: the ``Viewer`` and the rules every read obeys.

- A **partner client** (scope ``platform-service-provider:read``) sees the cases its
  partner is assigned to, with their public files and the restricted files its own
  partner uploaded; and the damage notifications its partner created, with all their
  files and the FNoL.
- An **insurer** (a user of the tenant, or a client with ``platform-insurer:read``)
  sees every case and DN of its tenant, restricted files and FNoL payloads included.
  Handlers and clients with ``platform-insurer:write`` may also merge, close and reopen.

Whatever a viewer may not see is reported exactly as a missing object of its kind, so
the answers never tell "not yours" from "not there" (``ClaimNotFound``,
``DamageNotificationNotFound``, ``FileNotFound``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from ecb_files.db import ReadConnection
from ecb_files.db import reading as rows
from ecb_files.db.insurers import client_owner
from ecb_files.domain.scopes import INSURER_READ, INSURER_WRITE, PARTNER_READ
from ecb_files.errors import Forbidden, Unauthorized
from ecb_files.services.bearer import Principal


@dataclass(frozen=True)
class Viewer:
    """A reader of the read side: a service partner's client, or an insurer (one
    tenant's user or client). ``who`` names it for logs."""

    who: str
    partner_id: uuid.UUID | None = None
    tenant_id: int | None = None
    can_write: bool = False

    @classmethod
    def partner(cls, partner_id: uuid.UUID, who: str) -> Viewer:
        return cls(who=who, partner_id=partner_id)

    @classmethod
    def insurer(cls, tenant_id: int, who: str, *, can_write: bool) -> Viewer:
        return cls(who=who, tenant_id=tenant_id, can_write=can_write)

    @property
    def is_insurer(self) -> bool:
        return self.tenant_id is not None


def viewer_of_client(
    connection: ReadConnection, principal: Principal, *, write: bool = False
) -> Viewer:
    """The viewer a bearer token names, or 403 when it lacks the scope for this use.

    Reading takes the read scope of the client's kind; an insurer's action takes
    ``platform-insurer:write``, which a partner's client never holds.
    """
    owner = client_owner(connection, principal.client_id)
    if owner is None:
        raise Unauthorized(
            "the access token names a client that is not registered", reason="unknown_client"
        )
    who = f"client {principal.client_id}"
    if owner.company_id is not None:
        can_write = INSURER_WRITE in principal.scopes
        needed = INSURER_WRITE if write else INSURER_READ
        if needed not in principal.scopes:
            raise _lacks(needed)
        return Viewer.insurer(owner.company_id, who, can_write=can_write)
    assert owner.partner_id is not None  # ck_oauth_clients_one_owner
    if write:
        raise _lacks(INSURER_WRITE)
    if PARTNER_READ not in principal.scopes:
        raise _lacks(PARTNER_READ)
    return Viewer.partner(owner.partner_id, who)


def require_writer(viewer: Viewer) -> None:
    """An insurer's action (merge, close, reopen) needs a viewer allowed to write."""
    if not (viewer.is_insurer and viewer.can_write):
        raise _lacks(INSURER_WRITE)


def sees_case(connection: ReadConnection, viewer: Viewer, case: rows.CaseRow) -> bool:
    if viewer.is_insurer:
        return case.company_id == viewer.tenant_id
    assert viewer.partner_id is not None
    return rows.partner_on_case(connection, case.id, viewer.partner_id)


def sees_damage_notification(viewer: Viewer, dn: rows.DamageNotificationRow) -> bool:
    """Insurers see their tenant's DNs; a partner the DNs it created. Whoever sees a DN
    sees its FNoL and all its files."""
    if viewer.is_insurer:
        return dn.company_id == viewer.tenant_id
    return dn.partner_id == viewer.partner_id


def case_file_scope(viewer: Viewer) -> rows.FileScope:
    """The files of a visible case this viewer sees."""
    if viewer.is_insurer:
        return rows.FileScope(everything=True)
    return rows.FileScope(own_partner=viewer.partner_id)


def sees_file(connection: ReadConnection, viewer: Viewer, file: rows.FileRow) -> bool:
    if file.dn_id is not None:
        dn = rows.find_damage_notification(connection, file.dn_id)
        return dn is not None and sees_damage_notification(viewer, dn)
    assert file.case_id is not None  # ck_files_has_parent
    case = rows.find_case(connection, file.case_id)
    if case is None or not sees_case(connection, viewer, case):
        return False
    scope = case_file_scope(viewer)
    return scope.everything or not file.is_restricted or file.partner_id == scope.own_partner


def _lacks(scope: str) -> Forbidden:
    return Forbidden(
        f"the access token lacks the scope {scope}", scope=scope, reason="insufficient_scope"
    )
