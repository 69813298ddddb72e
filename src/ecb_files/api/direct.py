"""The two submit endpoints served straight from the middleware, ahead of the router.

On a small submission the framework's routing, dependency injection and exception
middleware took about a sixth of the server's CPU, as much as the checks and inserts
of the submission itself. Requests to ``POST`` on a submit path go straight to the same
handler the routes call (``routes.submit.submit``), with the same bearer check and the
same error answers; everything else, including other methods on those paths (405), goes
through the application as before. The routes stay: they are what the OpenAPI schema
and the docs page describe, and they answer identically.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from ecb_files.api.dependencies import writer_of
from ecb_files.api.responses import handle_ecb_error
from ecb_files.api.routes.submit import submit
from ecb_files.domain.endpoints import Endpoint
from ecb_files.errors import EcbError
from ecb_files.services.container import Services

_ENDPOINTS = {endpoint.path: endpoint for endpoint in Endpoint}


class DirectSubmitRoutes:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = _ENDPOINTS.get(scope["path"]) if scope["type"] == "http" else None
        if endpoint is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        services: Services = scope["app"].state.services
        try:
            principal = await writer_of(request, services)
            response = await submit(request, principal, services, endpoint)
        except EcbError as error:
            response = await handle_ecb_error(request, error)
        await response(scope, receive, send)
