"""The FNoL endpoints (§10.2): create a damage notification from a multipart request,
and the FNoL schema in force for a tenant (public)."""

from __future__ import annotations

import json
from functools import partial

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from ecb_files.api.attempts import answer_headers, answer_of, declared_length
from ecb_files.api.dependencies import ServicesDep, WriterDep
from ecb_files.api.request_context import note
from ecb_files.api.responses import json_response
from ecb_files.api.schemas import FNOL_RESPONSES, FNOL_SCHEMA_RESPONSES
from ecb_files.api.threads import in_thread
from ecb_files.domain.endpoints import FNOL_PATH, FNOL_SCHEMA_PATH
from ecb_files.domain.rules import check_request_size
from ecb_files.errors import UnsupportedMediaType
from ecb_files.ingest import parse_multipart_content_type
from ecb_files.services.fnol import location_of

router = APIRouter(tags=["damage notification (FNoL)"])

FNOL_MULTIPART_TYPES = ("multipart/form-data", "multipart/mixed", "multipart/related")

_FNOL_PART_DOC = (
    "Exactly one part of type application/vnd.casecreation+json (the FNoL: securityToken, "
    "insuranceCompanyAlias, userEmail, damageNotification, optional attachments[] of "
    "{part, description, isDamageImage}), in any position; every other part is an "
    "attachment, named by its Content-Disposition name, with a filename (or filename*) "
    "and its own Content-Type (default application/octet-stream). See docs/fnol.md."
)
_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            media_type: {"schema": {"type": "object"}, "description": _FNOL_PART_DOC}
            for media_type in FNOL_MULTIPART_TYPES
        },
    },
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
            "description": "A retry with the same key within 24 h returns the same DN.",
        }
    ],
}


@router.post(
    FNOL_PATH,
    summary="Create a damage notification (FNoL) with its attachments",
    description=_FNOL_PART_DOC,
    status_code=201,
    responses=FNOL_RESPONSES,
    openapi_extra=_BODY_DOC,
    response_model=None,
)
async def create_damage_notification(request: Request, writer: WriterDep) -> Response:
    """Headers (token, Content-Type, Content-Length), then the body through the use case."""
    services = writer.services
    headers = request.headers
    boundary = fnol_boundary(headers.get("content-type"))
    content_length = declared_length(headers.get("content-length"))
    if content_length is not None:
        check_request_size(content_length, services.settings.limits, declared=True)
    attempt = services.fnol.begin(writer.principal, headers.get("idempotency-key"), boundary)
    answer = await answer_of(
        attempt,
        request,
        content_length=content_length,
    )
    location = location_of(answer)
    note(request, partner=answer.partner_id, files=answer.files or None)
    return json_response(answer.status, answer.body, answer_headers(answer, location))


@router.get(
    FNOL_SCHEMA_PATH,
    summary="The FNoL schema in force for an insurance company (JSON Schema 2020-12)",
    responses=FNOL_SCHEMA_RESPONSES,
    response_model=None,
)
async def fnol_schema(
    services: ServicesDep,
    insurance_company_alias: str = Query(alias="insuranceCompanyAlias", min_length=1),
) -> Response:
    schema = await in_thread(partial(services.fnol.schema_in_force, insurance_company_alias))
    return json_response(200, json.dumps(schema, ensure_ascii=False).encode())


def fnol_boundary(value: str | None) -> str:
    """The boundary of a ``multipart/form-data|mixed|related`` Content-Type; any other
    type → 415, a multipart type without a usable boundary → 400 (§10)."""
    mime = (value or "").partition(";")[0].strip().lower()
    if mime not in FNOL_MULTIPART_TYPES:
        shown = f"'{value}'" if value else "missing"
        raise UnsupportedMediaType(
            f"Content-Type: {shown}; the request must be multipart/form-data, "
            "multipart/mixed or multipart/related with a boundary",
            reason="request_content_type",
        )
    return parse_multipart_content_type(value)[1]
