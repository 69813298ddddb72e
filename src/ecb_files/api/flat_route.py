"""``FlatRoute``: an ``APIRoute`` whose dependencies take nothing but the request, called
directly instead of through FastAPI's general dependency solver.

The route is otherwise the same: the router matches it, the OpenAPI description is
generated from it, the middleware and the exception handlers wrap it. Only its handler
is shorter, because the general solver's work per request (a scratch response, the
cache keys, the parameter models, the exit stacks' bookkeeping) is most of the
framework's share of a small submission (bench/README.md, "Ninth round").

Nothing added to the route is skipped. A route is flat only while every dependency is
an ``async def`` of the request alone, with no ``yield``, no parameters of its own and
no security scopes, and the endpoint takes only the request and those dependencies;
anything else is served by FastAPI's own handler. So is every request made while one
of the route's dependencies is overridden (``app.dependency_overrides``), and a route
reached through ``include_router``, whose dependencies and overrides are the
inclusion's: a flat route belongs on the application's own router.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, _effective_route_context_var
from starlette.responses import Response

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
RequestDependency = Callable[[Request], Awaitable[Any]]


class FlatRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        general = super().get_route_handler()
        provider = self.dependency_overrides_provider
        included = _effective_route_context_var.get() is not None
        plan = flat_plan(self.dependant)
        if plan is None or included or provider is None:
            return general
        endpoint, request_name, dependencies = plan
        calls = tuple(call for _, call in dependencies)

        async def handler(request: Request) -> Response:
            overrides = getattr(provider, "dependency_overrides", None)
            if overrides and any(call in overrides for call in calls):
                return await general(request)
            values: dict[str, Any] = {request_name: request} if request_name else {}
            for name, call in dependencies:
                values[name] = await call(request)
            response = await endpoint(**values)
            if not isinstance(response, Response):
                raise TypeError(f"{self.path}: a flat route's endpoint returns a Response")
            return response

        return handler


FlatPlan = tuple[
    Callable[..., Awaitable[Any]], str | None, tuple[tuple[str, RequestDependency], ...]
]


def flat_plan(dependant: Dependant) -> FlatPlan | None:
    """The endpoint, its request parameter's name and its dependencies by parameter
    name — or ``None`` when the route is not flat (see the module doc)."""
    endpoint = dependant.call
    if endpoint is None or not _plain_async(endpoint) or _own_parameters(dependant):
        return None
    dependencies: list[tuple[str, RequestDependency]] = []
    for sub in dependant.dependencies:
        call = sub.call
        if (
            sub.name is None  # a route-level ``dependencies=[…]``: its value is not passed
            or call is None
            or not _plain_async(call)
            or _own_parameters(sub)
            or sub.dependencies
            or sub.request_param_name is None
            or sub.own_oauth_scopes
            or len(inspect.signature(call).parameters) != 1
        ):
            return None
        dependencies.append((sub.name, call))
    return endpoint, dependant.request_param_name, tuple(dependencies)


def _plain_async(call: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(call)


def _own_parameters(dependant: Dependant) -> bool:
    """Anything the general solver would read for it besides the request."""
    return bool(
        dependant.path_params
        or dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
    )
