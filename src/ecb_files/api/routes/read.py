"""The read API (§11.2): a viewer's cases, damage notifications and file records, and an
insurer's merge, close and reopen. Headers → service → answer; who sees what is decided
in ``services/visibility.py``. The file content and thumbnail routes live beside these.

An id in a path matches only a GUID: any other segment names no resource (404
``GenericError``, as every unknown path, §3.3), so the endpoints beside these
(``…/file/limits``, ``…/damageNotification/schema``, a GET of ``…/file/submitForCase``:
405, §9) keep their answers whatever the order of the routes.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from functools import partial
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Body, Depends, Query, Request
from starlette.convertors import StringConvertor, register_url_convertor
from starlette.responses import Response

from ecb_files.api.dependencies import CallerDep, OriginDep, ServicesDep, admit
from ecb_files.api.request_context import note
from ecb_files.api.responses import json_response
from ecb_files.api.schemas import READ_RESPONSES, WRITE_RESPONSES
from ecb_files.api.threads import in_thread
from ecb_files.domain.rules import parse_guid
from ecb_files.errors import InvalidRequest
from ecb_files.services.audit import Origin
from ecb_files.services.pagination import Page, PageRequest
from ecb_files.services.read_models import FileView
from ecb_files.services.visibility import Viewer

API = "/ecx/host/api/integration/v1"


class _Guid(StringConvertor):
    regex = "[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}"


register_url_convertor("guid", _Guid())

CASE = f"{API}/case/{{caseId:guid}}"
DN = f"{API}/damageNotification/{{dnId:guid}}"
FILE = f"{API}/file/{{fileId:guid}}"

router = APIRouter(tags=["read (§11)"])

_T = TypeVar("_T")


async def _reader(request: Request, services: ServicesDep, principal: CallerDep) -> Viewer:
    """401 without a valid token; 403 without a read scope of the client's kind; 429
    past the client's read rate (§12.2)."""
    viewer = await in_thread(partial(services.reader.viewer_of, principal))
    note(request, partner=viewer.partner_id, tenant=viewer.tenant_id)
    await admit(services, services.client_limits.read(principal.client_id))
    return viewer


async def _writer(request: Request, services: ServicesDep, principal: CallerDep) -> Viewer:
    """401 without a valid token; 403 without ``platform-insurer:write``; 429 past the
    client's read rate, which the insurer actions of §11.2 share (§12.2)."""
    viewer = await in_thread(partial(services.reader.viewer_of, principal, write=True))
    note(request, partner=viewer.partner_id, tenant=viewer.tenant_id)
    await admit(services, services.client_limits.read(principal.client_id))
    return viewer


ReaderDep = Annotated[Viewer, Depends(_reader)]
WriterDep = Annotated[Viewer, Depends(_writer)]
LimitQuery = Annotated[str | None, Query(description="1–500, default 100")]
CursorQuery = Annotated[str | None, Query(description="payload.nextCursor of the page before")]


@router.get(CASE, summary="A case", responses=READ_RESPONSES)
async def get_case(caseId: str, viewer: ReaderDep, services: ServicesDep) -> Response:
    case_id = parse_guid(caseId, field="caseId")
    case = await in_thread(partial(services.reader.case, viewer, case_id))
    return _success(case.as_json())


@router.get(f"{CASE}/files", summary="A case's files", responses=READ_RESPONSES)
async def case_files(
    caseId: str,
    viewer: ReaderDep,
    services: ServicesDep,
    limit: LimitQuery = None,
    cursor: CursorQuery = None,
) -> Response:
    case_id = parse_guid(caseId, field="caseId")
    return await _files(services.reader.case_files, viewer, case_id, limit, cursor)


@router.get(
    DN,
    summary="A damage notification, with its FNoL",
    responses=READ_RESPONSES,
)
async def get_damage_notification(dnId: str, viewer: ReaderDep, services: ServicesDep) -> Response:
    dn_id = parse_guid(dnId, field="dnId")
    dn = await in_thread(partial(services.reader.damage_notification, viewer, dn_id))
    return _success(dn.as_json())


@router.get(
    f"{DN}/files",
    summary="A damage notification's files (none once merged)",
    responses=READ_RESPONSES,
)
async def dn_files(
    dnId: str,
    viewer: ReaderDep,
    services: ServicesDep,
    limit: LimitQuery = None,
    cursor: CursorQuery = None,
) -> Response:
    dn_id = parse_guid(dnId, field="dnId")
    return await _files(services.reader.dn_files, viewer, dn_id, limit, cursor)


@router.get(FILE, summary="A file record", responses=READ_RESPONSES)
async def get_file(fileId: str, viewer: ReaderDep, services: ServicesDep) -> Response:
    file_id = parse_guid(fileId, field="fileId")
    record = await in_thread(partial(services.reader.file, viewer, file_id))
    return _success(record.as_json())


@router.post(
    f"{DN}/merge",
    summary="Merge a damage notification into a case (insurer)",
    responses=WRITE_RESPONSES,
)
async def merge(
    dnId: str,
    viewer: WriterDep,
    services: ServicesDep,
    origin: OriginDep,
    body: Annotated[Any, Body(examples=[{"caseId": "<case GUID>"}])] = None,
) -> Response:
    dn_id = parse_guid(dnId, field="dnId")
    case_id = _case_id_of(body)
    await in_thread(partial(services.insurer_actions.merge, viewer, dn_id, case_id, origin))
    return _success(None)


@router.post(f"{CASE}/close", summary="Close a case (insurer)", responses=WRITE_RESPONSES)
async def close_case(
    caseId: str, viewer: WriterDep, services: ServicesDep, origin: OriginDep
) -> Response:
    return await _act(services.insurer_actions.close_case, viewer, caseId, origin)


@router.post(f"{CASE}/reopen", summary="Reopen a case (insurer)", responses=WRITE_RESPONSES)
async def reopen_case(
    caseId: str, viewer: WriterDep, services: ServicesDep, origin: OriginDep
) -> Response:
    return await _act(services.insurer_actions.reopen_case, viewer, caseId, origin)


async def _act(
    action: Callable[[Viewer, uuid.UUID, Origin], _T], viewer: Viewer, case_id: str, origin: Origin
) -> Response:
    await in_thread(partial(action, viewer, parse_guid(case_id, field="caseId"), origin))
    return _success(None)


def _case_id_of(body: Any) -> uuid.UUID:
    if not isinstance(body, dict):
        raise InvalidRequest('body: must be a JSON object {"caseId": "<GUID>"}')
    value = body.get("caseId")
    if not isinstance(value, str):
        raise InvalidRequest("caseId: required, a GUID string")
    return parse_guid(value, field="caseId")


async def _files(
    lister: Callable[[Viewer, uuid.UUID, PageRequest], Page[FileView]],
    viewer: Viewer,
    parent_id: uuid.UUID,
    limit: str | None,
    cursor: str | None,
) -> Response:
    """One page of a case's or a DN's file records: ``files`` and ``nextCursor``."""
    request = PageRequest.parse(limit, cursor)
    page = await in_thread(partial(lister, viewer, parent_id, request))
    return _success(
        {"files": [item.as_json() for item in page.items], "nextCursor": page.next_cursor}
    )


def _success(payload: Any) -> Response:
    body: dict[str, Any] = {"success": True}
    if payload is not None:
        body["payload"] = payload
    return json_response(200, json.dumps(body, ensure_ascii=False).encode())
