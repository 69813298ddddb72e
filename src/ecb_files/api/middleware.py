"""The outermost ASGI layer: request ids on every answer, the last-resort 500, the access
log and the request metrics.

It sits outside the framework's own error handling, so even an exception that escapes
everything else becomes the error envelope, and every response — success, refusal
or crash — carries ``X-Request-Id`` (§3.3, §9) and gets an access log line with it,
and is counted (§12.3): by its route's template (``/ecx/…/file/{fileId}/content``, never
the raw path; ``unmatched`` when no route matched), method and status, with its
latency, the body bytes received and, for an error answer, its ``errorType`` — read
from the envelope's first bytes here, in one place, whichever layer made the answer.
"""

from __future__ import annotations

import logging
import os
import re
import time
from typing import Any

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ecb_files.api.access_log import AccessLog, Entry
from ecb_files.errors import GenericError
from ecb_files.services.metrics import UNMATCHED_ROUTE, Metrics

log = logging.getLogger("ecb_files.api")

_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# The envelope's errorType (§3.3), in the first bytes of an error answer's body.
_ERROR_TYPE = re.compile(rb'"errorType":\s*"([A-Za-z]{1,64})"')
# A path parameter's convertor is no part of the route's name: {caseId:guid} → {caseId}.
_CONVERTOR = re.compile(r":[a-z]+}")


def request_id_of(scope: Scope) -> str:
    state = scope.get("state") or {}
    return str(state.get("request_id", ""))


class RequestIdMiddleware:
    def __init__(
        self, app: ASGIApp, access_log: AccessLog | None = None, *, metrics: bool = False
    ) -> None:
        """``metrics``: count every request in the services' ``Metrics`` (§12.3)."""
        self.app = app
        self.access_log = access_log
        self.metrics = metrics
        self._routes: dict[int, str] = {}
        self._metrics_app: object = None  # the application whose metrics are in hand
        self._metrics: Metrics | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.monotonic()
        request_id = _request_id_from(scope)
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        header = (b"x-request-id", request_id.encode())
        status = 0
        received = 0
        error_type: str | None = None
        metrics = self._metrics_for(scope) if self.metrics else None
        if metrics is not None:
            metrics.request_started()

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            body = message.get("body")
            if body:
                received += len(body)
            return message

        async def send_with_id(message: Message) -> None:
            nonlocal status, error_type
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"
                ]
                message = {**message, "headers": [*headers, header]}
            elif status >= 400 and error_type is None:
                found = _ERROR_TYPE.search(message.get("body", b"")[:512])
                error_type = found[1].decode() if found else ""
            await send(message)

        try:
            await self.app(scope, counting_receive, send_with_id)
        except ClientDisconnect:
            # Gone mid-body: there is nobody to answer, and nothing was stored (§3.4).
            log.info("client went away before the answer, request id %s", request_id)
        except Exception as error:
            log.exception(
                "unhandled error, request id %s", request_id, extra={"request_id": request_id}
            )
            if status:
                raise
            status = 500
            error_type = GenericError.error_type
            description = f"internal error ({type(error).__name__}); quote request id {request_id}"
            body = GenericError(description).envelope()
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        header,
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
        finally:
            seconds = time.monotonic() - began
            route = self._route_of(scope)
            if metrics is not None:
                metrics.request_ended(route, scope["method"], status, seconds, received)
                if error_type:
                    metrics.error(error_type, status)
            if self.access_log is not None:
                self.access_log.record(
                    _entry(scope, status, seconds, request_id, route, error_type, received)
                )

    def _route_of(self, scope: Scope) -> str:
        """The template of the route that answered (cached per route)."""
        route = scope.get("route")
        if route is None:
            return UNMATCHED_ROUTE
        name = self._routes.get(id(route))
        if name is None:
            path = getattr(route, "path", None)
            name = _CONVERTOR.sub("}", path) if isinstance(path, str) else UNMATCHED_ROUTE
            self._routes[id(route)] = name
        return name

    def _metrics_for(self, scope: Scope) -> Metrics | None:
        """The application's metrics, looked up once it has them (after its start-up)."""
        app = scope.get("app")
        if app is not self._metrics_app or self._metrics is None:
            self._metrics = _metrics_of(app)
            self._metrics_app = app
        return self._metrics


def _metrics_of(app: Any) -> Metrics | None:
    services = getattr(getattr(app, "state", None), "services", None)
    metrics: Metrics | None = getattr(services, "metrics", None)
    return metrics


def _entry(
    scope: Scope,
    status: int,
    seconds: float,
    request_id: str,
    route: str,
    error_type: str | None,
    received: int,
) -> Entry:
    client = scope.get("client")
    where = f"{client[0]}:{client[1]}" if client else "-"
    path = scope.get("raw_path") or scope["path"].encode()
    query = scope.get("query_string")
    target = (path + b"?" + query if query else path).decode("latin-1")
    version = scope.get("http_version", "1.1")
    return Entry(
        time.time(),
        where,
        scope["method"],
        target,
        version,
        status,
        seconds,
        request_id,
        route,
        scope.get("state"),
        error_type or None,
        received,
    )


def _request_id_from(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text: str = value.decode("latin-1")
            if _SANE_REQUEST_ID.fullmatch(text):
                return text
            break
    # 32 random hex digits, as uuid4().hex would be, without building the UUID.
    return os.urandom(16).hex()
