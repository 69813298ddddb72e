"""The HTTP answers that carry a file's bytes, a thumbnail or a ZIP: one place for the
read API's routes and the claims-handler page (§11.2, §11.3).

The services decide what is sent (``services/content.py``, ``thumbnails.py``,
``archive.py``); these only put it on the wire.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ecb_files.api.streaming import ChunkedResponse
from ecb_files.domain.downloads import content_disposition
from ecb_files.services.archive import CaseArchive
from ecb_files.services.content import Download, DownloadRequest
from ecb_files.services.thumbnails import ThumbnailImage


def download_request(request: Request) -> DownloadRequest:
    """The request headers a download depends on (``Range``, ``If-None-Match``, ``If-Range``)."""
    return DownloadRequest(
        range=request.headers.get("range"),
        if_none_match=request.headers.get("if-none-match"),
        if_range=request.headers.get("if-range"),
    )


def download_answer(download: Download) -> Response:
    """200, 206 or 304 with the download's headers, the bytes streamed."""
    return ChunkedResponse(download.body, download.status, download.headers)


def thumbnail_answer(thumbnail: ThumbnailImage, if_none_match: str | None) -> Response:
    # A thumbnail never changes for its file and size: a browser may keep it a day.
    headers = {
        "ETag": thumbnail.etag,
        "Cache-Control": "private, max-age=86400",
        "X-Content-Type-Options": "nosniff",
    }
    if thumbnail_is_fresh(thumbnail, if_none_match):
        return Response(status_code=304, headers=headers)
    return Response(thumbnail.content, media_type=thumbnail.media_type, headers=headers)


def thumbnail_is_fresh(thumbnail: ThumbnailImage, if_none_match: str | None) -> bool:
    """The client has this thumbnail already (304: no bytes sent, nothing audited)."""
    return if_none_match == thumbnail.etag


def zip_answer(archive: CaseArchive) -> Response:
    """The archive streamed as it is written: no Content-Length, the body is chunked."""
    headers = {
        "Content-Type": "application/zip",
        "Content-Disposition": content_disposition(archive.file_name),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    }
    return ChunkedResponse(archive.stream, 200, headers)
