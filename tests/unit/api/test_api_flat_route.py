"""``FlatRoute``: dependencies of the request alone are called directly, and anything
added to the route still takes effect (docs/behaviour.md §3: the submit endpoints are
ordinary routes of the application)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated, Any

import fastapi.routing
import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI, Request
from starlette.responses import JSONResponse, Response

from ecb_files.api.app import create_app
from ecb_files.api.dependencies import require_writer
from ecb_files.api.flat_route import FlatRoute, flat_plan
from ecb_files.config import Settings
from ecb_files.domain.endpoints import Endpoint


async def caller(request: Request) -> str:
    return request.headers.get("x-caller", "nobody")


async def endpoint(request: Request, who: Annotated[str, Depends(caller)]) -> Response:
    return JSONResponse({"who": who, "path": request.url.path})


# Module-level: FastAPI resolves the string annotations in the module's namespace.
async def paged(request: Request, page: int = 1) -> str:
    return f"page {page}"


async def listing(who: Annotated[str, Depends(paged)]) -> Response:
    return JSONResponse({"who": who})


CLOSED: list[bool] = []


async def held(request: Request) -> AsyncIterator[str]:
    yield "held"
    CLOSED.append(True)


async def uses(who: Annotated[str, Depends(held)]) -> Response:
    return JSONResponse({"who": who})


def app_with(**route: Any) -> FastAPI:
    """``/flat``, and with ``route`` given, ``/other`` made from it."""
    app = FastAPI()
    app.router.add_api_route("/flat", endpoint, methods=["POST"], route_class_override=FlatRoute)
    if route:
        app.router.add_api_route("/other", route.pop("endpoint", endpoint), **route)
    return app


def post(app: FastAPI, path: str = "/flat", **headers: str) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post(path, headers=headers)

    return asyncio.run(go())


@pytest.fixture
def solver_calls(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Each call of FastAPI's general dependency solver, by the route's endpoint."""
    calls: list[object] = []
    solve = fastapi.routing.solve_dependencies

    async def counted(**kwargs: Any) -> Any:
        calls.append(kwargs["dependant"].call)
        return await solve(**kwargs)

    monkeypatch.setattr(fastapi.routing, "solve_dependencies", counted)
    return calls


def test_a_flat_route_calls_its_dependency_without_the_general_solver(
    solver_calls: list[object],
) -> None:
    """§3: the dependency's value reaches the endpoint; the solver is not used."""
    answer = post(app_with(), **{"x-caller": "partner-7"})
    assert answer.json() == {"who": "partner-7", "path": "/flat"}
    assert solver_calls == []


def test_an_override_of_the_dependency_is_honoured(solver_calls: list[object]) -> None:
    """§3: ``app.dependency_overrides`` applies to a flat route, through FastAPI's solver."""
    app = app_with()

    async def impostor() -> str:
        return "override"

    app.dependency_overrides[caller] = impostor
    assert post(app, **{"x-caller": "partner-7"}).json()["who"] == "override"
    assert solver_calls == [endpoint]
    app.dependency_overrides.clear()
    assert post(app, **{"x-caller": "partner-7"}).json()["who"] == "partner-7"
    assert solver_calls == [endpoint]


def test_a_route_level_dependency_runs() -> None:
    """§3: ``dependencies=[…]`` on the route is not skipped (the route is not flat)."""
    seen: list[str] = []

    async def audit(request: Request) -> None:
        seen.append(request.url.path)

    app = app_with(methods=["POST"], route_class_override=FlatRoute, dependencies=[Depends(audit)])
    assert post(app, "/other").status_code == 200
    assert seen == ["/other"]


def test_a_dependency_with_parameters_of_its_own_gets_them() -> None:
    """§3: a dependency reading a query parameter is solved by FastAPI (not flat)."""
    route = app_with(methods=["POST"], route_class_override=FlatRoute, endpoint=listing)
    other = route.router.routes[-1]
    assert isinstance(other, FlatRoute)
    assert flat_plan(other.dependant) is None
    assert post(route, "/other?page=3").json() == {"who": "page 3"}


def test_a_dependency_with_yield_is_not_flat() -> None:
    """§3: a ``yield`` dependency keeps FastAPI's exit stack, so its clean-up runs."""
    CLOSED.clear()
    app = app_with(methods=["POST"], route_class_override=FlatRoute, endpoint=uses)
    assert post(app, "/other").json() == {"who": "held"}
    assert CLOSED == [True]


def test_a_flat_route_included_from_another_router_uses_the_inclusions_overrides(
    solver_calls: list[object],
) -> None:
    """§3: through ``include_router`` the route is served by FastAPI's own handler."""
    router = APIRouter(route_class=FlatRoute)
    router.add_api_route("/included", endpoint, methods=["POST"])
    app = FastAPI()
    app.include_router(router)

    async def impostor() -> str:
        return "override"

    app.dependency_overrides[caller] = impostor
    assert post(app, "/included").json()["who"] == "override"
    assert solver_calls == [endpoint]


def test_the_submit_routes_are_flat_and_an_override_reaches_them(tmp_path: Any) -> None:
    """§3: the application's submit routes are flat routes of its own router, and an
    override of ``require_writer`` takes effect on them."""
    app = create_app(Settings(data_dir=tmp_path))
    submit_routes = [r for r in app.router.routes if isinstance(r, FlatRoute)]
    assert [r.path for r in submit_routes] == [
        Endpoint.CASE.path,
        Endpoint.DAMAGE_NOTIFICATION.path,
    ]
    assert all(flat_plan(r.dependant) is not None for r in submit_routes)

    async def refuse(request: Request) -> Any:
        raise fastapi.HTTPException(status_code=418, detail="refused by the override")

    app.dependency_overrides[require_writer] = refuse
    for route in submit_routes:
        answer = post(app, route.path)
        assert answer.status_code == 400, answer.text  # the app's handler maps HTTPException
        assert answer.json()["errorDescription"] == "refused by the override"
