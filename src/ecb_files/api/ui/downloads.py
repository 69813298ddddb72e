"""A file's bytes for the page: the download, the inline preview of a PDF, the image
thumbnails, and "download all" of a case as one ZIP (§11.3).

The read side's services decide who may see a file and make the bytes (content,
thumbnails, the streamed ZIP); this module asks them as the signed-in user and sends
what they give with the read API's own answers (``api/file_answers.py``), one chunk at a
time, never the whole file.
"""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from starlette.responses import Response

from ecb_files.api.file_answers import (
    download_answer,
    download_request,
    thumbnail_answer,
    thumbnail_is_fresh,
    zip_answer,
)
from ecb_files.api.threads import in_thread
from ecb_files.api.ui import lookups
from ecb_files.api.ui.access import PageNotFound, Visitor, VisitorDep, visitor_page
from ecb_files.api.ui.file_cards import file_card
from ecb_files.errors import EcbError, FileNotFound
from ecb_files.services import audit
from ecb_files.services.thumbnails import longest_side_of

router = APIRouter()


@router.get("/ui/files/{file_id}/content")
async def content(file_id: str, request: Request, visitor: VisitorDep) -> Response:
    return await _download(visitor, file_id, request, inline=False)


@router.get("/ui/files/{file_id}/inline")
async def inline(file_id: str, request: Request, visitor: VisitorDep) -> Response:
    """The bytes for an in-page preview: shown in place when the read side finds the
    type safe to (images, PDFs), else an attachment like any download."""
    return await _download(visitor, file_id, request, inline=True)


@router.get("/ui/files/{file_id}/thumbnail")
async def thumbnail(
    file_id: str, request: Request, visitor: VisitorDep, size: str | None = None
) -> Response:
    file = await lookups.visible_file(visitor, file_id)
    try:
        longest_side = longest_side_of(size)
        image = await in_thread(partial(visitor.services.thumbnails.get, file, longest_side))
    except FileNotFound:
        raise PageNotFound("thumbnail") from None
    except EcbError:
        # A picture that cannot be read (or a bad size) has no thumbnail; its card still
        # offers the file itself.
        return Response(status_code=404)
    if_none_match = request.headers.get("if-none-match")
    if not thumbnail_is_fresh(image, if_none_match):
        record = partial(
            visitor.services.audit.file_read, audit.FILE_THUMBNAIL, visitor.viewer, visitor.origin
        )
        await in_thread(partial(record, file, f"size {longest_side}"))
    return thumbnail_answer(image, if_none_match)


@router.get("/ui/files/{file_id}/preview")
async def preview(file_id: str, visitor: VisitorDep) -> Response:
    file = await lookups.visible_file(visitor, file_id)
    card = file_card(file)
    if not card.previewable:
        raise PageNotFound("preview")
    if file.case_id is not None:
        back_href, back_text = f"/ui/cases/{file.case_id}", "Back to the case"
    else:
        back_href = f"/ui/damage-notifications/{file.damage_notification_id}"
        back_text = "Back to the damage notification"
    return visitor_page(
        visitor, "preview.html", file=card, back_href=back_href, back_text=back_text
    )


@router.get("/ui/cases/{case_id}/files.zip")
async def case_zip(case_id: str, visitor: VisitorDep) -> Response:
    case = await lookups.visible_case(visitor, case_id)
    archive = await in_thread(partial(visitor.services.archives.open, visitor.viewer, case.id))
    record = partial(
        visitor.services.audit.files_read, audit.FILE_ZIP, visitor.viewer, visitor.origin
    )
    await in_thread(partial(record, archive.files))
    return zip_answer(archive)


async def _download(visitor: Visitor, file_id: str, request: Request, *, inline: bool) -> Response:
    file = await lookups.visible_file(visitor, file_id)
    services = visitor.services
    record = partial(services.audit.file_read, audit.FILE_CONTENT, visitor.viewer, visitor.origin)
    answer = await in_thread(
        partial(
            services.content.download,
            file,
            download_request(request),
            inline=inline,
            before_sending=partial(record, file),
        )
    )
    return download_answer(answer)
