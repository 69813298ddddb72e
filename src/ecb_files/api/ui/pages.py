"""The page's reading routes and the handler's actions: the list of cases and damage
notifications, a case, a damage notification; close, reopen, merge (§11.3).

What a user sees and may do is decided by the read side's services (their viewer), never
here: this module asks them and lays out the answer.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

from ecb_files.api.threads import in_thread
from ecb_files.api.ui import lookups
from ecb_files.api.ui.access import HandlerFormDep, Visitor, VisitorDep, visitor_page
from ecb_files.api.ui.fields import labelled_fields
from ecb_files.api.ui.file_cards import file_cards
from ecb_files.errors import InvalidRequest, MergedIntoAnotherCase
from ecb_files.services.pagination import PageRequest
from ecb_files.services.read_models import DamageNotificationView

router = APIRouter()

# One page of each list: enough for a morning's work, few enough to stay fast.
LIST_LIMIT = 50
MAX_SEARCH_CHARS = 200
CASE_STATUSES = ("open", "closed")
DN_STATUSES = ("open", "merged")
NOTICES = {
    "closed": "The case is closed: partners can no longer send files to it.",
    "reopened": "The case is open again.",
    "merged": "The damage notification was merged: its files are on this case now.",
}


@dataclass(frozen=True)
class DnLine:
    """A damage notification as the page names it: by what happened (the FNoL's
    description or type of incident), else by its id."""

    id: uuid.UUID
    title: str
    status: str
    partner_name: str
    created_at: datetime
    merged_to_case_id: uuid.UUID | None

    @classmethod
    def of(cls, dn: DamageNotificationView) -> DnLine:
        return cls(
            dn.id,
            _title(dn),
            dn.status,
            dn.service_partner.name,
            dn.created_at,
            dn.merged_to_case_id,
        )


@router.get("/ui")
async def ui_root() -> Response:
    return RedirectResponse("/ui/", status_code=308)


@router.get("/ui/")
async def home(request: Request, visitor: VisitorDep) -> Response:
    query = request.query_params
    q = query.get("q", "").strip()[:MAX_SEARCH_CHARS]
    case_status = _choice(query.get("case_status"), CASE_STATUSES)
    dn_status = _choice(query.get("dn_status"), DN_STATUSES)
    reader = visitor.services.reader
    try:
        cases = await in_thread(
            partial(
                reader.cases,
                visitor.viewer,
                status=case_status or None,
                search=q or None,
                page=PageRequest.parse(LIST_LIMIT, query.get("cases_after")),
            )
        )
        dns = await in_thread(
            partial(
                reader.damage_notifications,
                visitor.viewer,
                status=dn_status or None,
                search=q or None,
                page=PageRequest.parse(LIST_LIMIT, query.get("dns_after")),
            )
        )
    except InvalidRequest:
        # A cursor mangled in the address bar: start from the newest again.
        return RedirectResponse("/ui/", status_code=303)
    filters = {"q": q, "case_status": case_status, "dn_status": dn_status}
    return visitor_page(
        visitor,
        "home.html",
        q=q,
        case_status=case_status,
        dn_status=dn_status,
        cases=cases.items,
        cases_more=_older(filters, "cases_after", cases.next_cursor),
        dns=[DnLine.of(dn) for dn in dns.items],
        dns_more=_older(filters, "dns_after", dns.next_cursor),
    )


@router.get("/ui/cases/{case_id}")
async def case_page(case_id: str, visitor: VisitorDep, notice: str = "") -> Response:
    case = await lookups.visible_case(visitor, case_id)
    files = await lookups.case_files(visitor, case.id)
    return visitor_page(
        visitor,
        "case.html",
        case=case,
        files=file_cards(files),
        can_act=visitor.may_act,
        notice=NOTICES.get(notice, ""),
    )


@router.post("/ui/cases/{case_id}/close")
async def close_case(case_id: str, visitor: VisitorDep, _form: HandlerFormDep) -> Response:
    return await _change_status(visitor, case_id, "closed")


@router.post("/ui/cases/{case_id}/reopen")
async def reopen_case(case_id: str, visitor: VisitorDep, _form: HandlerFormDep) -> Response:
    return await _change_status(visitor, case_id, "reopened")


@router.get("/ui/damage-notifications/{dn_id}")
async def dn_page(dn_id: str, visitor: VisitorDep) -> Response:
    return await _dn_page(visitor, await lookups.visible_dn(visitor, dn_id))


@router.post("/ui/damage-notifications/{dn_id}/merge")
async def merge(dn_id: str, visitor: VisitorDep, form: HandlerFormDep) -> Response:
    dn = await lookups.visible_dn(visitor, dn_id)
    sent = form.get("case_number")
    number = sent.strip()[:MAX_SEARCH_CHARS] if isinstance(sent, str) else ""
    case = await lookups.case_numbered(visitor, number) if number else None
    if case is None:
        problem = (
            f"There is no case with the number “{number}”."
            if number
            else "Enter the number of the case to merge into."
        )
        return await _dn_page(visitor, dn, status_code=422, merge_error=problem, case_number=number)
    actions = visitor.services.insurer_actions
    try:
        await in_thread(partial(actions.merge, visitor.viewer, dn.id, case.id, visitor.origin))
    except MergedIntoAnotherCase:
        # Someone else merged it meanwhile (the form was shown while it was open).
        dn = await lookups.visible_dn(visitor, dn_id)
        problem = "This damage notification has already been merged into another case."
        return await _dn_page(visitor, dn, status_code=409, merge_error=problem)
    return RedirectResponse(f"/ui/cases/{case.id}?notice=merged", status_code=303)


async def _change_status(visitor: Visitor, case_id: str, change: str) -> Response:
    case = await lookups.visible_case(visitor, case_id)
    actions = visitor.services.insurer_actions
    act = actions.close_case if change == "closed" else actions.reopen_case
    await in_thread(partial(act, visitor.viewer, case.id, visitor.origin))
    return RedirectResponse(f"/ui/cases/{case.id}?notice={change}", status_code=303)


async def _dn_page(
    visitor: Visitor,
    dn: DamageNotificationView,
    *,
    status_code: int = 200,
    merge_error: str = "",
    case_number: str = "",
) -> Response:
    files = await lookups.dn_files(visitor, dn.id)
    merged_number = None
    if dn.merged_to_case_id is not None:
        merged_number = (await lookups.visible_case(visitor, dn.merged_to_case_id)).number
    fnol: Any = dn.fnol
    return visitor_page(
        visitor,
        "damage_notification.html",
        status_code=status_code,
        dn=DnLine.of(dn),
        fnol_fields=labelled_fields(fnol) if isinstance(fnol, dict) else (),
        files=file_cards(files),
        merged_case_number=merged_number,
        can_act=visitor.may_act,
        merge_error=merge_error,
        case_number=case_number,
    )


# The FNoL members that say best what happened, in the order a title is taken from.
_TITLE_MEMBERS = ("description", "incidentType", "policyNumber")
_TITLE_CHARS = 80


def _title(dn: DamageNotificationView) -> str:
    fnol = dn.fnol if isinstance(dn.fnol, dict) else {}
    for member in _TITLE_MEMBERS:
        value = fnol.get(member)
        if isinstance(value, str) and value.strip():
            text = " ".join(value.split())
            return text if len(text) <= _TITLE_CHARS else text[: _TITLE_CHARS - 1] + "…"
    return str(dn.id)


def _choice(value: str | None, allowed: tuple[str, ...]) -> str:
    return value if value in allowed else ""


def _older(filters: dict[str, str], name: str, cursor: str | None) -> str:
    if cursor is None:
        return ""
    kept = {key: value for key, value in filters.items() if value}
    return "/ui/?" + urlencode({**kept, name: cursor})
