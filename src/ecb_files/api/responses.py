"""The one place errors become the JSON envelope (§3.3)."""

from __future__ import annotations

import json
import logging

from starlette.requests import Request
from starlette.responses import Response

from ecb_files.domain.endpoints import TOKEN_PATH
from ecb_files.errors import DatabaseUnavailable, EcbError, OAuthError, ScannerUnavailable

log = logging.getLogger("ecb_files.api")


def json_response(status: int, body: bytes, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def error_response(error: EcbError) -> Response:
    return json_response(error.status, error.envelope(), error.headers())


def oauth_error_response(error: OAuthError) -> Response:
    headers = {"Cache-Control": "no-store", "Pragma": "no-cache"}
    if error.basic_challenge:
        headers["WWW-Authenticate"] = 'Basic realm="ecb-files"'
    if error.retry_after is not None:
        headers["Retry-After"] = str(error.retry_after)
    body = json.dumps({"error": error.error, "error_description": error.description})
    return json_response(error.status, body.encode(), headers)


async def handle_ecb_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, EcbError)
    if request.url.path == TOKEN_PATH:
        # OAuth clients read RFC 6749's error form there, whatever went wrong.
        return await handle_oauth_error(request, OAuthError.from_ecb_error(error))
    log.info(
        "refused %s %s: %s %s (%s)%s",
        request.method,
        request.url.path,
        error.status,
        error.error_type,
        error.reason,
        f": {error.detail}" if isinstance(error, DatabaseUnavailable | ScannerUnavailable) else "",
    )
    return error_response(error)


async def handle_oauth_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, OAuthError)
    log.info("token refused: %s (%s)", error.error, error.description)
    services = getattr(request.app.state, "services", None)
    if services is not None:
        services.metrics.token_refused(error.error)
    return oauth_error_response(error)
