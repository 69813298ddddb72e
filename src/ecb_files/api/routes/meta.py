"""Public metadata and health: file types, limits, liveness, readiness (§4, §8)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import JSONResponse

from ecb_files.api.dependencies import ServicesDep
from ecb_files.api.threads import in_thread
from ecb_files.domain import filetypes
from ecb_files.errors import ServiceUnavailable

router = APIRouter()

FILE_API = "/ecx/host/api/integration/v1/file"


@router.get(
    f"{FILE_API}/contentTypes",
    tags=["file submission"],
    summary="Allowed extensions and the content types accepted for each",
)
async def content_types() -> dict[str, list[str]]:
    return filetypes.content_types_document()


@router.get(f"{FILE_API}/limits", tags=["file submission"], summary="The limits in force")
async def limits(services: ServicesDep) -> dict[str, int | bool]:
    # "multipart": the submit endpoints also take the binary form of §10.1.
    return {**services.settings.limits.as_public_dict(), "multipart": True}


@router.get("/healthz", tags=["operations"], summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    tags=["operations"],
    summary="The database, the storage and (when configured) the malware scanner answer",
)
async def readyz(services: ServicesDep) -> JSONResponse:
    try:
        checks = await in_thread(services.check_ready)
    except ServiceUnavailable as error:
        return JSONResponse(
            {"status": "unavailable", "reason": error.description},
            status_code=503,
            headers=error.headers(),
        )
    return JSONResponse({"status": "ready", "checks": checks})
