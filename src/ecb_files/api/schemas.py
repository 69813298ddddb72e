"""Pydantic models that document the API in OpenAPI. Bodies are never parsed with them:
the submit endpoints stream (see ``api/body.py``). Bounds are the default ``Limits``; a
deployment's own are served at ``GET …/file/limits``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ecb_files.config import Limits

_DEFAULTS = Limits()


class _FileFields(BaseModel):
    """The members of a file entry that both forms share (§3.1, §10.1)."""

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


_FILE_NAME = Field(
    min_length=1,
    max_length=_DEFAULTS.max_file_name_chars,
    description="File name with an allowed extension; no '/', '\\' or control characters.",
    examples=["filename.txt"],
)
_CONTENT_TYPE = Field(
    description="A MIME type accepted for the extension (see contentTypes).",
    examples=["text/plain"],
)


class FileIn(_FileFields):
    model_config = ConfigDict(title="SubmittedFile")

    fileName: str = _FILE_NAME
    contentType: str = _CONTENT_TYPE
    content: str = Field(
        description="Standard base64 (RFC 4648 §4) with padding; 1 byte to maxFileBytes decoded.",
        examples=["aGVsbG8="],
    )


class BinaryFileIn(_FileFields):
    model_config = ConfigDict(title="SubmittedFilePart")

    part: str = Field(
        min_length=1,
        description="The name of the multipart part that carries this file's bytes.",
        examples=["photo"],
    )
    fileName: str | None = Field(
        default=None,
        min_length=1,
        max_length=_DEFAULTS.max_file_name_chars,
        description="Default: the part's Content-Disposition filename (or filename*).",
    )
    contentType: str | None = Field(default=None, description="Default: the part's Content-Type.")


class SubmitPayload(BaseModel):
    id: str = Field(description="GUID of the case or damage notification.")
    insuranceCompanyAlias: str = Field(min_length=1, examples=["company"])
    userEmail: str = Field(examples=["company_ds@example.com"])
    files: list[FileIn] = Field(min_length=1, max_length=_DEFAULTS.max_files_per_request)


class BinarySubmitPayload(SubmitPayload):
    files: list[BinaryFileIn] = Field(  # type: ignore[assignment]
        min_length=1, max_length=_DEFAULTS.max_files_per_request
    )


class SubmitRequest(BaseModel):
    securityToken: str = Field(description="The service partner's security token (GUID).")
    timestamp: str | None = Field(default=None, description="yyyy-MM-dd or ISO 8601 date-time.")
    payload: SubmitPayload


class BinarySubmitRequest(SubmitRequest):
    """The part named submission of a multipart/form-data submit request."""

    payload: BinarySubmitPayload


def submit_request_bodies() -> dict[str, object]:
    """The two forms of a submit request body, for an operation's ``requestBody``."""
    return {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/SubmitRequest"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "description": (
                        "The first part, 'submission', is the JSON of SubmitRequest with "
                        "files[i].part naming the part that carries each file's raw bytes "
                        "(Content-Transfer-Encoding: base64 honoured); every other part is "
                        "one file, named by exactly one files[i].part."
                    ),
                    "required": ["submission"],
                    "properties": {
                        "submission": {"$ref": "#/components/schemas/BinarySubmitRequest"}
                    },
                    "additionalProperties": {"type": "string", "format": "binary"},
                },
                "encoding": {"submission": {"contentType": "application/json"}},
            },
        },
    }


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
        "temporarily_unavailable",
    ]
    error_description: str


def error(description: str) -> dict[str, object]:
    return {"model": ErrorEnvelope, "description": description}


RETRY_AFTER_HEADER: dict[str, object] = {
    "description": "Whole seconds until the limit admits the request",
    "schema": {"type": "integer", "minimum": 1},
}


def rate_limited(description: str) -> dict[str, object]:
    """A §12.2 429: the envelope with ``TooManyRequests``, and ``Retry-After``."""
    return {**error(description), "headers": {"Retry-After": RETRY_AFTER_HEADER}}


_SUBMISSION_429 = rate_limited(
    "TooManyRequests: the client's submission rate (ECB_FILES_RATE_LIMIT) or byte rate "
    "(ECB_FILES_BYTE_RATE_LIMIT, by the declared Content-Length) is spent; decided from "
    "the headers, before the body is read"
)
_READ_429 = rate_limited(
    "TooManyRequests: the client's read rate (ECB_FILES_READ_RATE_LIMIT) is spent"
)


SUBMIT_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {"model": SubmitSuccess, "description": "Every file stored, in request order."},
    400: error(
        "InvalidRequest (malformed JSON, multipart or base64, or a field rule; names the "
        "field, file or part), "
        "ClaimIsClosed, DamageNotificationMergedToClaim, or a bad Idempotency-Key"
    ),
    401: error("Unauthorized (no or invalid bearer token) or InvalidSecurityToken"),
    403: error("Forbidden: the token lacks platform-service-provider:write"),
    404: error("UserNotFound, ClaimNotFound or DamageNotificationNotFound"),
    408: error("GenericError: the body stopped arriving"),
    409: error("RequestInProgress: the same Idempotency-Key is in flight"),
    413: error("GenericError: a file or the body is over its limit (named)"),
    415: error(
        "GenericError: request Content-Type, a file's extension or contentType, or its "
        "bytes not what its name says (an executable under any name; §12.1)"
    ),
    422: error(
        "IdempotencyKeyReused: same key, different body; or MalwareDetected: the malware "
        "scanner found a signature in a file (names the file and the signature)"
    ),
    429: _SUBMISSION_429,
    500: error("GenericError: unexpected; quotes the request id"),
    503: error(
        "GenericError: database, storage or malware scanner unavailable (Retry-After)"
    ),
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
    415: error(
        "GenericError: request Content-Type, an attachment's extension or type, or its "
        "bytes not what its name says (an executable under any name; §12.1)"
    ),
    422: error(
        "IdempotencyKeyReused: same key, different body; or MalwareDetected: the malware "
        "scanner found a signature in an attachment"
    ),
    429: _SUBMISSION_429,
    500: error("GenericError: unexpected; quotes the request id"),
    503: error(
        "GenericError: database, storage or malware scanner unavailable (Retry-After)"
    ),
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

READ_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "description": '{"success": true, "payload": …}: the object, or '
        '{"files": [...], "nextCursor"} for a list (see docs/behaviour.md §11.2)',
        "content": {"application/json": {"schema": {"type": "object"}}},
    },
    400: error("InvalidRequest: an id that is not a GUID, a limit outside 1–500, a bad cursor"),
    401: error("Unauthorized (no or invalid bearer token)"),
    403: error(
        "Forbidden: the token lacks platform-service-provider:read (a partner's client) or "
        "platform-insurer:read (an insurer's)"
    ),
    404: error(
        "ClaimNotFound, DamageNotificationNotFound or FileNotFound: missing, or not visible "
        "to this client (the two are answered alike)"
    ),
    429: _READ_429,
}

WRITE_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "description": '{"success": true}',
        "content": {"application/json": {"schema": {"type": "object"}}},
    },
    400: error("InvalidRequest: an id that is not a GUID, or no caseId in the body"),
    401: error("Unauthorized (no or invalid bearer token)"),
    403: error("Forbidden: the token lacks platform-insurer:write"),
    404: error("ClaimNotFound or DamageNotificationNotFound (missing or another tenant's)"),
    409: error("DamageNotificationMergedToClaim: already merged into another case (named)"),
    429: _READ_429,
}
