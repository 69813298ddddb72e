"""The two submit endpoints (§3): headers → body → the submit use case → the answer.

The body is JSON (§3.1) or ``multipart/form-data`` (§10.1), told apart by the request's
``Content-Type``; both go the same way through the use case.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from ecb_files.api.attempts import answer_headers, answer_of, declared_length, read_in_threads
from ecb_files.api.body import BodyReader
from ecb_files.api.dependencies import WriterDep
from ecb_files.api.flat_route import FlatRoute
from ecb_files.api.request_context import note
from ecb_files.api.responses import json_response
from ecb_files.api.schemas import (
    SUBMIT_RESPONSES,
    BinarySubmitRequest,
    SubmitRequest,
    submit_request_bodies,
)
from ecb_files.domain.endpoints import Endpoint
from ecb_files.domain.rules import check_request_size
from ecb_files.errors import UnsupportedMediaType
from ecb_files.ingest import parse_multipart_content_type
from ecb_files.services.attempt import Answer
from ecb_files.services.bearer import Principal
from ecb_files.services.container import Services
from ecb_files.services.submit import SubmitAttempt

_BODY_DOC = {
    "requestBody": submit_request_bodies(),
    "parameters": [
        {
            "name": "Idempotency-Key",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": 255},
            "description": "Retries with the same key within 24 h replay the first answer.",
        },
        {
            "name": "X-Request-Id",
            "in": "header",
            "required": False,
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,128}$"},
        },
    ],
}
DOCUMENTED_MODELS = (SubmitRequest, BinarySubmitRequest)


def add_routes(router: APIRouter) -> None:
    """The two submit routes, added to ``router`` itself (the application's own, first):
    the busiest path is matched once, ahead of every ``include_router`` (whose routes
    are matched twice), and served flat (``FlatRoute``)."""
    routes = (
        (Endpoint.CASE, submit_for_case, "Submit files to an open case"),
        (
            Endpoint.DAMAGE_NOTIFICATION,
            submit_for_damage_notification,
            "Submit files to a damage notification not yet merged",
        ),
    )
    for endpoint, handler, summary in routes:
        router.add_api_route(
            endpoint.path,
            handler,
            methods=["POST"],
            tags=["file submission"],
            summary=summary,
            responses=SUBMIT_RESPONSES,
            openapi_extra=_BODY_DOC,
            response_model=None,
            route_class_override=FlatRoute,
        )


async def submit_for_case(request: Request, writer: WriterDep) -> Response:
    return await submit(request, writer.principal, writer.services, Endpoint.CASE)


async def submit_for_damage_notification(request: Request, writer: WriterDep) -> Response:
    return await submit(request, writer.principal, writer.services, Endpoint.DAMAGE_NOTIFICATION)


async def submit(
    request: Request, principal: Principal, services: Services, endpoint: Endpoint
) -> Response:
    """Headers (step 1 of §3.2, after the token), then the body through the use case."""
    headers = request.headers
    boundary = multipart_boundary(headers.get("content-type"))
    content_length = declared_length(headers.get("content-length"))
    if content_length is not None:
        check_request_size(content_length, services.settings.limits, declared=True)
    attempt = services.submit.begin(
        principal,
        endpoint,
        headers.get("idempotency-key"),
        content_length,
        multipart_boundary=boundary,
    )
    answer = await answer_of(
        attempt,
        request,
        content_length=content_length,
        read=_read_into,
    )
    note(request, partner=answer.partner_id, files=answer.files or None)
    return json_response(answer.status, answer.body, answer_headers(answer))


async def _read_into(attempt: SubmitAttempt, body: BodyReader) -> Answer:
    if attempt.in_memory:
        # Parsing a body this small costs the loop less than a hop to a thread would,
        # and only the commit blocks: the commit thread does that.
        async for batch in body:
            if batch.last:
                return await attempt.finish_in_memory(batch.data)
            attempt.feed(batch.data)
    return await read_in_threads(attempt, body)


def multipart_boundary(value: str | None) -> str | None:
    """The request's form from its ``Content-Type``: ``None`` for JSON (§3.1), the
    boundary for ``multipart/form-data`` (§10.1); anything else → 415. A multipart
    type without a usable boundary → 400 (§10)."""
    mime = (value or "").partition(";")[0].strip().lower()
    if mime == "multipart/form-data":
        return parse_multipart_content_type(value)[1]
    check_content_type(value)
    return None


def check_content_type(value: str | None) -> None:
    """``application/json``, with at most a ``charset=utf-8`` parameter (§3.1)."""
    mime, _, parameters = (value or "").partition(";")
    acceptable = mime.strip().lower() == "application/json"
    for parameter in parameters.split(";"):
        if not parameter.strip():
            continue
        name, _, raw = parameter.partition("=")
        charset = raw.strip().strip('"').lower()
        if name.strip().lower() != "charset" or charset != "utf-8":
            acceptable = False
    if not acceptable:
        shown = f"'{value}'" if value else "missing"
        raise UnsupportedMediaType(
            f"Content-Type: {shown}; the request must be application/json (charset=utf-8) "
            "or multipart/form-data with a boundary",
            reason="request_content_type",
        )
