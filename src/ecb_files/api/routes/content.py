"""A file's bytes, its thumbnail, and a case's files as one ZIP (§11.2).

Headers → service → answer: which file the caller may see is ``services/reading.py``'s
decision, the HTTP rules of a download are ``services/content.py``'s, and the bytes are
sent by ``api/file_answers.py`` (shared with the claims-handler page), one chunk at a
time from a worker thread.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from ecb_files.api.dependencies import OriginDep, ServicesDep
from ecb_files.api.file_answers import (
    download_answer,
    download_request,
    thumbnail_answer,
    thumbnail_is_fresh,
    zip_answer,
)
from ecb_files.api.routes.read import API, ReaderDep
from ecb_files.api.schemas import READ_RESPONSES
from ecb_files.api.threads import in_thread
from ecb_files.domain.rules import parse_guid
from ecb_files.services import audit
from ecb_files.services.thumbnails import longest_side_of

router = APIRouter(tags=["read (§11)"])

_BYTES: dict[str, object] = {
    "description": "the bytes",
    "content": {"application/octet-stream": {}},
}
_CONTENT_RESPONSES: dict[int | str, dict[str, object]] = {
    **READ_RESPONSES,
    200: _BYTES,
    206: {"description": "the one range asked for, with Content-Range"},
    304: {"description": "If-None-Match named the current ETag"},
    416: {"description": "the range lies past the end (Content-Range: bytes */size)"},
}


@router.get(
    f"{API}/file/{{fileId}}/content",
    summary="A file's bytes",
    description=(
        "Streamed from storage. `ETag` is the quoted SHA-256 (`If-None-Match` → 304); "
        "one `Range` → 206 with `Content-Range` (past the end → 416; several ranges → "
        "the whole file, 200; `If-Range` with another tag → 200). Always "
        "`Content-Disposition: attachment` with an ASCII `filename` and the exact name "
        "in `filename*`; `X-Content-Type-Options: nosniff`; HTML, SVG, XML, XHTML and "
        "unknown types also carry `Content-Security-Policy: sandbox`."
    ),
    response_class=Response,
    responses=_CONTENT_RESPONSES,
)
async def get_content(
    fileId: str, request: Request, viewer: ReaderDep, services: ServicesDep, origin: OriginDep
) -> Response:
    file_id = parse_guid(fileId, field="fileId")
    file = await in_thread(partial(services.reader.file, viewer, file_id))
    wanted = download_request(request)
    record = partial(services.audit.file_read, audit.FILE_CONTENT, viewer, origin, file)
    download = await in_thread(
        partial(services.content.download, file, wanted, before_sending=record)
    )
    return download_answer(download)


@router.get(
    f"{API}/file/{{fileId}}/thumbnail",
    summary="An image file's thumbnail",
    description=(
        "For jpg/jpeg/jpe, png, gif, bmp, tif/tiff, heic and avif files: a JPEG whose "
        "longer side is `size` pixels (64–1024, default 256), EXIF orientation applied. "
        "Made on the first request and kept. 404 `FileNotFound` for other files; 422 "
        "when the image cannot be decoded or declares more pixels than the limit."
    ),
    response_class=Response,
    responses={
        **READ_RESPONSES,
        200: {"description": "the thumbnail", "content": {"image/jpeg": {}}},
        304: {"description": "If-None-Match named the current ETag"},
        422: {"description": "no thumbnail can be made of the file's bytes"},
    },
)
async def get_thumbnail(
    fileId: str,
    request: Request,
    viewer: ReaderDep,
    services: ServicesDep,
    origin: OriginDep,
    size: Annotated[str | None, Query(description="the longer side in pixels, 64–1024")] = None,
) -> Response:
    file_id = parse_guid(fileId, field="fileId")
    longest_side = longest_side_of(size)
    file = await in_thread(partial(services.reader.file, viewer, file_id))
    # CPU work (decode, resize, encode) and storage: off the event loop.
    thumbnail = await in_thread(partial(services.thumbnails.get, file, longest_side))
    if_none_match = request.headers.get("if-none-match")
    if not thumbnail_is_fresh(thumbnail, if_none_match):
        detail = f"size {longest_side}"
        record = partial(services.audit.file_read, audit.FILE_THUMBNAIL, viewer, origin)
        await in_thread(partial(record, file, detail))
    return thumbnail_answer(thumbnail, if_none_match)


@router.get(
    f"{API}/case/{{caseId}}/files.zip",
    summary="The case's files as one ZIP (extension)",
    description=(
        "Our extension: the files this caller sees on the case, in one ZIP streamed as "
        "it is made (entries stored uncompressed, oldest first; a repeated name gets "
        "` (2)` before its extension). No `Content-Length`: the body is chunked."
    ),
    response_class=Response,
    responses={**READ_RESPONSES, 200: {"content": {"application/zip": {}}}},
)
async def get_case_zip(
    caseId: str, viewer: ReaderDep, services: ServicesDep, origin: OriginDep
) -> Response:
    case_id = parse_guid(caseId, field="caseId")
    archive = await in_thread(partial(services.archives.open, viewer, case_id))
    record = partial(services.audit.files_read, audit.FILE_ZIP, viewer, origin)
    await in_thread(partial(record, archive.files))
    return zip_answer(archive)
