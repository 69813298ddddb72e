"""Any other address under ``/ui/``: the page's own "not found", not the API's JSON."""

from __future__ import annotations

from fastapi import APIRouter

from ecb_files.api.ui.access import PageNotFound

router = APIRouter()


@router.get("/ui/{rest:path}")
async def unknown_page(rest: str) -> None:
    raise PageNotFound("page")
