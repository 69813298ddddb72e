"""Request dependencies: the process's services, the caller of a write endpoint, and
the §12.2 per-client rate limits."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Annotated

from fastapi import Depends, Request

from ecb_files.api.attempts import declared_length
from ecb_files.api.middleware import request_id_of
from ecb_files.api.request_context import note
from ecb_files.api.threads import in_thread
from ecb_files.services.audit import Origin
from ecb_files.services.bearer import Principal
from ecb_files.services.container import Services
from ecb_files.services.rate_limits import Charge


async def services_of(request: Request) -> Services:
    # async: FastAPI would run a plain function in a worker thread, a hop per request.
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(services_of)]


@dataclass(frozen=True)
class Writer:
    """The caller of a write endpoint, with the services that serve it."""

    principal: Principal
    services: Services


async def require_writer(request: Request) -> Writer:
    """401/403, then the client's submission limits (429), from the headers alone,
    before any of the body is read (§2, §12.2; the order is §9's).

    One dependency for the caller and the services: each level of dependencies costs
    the submit path's event loop as much as parsing a small body's fields.
    """
    services = await services_of(request)
    authorization = request.headers.get("authorization")
    known = services.bearer.authenticate_known(authorization)
    if known is None:
        # Off the loop: verifying may reload signing keys from the database.
        known = await in_thread(partial(services.bearer.authenticate, authorization))
    note(request, client_id=known.client_id)
    declared = declared_length(request.headers.get("content-length"))
    await admit(services, services.client_limits.submission(known.client_id, declared))
    return Writer(known, services)


async def admit(services: Services, charges: tuple[Charge, ...]) -> None:
    """Pay a request's rate-limit charges, or ``TooManyRequests`` (§12.2): from this
    process's leases on the loop when it can, else leasing in a worker thread."""
    if charges and not services.rate_limiter.admit_known(charges):
        await in_thread(partial(services.rate_limiter.admit, charges))


WriterDep = Annotated[Writer, Depends(require_writer)]


async def require_caller(request: Request, services: ServicesDep) -> Principal:
    """Any valid access token (401 otherwise), whatever its scopes."""
    authorization = request.headers.get("authorization")
    known = services.bearer.identify_known(authorization)
    if known is None:
        known = await in_thread(partial(services.bearer.identify, authorization))
    note(request, client_id=known.client_id)
    return known


CallerDep = Annotated[Principal, Depends(require_caller)]


def client_address(request: Request) -> str:
    """The address a request came from (the peer's)."""
    client = request.scope.get("client")
    return str(client[0]) if client else "-"


async def origin_of(request: Request) -> Origin:
    """Where the request came from, for the audit trail (§12.3)."""
    return Origin(client_address(request), request_id_of(request.scope) or "-")


OriginDep = Annotated[Origin, Depends(origin_of)]
