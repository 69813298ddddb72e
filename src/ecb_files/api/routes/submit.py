"""The two submit endpoints (§3): header checks, idempotency, streaming, the use case."""

from __future__ import annotations

import hmac
import logging
from functools import partial

from fastapi import APIRouter, Request
from starlette.responses import Response

from ecb_files.api.body import BodyReader
from ecb_files.api.dependencies import ServicesDep, WriterDep
from ecb_files.api.responses import envelope_bytes, json_response
from ecb_files.api.schemas import SUBMIT_RESPONSES, SubmitRequest
from ecb_files.api.threads import in_thread
from ecb_files.config import Limits
from ecb_files.domain.endpoints import Endpoint
from ecb_files.errors import (
    EcbError,
    IdempotencyKeyReused,
    PayloadTooLarge,
    RequestTimeout,
    UnsupportedMediaType,
)
from ecb_files.services.bearer import Principal
from ecb_files.services.container import Services
from ecb_files.services.idempotency import (
    IdempotencyScope,
    RememberedAnswer,
    parse_idempotency_key,
    utcnow,
)
from ecb_files.services.submit import Accepted

log = logging.getLogger("ecb_files.api")

router = APIRouter(tags=["file submission"])

_BODY_DOC = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SubmitRequest"}}},
    },
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
DOCUMENTED_MODELS = (SubmitRequest,)


@router.post(
    Endpoint.CASE.path,
    summary="Submit files to an open case",
    responses=SUBMIT_RESPONSES,
    openapi_extra=_BODY_DOC,
    response_model=None,
)
async def submit_for_case(
    request: Request, principal: WriterDep, services: ServicesDep
) -> Response:
    return await submit(request, principal, services, Endpoint.CASE)


@router.post(
    Endpoint.DAMAGE_NOTIFICATION.path,
    summary="Submit files to a damage notification not yet merged",
    responses=SUBMIT_RESPONSES,
    openapi_extra=_BODY_DOC,
    response_model=None,
)
async def submit_for_damage_notification(
    request: Request, principal: WriterDep, services: ServicesDep
) -> Response:
    return await submit(request, principal, services, Endpoint.DAMAGE_NOTIFICATION)


async def submit(
    request: Request, principal: Principal, services: Services, endpoint: Endpoint
) -> Response:
    limits = services.settings.limits
    # Step 1 of §3.2, after the token: Content-Type, then Content-Length.
    check_content_type(request.headers.get("content-type"))
    check_content_length(request.headers.get("content-length"), limits)
    key = parse_idempotency_key(
        request.headers.get("idempotency-key"), limits.max_idempotency_key_chars
    )
    reader = BodyReader(
        request.stream(),
        limits=limits,
        idle_timeout=services.settings.body_idle_timeout_seconds,
        content_length=_declared_length(request.headers.get("content-length")),
        digest=key is not None,
    )
    try:
        return await _answer(reader, principal, services, endpoint, key)
    finally:
        reader.close()


async def _answer(
    reader: BodyReader,
    principal: Principal,
    services: Services,
    endpoint: Endpoint,
    key: str | None,
) -> Response:
    if key is None:
        return await _ingest(reader, principal, services, endpoint, None)
    scope = IdempotencyScope(principal.client_id, endpoint.value, key)
    remembered = await in_thread(partial(services.idempotency.claim, scope, utcnow()))
    if remembered is not None:
        return await _replay(reader, remembered, key)
    try:
        return await _ingest(reader, principal, services, endpoint, scope)
    except EcbError as error:
        await _settle(services, reader, scope, error)
        raise
    except BaseException:
        await _release(services, scope)
        raise


async def _ingest(
    reader: BodyReader,
    principal: Principal,
    services: Services,
    endpoint: Endpoint,
    scope: IdempotencyScope | None,
) -> Response:
    intake = services.submit.new_intake()

    def finish_and_accept(digest: str) -> Accepted:
        # Steps 3 and 4 run in the worker hop that ends step 2.
        return services.submit.accept(
            principal, endpoint, intake.finish(), idempotency=scope, request_sha256=digest
        )

    try:
        read = await reader.run(intake.feed, finish_and_accept)
    except BaseException:
        await in_thread(intake.abort)
        raise
    return json_response(200, read.result.body)


async def _replay(reader: BodyReader, remembered: RememberedAnswer, key: str) -> Response:
    digest = await reader.drain()
    if not hmac.compare_digest(digest, remembered.request_sha256):
        raise IdempotencyKeyReused(
            f"Idempotency-Key '{key}' was already used with a different request body"
        )
    return json_response(remembered.status, remembered.body, {"Idempotent-Replayed": "true"})


async def _settle(
    services: Services, reader: BodyReader, scope: IdempotencyScope, error: EcbError
) -> None:
    """Remember a 4xx answer for the key; forget the key after anything else (§3.4)."""
    remembered_kinds = 400 <= error.status < 500 and not isinstance(
        error, (PayloadTooLarge, RequestTimeout)
    )
    if not remembered_kinds:
        await _release(services, scope)
        return
    digest = reader.digest
    try:
        if digest is None:
            # Refused mid-body: the rest is read (not parsed) so that a retry of the
            # same body can be recognised and replayed.
            digest = await reader.drain()
        body = envelope_bytes(error.description, error.error_type)
        await in_thread(
            partial(
                services.idempotency.remember,
                scope,
                status=error.status,
                body=body,
                request_sha256=digest,
            )
        )
    except Exception:
        # The client went away, or the database did: the answer is not remembered.
        await _release(services, scope)


async def _release(services: Services, scope: IdempotencyScope) -> None:
    try:
        await in_thread(partial(services.idempotency.release, scope))
    except Exception:
        log.warning("could not release Idempotency-Key %r; its lease will expire", scope.key)


def check_content_type(value: str | None) -> None:
    """Only ``application/json``, with at most a ``charset=utf-8`` parameter (§3.1)."""
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
            f"Content-Type: {shown}; the request must be application/json (charset=utf-8)",
            reason="request_content_type",
        )


def _declared_length(value: str | None) -> int | None:
    return int(value) if value is not None and value.strip().isdigit() else None


def check_content_length(value: str | None, limits: Limits) -> None:
    if value is not None and value.strip().isdigit() and int(value) > limits.max_request_bytes:
        raise PayloadTooLarge(
            f"Content-Length {int(value)} is larger than maxRequestBytes "
            f"({limits.max_request_bytes} bytes)",
            reason="content_length_too_large",
        )
