"""Pydantic models that document the API in OpenAPI. Bodies are never parsed with them:
the submit endpoints stream (see ``api/body.py``). Bounds are the default ``Limits``; a
deployment's own are served at ``GET …/file/limits``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ecb_files.config import Limits

_DEFAULTS = Limits()


class FileIn(BaseModel):
    model_config = ConfigDict(title="SubmittedFile")

    fileName: str = Field(
        min_length=1,
        max_length=_DEFAULTS.max_file_name_chars,
        description="File name with an allowed extension; no '/', '\\' or control characters.",
        examples=["filename.txt"],
    )
    contentType: str = Field(
        description="A MIME type accepted for the extension (see contentTypes).",
        examples=["text/plain"],
    )
    content: str = Field(
        description="Standard base64 (RFC 4648 §4) with padding; 1 byte to maxFileBytes decoded.",
        examples=["aGVsbG8="],
    )
    description: str | None = Field(default=None, max_length=_DEFAULTS.max_description_chars)
    isRestricted: bool = Field(default=False, description="Honoured on submitForCase only.")
    isDamageImage: bool = Field(
        default=False, description="Honoured on submitForDamageNotification only."
    )
    sha256: str | None = Field(
        default=None,
        pattern="^[0-9a-fA-F]{64}$",
        description="Optional hex SHA-256 of the decoded bytes; a mismatch is refused.",
    )


class SubmitPayload(BaseModel):
    id: str = Field(description="GUID of the case or damage notification.")
    insuranceCompanyAlias: str = Field(min_length=1, examples=["company"])
    userEmail: str = Field(examples=["company_ds@example.com"])
    files: list[FileIn] = Field(min_length=1, max_length=_DEFAULTS.max_files_per_request)


class SubmitRequest(BaseModel):
    securityToken: str = Field(description="The service partner's security token (GUID).")
    timestamp: str | None = Field(default=None, description="yyyy-MM-dd or ISO 8601 date-time.")
    payload: SubmitPayload


class StoredFileOut(BaseModel):
    id: str
    fileName: str
    size: int
    sha256: str


class StoredFiles(BaseModel):
    files: list[StoredFileOut]


class SubmitSuccess(BaseModel):
    success: Literal[True]
    payload: StoredFiles


class ErrorEnvelope(BaseModel):
    success: Literal[False]
    errorDescription: str
    errorType: str = Field(
        examples=["InvalidRequest"],
        description=(
            "Unauthorized, Forbidden, InvalidSecurityToken, InvalidRequest, UserNotFound, "
            "ClaimNotFound, DamageNotificationNotFound, ClaimIsClosed, "
            "DamageNotificationMergedToClaim, InsuranceCompanyNotFound, GenericError, "
            "IdempotencyKeyReused, RequestInProgress, TooManyRequests"
        ),
    )


class TokenSuccess(BaseModel):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int
    scope: str


class TokenError(BaseModel):
    error: Literal[
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "invalid_scope",
        "unsupported_grant_type",
    ]
    error_description: str


def error(description: str) -> dict[str, object]:
    return {"model": ErrorEnvelope, "description": description}


SUBMIT_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"model": SubmitSuccess, "description": "Every file stored, in request order."},
    400: error(
        "InvalidRequest (malformed JSON, base64 or a field rule; names the field or file), "
        "ClaimIsClosed, DamageNotificationMergedToClaim, or a bad Idempotency-Key"
    ),
    401: error("Unauthorized (no or invalid bearer token) or InvalidSecurityToken"),
    403: error("Forbidden: the token lacks platform-service-provider:write"),
    404: error("UserNotFound, ClaimNotFound or DamageNotificationNotFound"),
    408: error("GenericError: the body stopped arriving"),
    409: error("RequestInProgress: the same Idempotency-Key is in flight"),
    413: error("GenericError: a file or the body is over its limit (named)"),
    415: error("GenericError: request Content-Type, or a file's extension or contentType"),
    422: error("IdempotencyKeyReused: same key, different body"),
    500: error("GenericError: unexpected; quotes the request id"),
    503: error("GenericError: database or storage unavailable (Retry-After)"),
    507: error("GenericError: storage full; nothing was stored"),
}


class CreatedDamageNotification(BaseModel):
    id: str = Field(description="GUID of the new damage notification.")
    files: list[StoredFileOut] = Field(description="Its attachments, in part order.")


class FnolSuccess(BaseModel):
    success: Literal[True]
    payload: CreatedDamageNotification


FNOL_RESPONSES: dict[int | str, dict[str, object]] = {
    201: {
        "model": FnolSuccess,
        "description": "The damage notification is created, open, with every attachment; "
        "Location names it.",
        "headers": {"Location": {"schema": {"type": "string"}}},
    },
    400: error(
        "InvalidRequest: malformed multipart or JSON, no or two FNoL parts, an attachment "
        "without a filename, an attachments entry naming no part, the FNoL not valid under "
        "the tenant's schema (names the path), or a bad Idempotency-Key"
    ),
    401: error("Unauthorized (no or invalid bearer token) or InvalidSecurityToken"),
    403: error("Forbidden: the token lacks platform-service-provider:write"),
    404: error("UserNotFound, or InsuranceCompanyNotFound (unknown or not served)"),
    408: error("GenericError: the body stopped arriving"),
    409: error("RequestInProgress: the same Idempotency-Key is in flight"),
    413: error("GenericError: an attachment, the FNoL part or the body is over its limit"),
    415: error("GenericError: request Content-Type, or an attachment's extension or type"),
    422: error("IdempotencyKeyReused: same key, different body"),
    500: error("GenericError: unexpected; quotes the request id"),
    503: error("GenericError: database or storage unavailable (Retry-After)"),
    507: error("GenericError: storage full; nothing was stored"),
}

FNOL_SCHEMA_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "description": "The tenant's FNoL schema, or the built-in default",
        "content": {"application/json": {"schema": {"type": "object"}}},
    },
    400: error("InvalidRequest: insuranceCompanyAlias is missing"),
    404: error("InsuranceCompanyNotFound"),
}
