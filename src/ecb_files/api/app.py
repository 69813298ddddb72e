"""``create_app(settings)``: the ASGI application, its lifespan and its error mapping."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from ecb_files import __version__
from ecb_files.api import interpreter, ui
from ecb_files.api.access_log import AccessLog
from ecb_files.api.body_watch import BodyWatchMiddleware
from ecb_files.api.idle_watch import MinBodyRate
from ecb_files.api.middleware import RequestIdMiddleware
from ecb_files.api.responses import error_response, handle_ecb_error, handle_oauth_error
from ecb_files.api.routes import content, fnol, meta, metrics, oauth, read, submit
from ecb_files.api.threads import in_thread, worker_pool
from ecb_files.auth.bearer import REQUIRED_SCOPE
from ecb_files.config import Settings
from ecb_files.domain.endpoints import FNOL_PATH, TOKEN_PATH, Endpoint
from ecb_files.domain.scopes import INSURER_READ, INSURER_WRITE, PARTNER_READ
from ecb_files.errors import EcbError, InvalidRequest, MethodNotAllowed, NotFound, OAuthError
from ecb_files.services.container import Services

log = logging.getLogger("ecb_files.api")

DESCRIPTION = """\
Service partners submit photos, reports and invoices (JSON with base64 content) to
insurers' cases and damage notifications, and create damage notifications (FNoL,
multipart). Get a token at `/connect/token`
(client credentials, `private_key_jwt` or a client secret), then POST to a submit
endpoint with `Authorization: Bearer …`. Every error is
`{"success": false, "errorDescription", "errorType"}`.
"""


def create_app(settings: Settings, services: Services | None = None) -> FastAPI:
    """The application. ``services`` is built at start-up unless given (tests give one)."""
    json_lines = settings.log_format == "json"
    access_log = AccessLog(sys.stderr, json_lines=json_lines) if settings.access_log else None

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = services is None
        app.state.services = services or await in_thread(partial(Services.build, settings))
        pool = worker_pool(settings.worker_threads)
        asyncio.get_running_loop().set_default_executor(pool)
        if access_log is not None:
            access_log.start()
        interpreter.settle_after_start()
        try:
            yield
        finally:
            if access_log is not None:
                access_log.close()
            if app.state.services.clamd is not None:
                app.state.services.clamd.close_session()  # it belongs to this event loop
            pool.shutdown(wait=False)
            if owned:
                app.state.services.close()

    # The docs page's scripts are served by this service, not a CDN: it works offline
    # and behind egress-filtered networks.
    app = FastAPIOffline(
        title="ecb-files",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
        static_url="/docs-assets",
        # The service's telemetry is its own (§12.3: /metrics, JSON logs); FastAPI's
        # OpenTelemetry hooks would look for a configured provider on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    # The submit routes on the application's own router, ahead of every inclusion: the
    # busiest path is matched once, before any included route.
    submit.add_routes(app.router)
    app.include_router(oauth.router)
    app.include_router(fnol.router)
    app.include_router(meta.router)
    if settings.metrics:
        app.include_router(metrics.router)
    ui.install(app)
    # Its ids match GUIDs only (read.py): the sibling endpoints keep their paths.
    app.include_router(read.router)
    app.include_router(content.router)
    app.add_exception_handler(EcbError, handle_ecb_error)
    app.add_exception_handler(OAuthError, handle_oauth_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    # Inside the request ids: a body cut off by its bounds is answered like any error.
    min_rate = None
    if settings.min_body_rate:
        min_rate = MinBodyRate(settings.min_body_rate, settings.min_body_rate_grace_seconds)
    app.add_middleware(
        BodyWatchMiddleware,
        idle_seconds=settings.body_idle_timeout_seconds,
        min_rate=min_rate,
    )
    app.add_middleware(RequestIdMiddleware, access_log=access_log, metrics=settings.metrics)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    if error.status_code == 405:
        response = error_response(
            MethodNotAllowed(f"method {request.method} is not allowed on {request.url.path}")
        )
        if error.headers and "Allow" in error.headers:
            response.headers["Allow"] = error.headers["Allow"]
        return response
    if error.status_code == 404:
        return error_response(NotFound(f"no endpoint at {request.url.path}"))
    return error_response(InvalidRequest(str(error.detail)))


async def _validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    first = error.errors()[0] if error.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()))
    return error_response(InvalidRequest(f"{where}: {first.get('msg', 'invalid')}"))


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in submit.DOCUMENTED_MODELS:
        document = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(document.pop("$defs", {}))
        components[model.__name__] = document
    # Lets the docs page's "Authorize" button fetch a token with a client secret.
    schema["components"]["securitySchemes"] = {
        "partnerToken": {
            "type": "oauth2",
            "description": "Client credentials; private_key_jwt or a client secret.",
            "flows": {
                "clientCredentials": {
                    "tokenUrl": TOKEN_PATH,
                    "scopes": {
                        REQUIRED_SCOPE: "submit files",
                        PARTNER_READ: "read a partner's cases, DNs and files",
                        INSURER_READ: "read an insurance company's cases, DNs and files",
                        INSURER_WRITE: "merge DNs, close and reopen cases",
                    },
                }
            },
        }
    }
    for path in (*(endpoint.path for endpoint in Endpoint), FNOL_PATH):
        operation = schema["paths"][path]["post"]
        operation["security"] = [{"partnerToken": [REQUIRED_SCOPE]}]
    app.openapi_schema = schema
    return schema
