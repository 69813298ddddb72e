"""Everything this package raises, as one tree.

::

    EcbClientError                 base: catch this to catch everything below
    ├── LocalValidationError       refused before sending, worded as the server would
    │                              (.error_type and .status the server would answer)
    ├── TransportError             the server could not be reached, or the connection
    │                              broke, on every attempt
    ├── BodyNotRepeatable          a retry was needed, but a file is a stream that
    │                              cannot be read a second time
    ├── TokenError                 the token endpoint refused (.error: RFC 6749 §5.2
    │   │                          code) or failed (.status >= 500)
    │   └── DiscoveryError         the issuer's openid-configuration is unusable
    └── ApiError                   the API's {"success": false, …} envelope
        │                          (.status, .error_type, .description, .request_id)
        ├── Unauthorized                     401
        ├── Forbidden                        403
        ├── InvalidSecurityToken             401
        ├── InvalidRequest                   400
        ├── UserNotFound                     404
        ├── ClaimNotFound                    404
        ├── DamageNotificationNotFound       404
        ├── InsuranceCompanyNotFound         404  (a new damage notification's tenant)
        ├── FileNotFound                     404
        ├── ClaimIsClosed                    400
        ├── DamageNotificationMergedToClaim  400  (.case_id: the case it went into)
        ├── IdempotencyKeyReused             422
        ├── MalwareDetected                  422  (the server's virus scanner found one)
        ├── RequestInProgress                409
        ├── TooManyRequests                  429
        └── GenericError                     413, 415, 500, 503, 507, …; also any
                                             answer that is not the envelope

One class per ``errorType`` of the contract: ``ApiError.error_type`` is the wire value,
so ``except ClaimIsClosed`` and ``error.error_type == "ClaimIsClosed"`` agree.
Every error raised after a request was attempted carries ``attempts``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import ClassVar

_MERGED_INTO = re.compile(r"merged to claim with id ([0-9A-Fa-f-]{36})")
_SNIPPET_CHARS = 200


class EcbClientError(Exception):
    """The base of every error this package raises."""

    attempts: int = 0

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LocalValidationError(EcbClientError):
    """The submission breaks a rule of the API and was not sent.

    ``description`` is worded exactly as the server's answer would be; ``error_type``
    and ``status`` are what the server would have answered (``InvalidRequest``/400, or
    ``GenericError`` with 413 or 415).
    """

    def __init__(
        self, description: str, *, error_type: str = "InvalidRequest", status: int = 400
    ) -> None:
        super().__init__(description)
        self.description = description
        self.error_type = error_type
        self.status = status


class TransportError(EcbClientError):
    """No HTTP answer: connection refused or cut, a timeout, a protocol error."""


class BodyNotRepeatable(EcbClientError):
    """A retry was needed, but the request body cannot be produced a second time."""


class TokenError(EcbClientError):
    """The token endpoint answered with an error (RFC 6749 §5.2) or not at all usefully."""

    def __init__(self, error: str, description: str, *, status: int) -> None:
        super().__init__(f"token endpoint: {error}: {description}" if description else error)
        self.error = error
        self.description = description
        self.status = status

    @property
    def transient(self) -> bool:
        """Worth retrying: the endpoint failed rather than refused."""
        return self.status >= 500 or self.status in (408, 429)


class DiscoveryError(TokenError):
    """The issuer's ``/.well-known/openid-configuration`` could not be used."""


class ApiError(EcbClientError):
    """An error answer of a submit endpoint: ``{"success": false, …}``."""

    error_type: ClassVar[str] = "GenericError"

    def __init__(
        self,
        description: str,
        *,
        status: int,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(f"{self.error_type} (HTTP {status}): {description}")
        self.description = description
        self.status = status
        self.request_id = request_id
        self.retry_after = retry_after


class Unauthorized(ApiError):
    error_type = "Unauthorized"


class Forbidden(ApiError):
    error_type = "Forbidden"


class InvalidSecurityToken(ApiError):
    error_type = "InvalidSecurityToken"


class InvalidRequest(ApiError):
    error_type = "InvalidRequest"


class UserNotFound(ApiError):
    error_type = "UserNotFound"


class ClaimNotFound(ApiError):
    error_type = "ClaimNotFound"


class DamageNotificationNotFound(ApiError):
    error_type = "DamageNotificationNotFound"


class InsuranceCompanyNotFound(ApiError):
    error_type = "InsuranceCompanyNotFound"


class FileNotFound(ApiError):
    error_type = "FileNotFound"


class ClaimIsClosed(ApiError):
    error_type = "ClaimIsClosed"


class DamageNotificationMergedToClaim(ApiError):
    error_type = "DamageNotificationMergedToClaim"

    @property
    def case_id(self) -> str | None:
        """The case the damage notification was merged into, as the server named it."""
        match = _MERGED_INTO.search(self.description)
        return match.group(1) if match else None


class IdempotencyKeyReused(ApiError):
    error_type = "IdempotencyKeyReused"


class MalwareDetected(ApiError):
    error_type = "MalwareDetected"


class RequestInProgress(ApiError):
    error_type = "RequestInProgress"


class TooManyRequests(ApiError):
    error_type = "TooManyRequests"


class GenericError(ApiError):
    error_type = "GenericError"


API_ERRORS: Mapping[str, type[ApiError]] = {
    cls.error_type: cls
    for cls in (
        Unauthorized,
        Forbidden,
        InvalidSecurityToken,
        InvalidRequest,
        UserNotFound,
        ClaimNotFound,
        DamageNotificationNotFound,
        InsuranceCompanyNotFound,
        FileNotFound,
        ClaimIsClosed,
        DamageNotificationMergedToClaim,
        IdempotencyKeyReused,
        MalwareDetected,
        RequestInProgress,
        TooManyRequests,
        GenericError,
    )
}


def api_error(
    status: int,
    content: bytes,
    *,
    request_id: str | None = None,
    retry_after: float | None = None,
) -> ApiError:
    """The exception for an error answer: by its ``errorType``, else a GenericError.

    An answer that is not the contract's envelope (a proxy's HTML page, say) becomes a
    GenericError quoting the start of the body, so the operator sees what came back.
    """
    envelope = _envelope(content)
    if envelope is None:
        snippet = content[:_SNIPPET_CHARS].decode("utf-8", "replace").strip()
        description = f"unexpected answer (not the API's error envelope): {snippet or 'empty'}"
        return GenericError(
            description, status=status, request_id=request_id, retry_after=retry_after
        )
    error_type, description = envelope
    cls = API_ERRORS.get(error_type, GenericError)
    if cls is GenericError and error_type != "GenericError":
        description = f"{error_type}: {description}"
    return cls(description, status=status, request_id=request_id, retry_after=retry_after)


def _envelope(content: bytes) -> tuple[str, str] | None:
    try:
        body = json.loads(content)
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("success") is not False:
        return None
    error_type, description = body.get("errorType"), body.get("errorDescription")
    if not isinstance(error_type, str) or not isinstance(description, str):
        return None
    return error_type, description
