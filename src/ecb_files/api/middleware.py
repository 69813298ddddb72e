"""The outermost ASGI layer: request ids on every answer, the last-resort 500, the access log.

It sits outside the framework's own error handling, so even an exception that escapes
everything else becomes the error envelope, and every response — success, refusal
or crash — carries ``X-Request-Id`` (§3.3, §9) and gets an access log line with it.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ecb_files.api.access_log import AccessLog, Entry
from ecb_files.errors import GenericError

log = logging.getLogger("ecb_files.api")

_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id_of(scope: Scope) -> str:
    state = scope.get("state") or {}
    return str(state.get("request_id", ""))


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp, access_log: AccessLog | None = None) -> None:
        self.app = app
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.monotonic()
        request_id = _request_id_from(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        header = (b"x-request-id", request_id.encode())
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"
                ]
                message = {**message, "headers": [*headers, header]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except ClientDisconnect:
            # Gone mid-body: there is nobody to answer, and nothing was stored (§3.4).
            log.info("client went away before the answer, request id %s", request_id)
        except Exception as error:
            log.exception("unhandled error, request id %s", request_id)
            if status:
                raise
            status = 500
            description = f"internal error ({type(error).__name__}); quote request id {request_id}"
            body = GenericError(description).envelope()
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        header,
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
        finally:
            if self.access_log is not None:
                self.access_log.record(_entry(scope, status, time.monotonic() - began, request_id))


def _entry(scope: Scope, status: int, seconds: float, request_id: str) -> Entry:
    client = scope.get("client")
    where = f"{client[0]}:{client[1]}" if client else "-"
    path = scope.get("raw_path") or scope["path"].encode()
    query = scope.get("query_string")
    target = (path + b"?" + query if query else path).decode("latin-1")
    version = scope.get("http_version", "1.1")
    return (time.time(), where, scope["method"], target, version, status, seconds, request_id)


def _request_id_from(scope: Scope) -> str:
    for name, value in scope.get("headers", []):
        if name == b"x-request-id":
            text: str = value.decode("latin-1")
            if _SANE_REQUEST_ID.fullmatch(text):
                return text
            break
    return uuid.uuid4().hex
