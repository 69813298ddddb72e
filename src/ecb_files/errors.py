"""The error table (§3.3) as one exception tree.

::

    EcbError                      status  errorType
    ├── Unauthorized                 401  Unauthorized            (+ WWW-Authenticate)
    ├── Forbidden                    403  Forbidden               (+ WWW-Authenticate)
    ├── InvalidSecurityToken         401  InvalidSecurityToken
    ├── InvalidRequest               400  InvalidRequest
    ├── UserNotFound                 404  UserNotFound
    ├── ClaimNotFound                404  ClaimNotFound
    ├── DamageNotificationNotFound   404  DamageNotificationNotFound
    ├── InsuranceCompanyNotFound     404  InsuranceCompanyNotFound
    ├── FileNotFound                 404  FileNotFound
    ├── ClaimIsClosed                400  ClaimIsClosed
    ├── DamageNotificationMergedToClaim 400
    │   └── MergedIntoAnotherCase    409   (an insurer's merge, §11.2)
    ├── IdempotencyKeyReused         422  IdempotencyKeyReused
    ├── MalwareDetected              422  MalwareDetected         (§12.1, names the signature)
    ├── RequestInProgress            409  RequestInProgress
    ├── TooManyRequests              429  TooManyRequests         (+ Retry-After)
    └── GenericError                 500  GenericError
        ├── NotFound                 404   (no such route)
        ├── MethodNotAllowed         405
        ├── RequestTimeout           408   (body stopped arriving)
        ├── PayloadTooLarge          413
        ├── UnsupportedMediaType     415
        ├── RangeNotSatisfiable      416   (+ Content-Range: bytes */size)
        ├── UnprocessableContent     422   (no thumbnail can be made of the bytes)
        ├── ServiceUnavailable       503   (+ Retry-After)
        │   ├── DatabaseUnavailable        the database cannot be reached or used now
        │   ├── StorageUnavailable         the blob store cannot be reached or used now
        │   └── ScannerUnavailable         the malware scanner (clamd) cannot scan now
        └── InsufficientStorage      507
            └── StorageFull                the disk or bucket refused a write for space

    OAuthError                    the token endpoint's RFC 6749 §5.2 errors (not the envelope)

The adapters raise the outage kinds where they meet their driver (``db`` for SQLAlchemy,
``storage`` for the file system and boto3): nothing above them sees a driver's exception.
``StorageError`` is the base of both storage kinds, for code that handles either.

Each class carries its status and ``errorType``; the HTTP layer maps the whole tree to
the ``{"success": false, …}`` envelope in one place. ``reason`` is a short slug for logs.
"""

from __future__ import annotations

import json
from typing import ClassVar


class EcbError(Exception):
    status: ClassVar[int] = 500
    error_type: ClassVar[str] = "GenericError"

    def __init__(self, description: str, *, reason: str = "") -> None:
        super().__init__(description)
        self.description = description
        self.reason = reason or type(self).__name__

    def headers(self) -> dict[str, str]:
        return {}

    def envelope(self) -> bytes:
        """The answer's body: ``{"success": false, "errorDescription", "errorType"}``."""
        body = {
            "success": False,
            "errorDescription": self.description,
            "errorType": self.error_type,
        }
        return json.dumps(body, ensure_ascii=False).encode()


class Unauthorized(EcbError):
    status = 401
    error_type = "Unauthorized"

    def __init__(self, description: str, *, token_error: bool = True, reason: str = "") -> None:
        super().__init__(description, reason=reason)
        self.token_error = token_error

    def headers(self) -> dict[str, str]:
        if self.token_error:
            return {"WWW-Authenticate": 'Bearer error="invalid_token"'}
        return {"WWW-Authenticate": "Bearer"}


class Forbidden(EcbError):
    """A valid token without the scope the endpoint needs; ``scope`` names that scope."""

    status = 403
    error_type = "Forbidden"

    def __init__(
        self,
        description: str,
        *,
        scope: str = "platform-service-provider:write",
        reason: str = "",
    ) -> None:
        super().__init__(description, reason=reason)
        self.scope = scope

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": f'Bearer error="insufficient_scope", scope="{self.scope}"'}


class InvalidSecurityToken(EcbError):
    status = 401
    error_type = "InvalidSecurityToken"


class InvalidRequest(EcbError):
    status = 400
    error_type = "InvalidRequest"


class UserNotFound(EcbError):
    status = 404
    error_type = "UserNotFound"


class ClaimNotFound(EcbError):
    status = 404
    error_type = "ClaimNotFound"


class DamageNotificationNotFound(EcbError):
    status = 404
    error_type = "DamageNotificationNotFound"


class InsuranceCompanyNotFound(EcbError):
    status = 404
    error_type = "InsuranceCompanyNotFound"


class FileNotFound(EcbError):
    status = 404
    error_type = "FileNotFound"


class ClaimIsClosed(EcbError):
    status = 400
    error_type = "ClaimIsClosed"


class DamageNotificationMergedToClaim(EcbError):
    status = 400
    error_type = "DamageNotificationMergedToClaim"


class MergedIntoAnotherCase(DamageNotificationMergedToClaim):
    """An insurer merging a DN already merged into another case: a conflict, not bad input."""

    status = 409


class IdempotencyKeyReused(EcbError):
    status = 422
    error_type = "IdempotencyKeyReused"


class MalwareDetected(EcbError):
    """The malware scanner found ``signature`` in a file (§12.1)."""

    status = 422
    error_type = "MalwareDetected"

    def __init__(self, description: str, *, signature: str) -> None:
        super().__init__(description, reason="malware_detected")
        self.signature = signature


class RequestInProgress(EcbError):
    status = 409
    error_type = "RequestInProgress"

    def headers(self) -> dict[str, str]:
        return {"Retry-After": "1"}


class TooManyRequests(EcbError):
    """A §12.2 rate limit spent; ``retry_after`` is the whole seconds until it admits."""

    status = 429
    error_type = "TooManyRequests"

    def __init__(self, description: str, *, retry_after: int, reason: str = "") -> None:
        super().__init__(description, reason=reason or "rate_limited")
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class GenericError(EcbError):
    status = 500
    error_type = "GenericError"


class NotFound(GenericError):
    status = 404


class MethodNotAllowed(GenericError):
    status = 405


class RequestTimeout(GenericError):
    status = 408


class PayloadTooLarge(GenericError):
    status = 413


class UnsupportedMediaType(GenericError):
    status = 415


class RangeNotSatisfiable(GenericError):
    """A download's single ``Range`` lies past the end of the file (§11.2)."""

    status = 416

    def __init__(self, description: str, *, size: int) -> None:
        super().__init__(description, reason="range_not_satisfiable")
        self.size = size

    def headers(self) -> dict[str, str]:
        return {"Content-Range": f"bytes */{self.size}"}


class UnprocessableContent(GenericError):
    """The stored bytes cannot be made into what was asked (an image too large or
    undecodable for a thumbnail, §11.2)."""

    status = 422


class ServiceUnavailable(GenericError):
    status = 503

    def __init__(self, description: str, *, retry_after: int = 5, reason: str = "") -> None:
        super().__init__(description, reason=reason)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class InsufficientStorage(GenericError):
    status = 507


class DatabaseUnavailable(ServiceUnavailable):
    """The database cannot be reached or used right now (refused, lost, locked too long).

    The description is what a caller over HTTP is told; ``detail`` names the database
    and the driver's reason, for the log and the operator's command line.
    """

    def __init__(self, detail: str) -> None:
        super().__init__("the database is unavailable; retry later", reason="database_unavailable")
        self.detail = detail


class StorageError(GenericError):
    """The blob store could not do what was asked: one of the two kinds below."""


class StorageFull(InsufficientStorage, StorageError):
    """The disk or bucket refused a write for lack of space (ENOSPC, EDQUOT, a quota)."""

    def __init__(self, description: str) -> None:
        super().__init__(description, reason="storage_full")


class StorageUnavailable(ServiceUnavailable, StorageError):
    """The blob store is unreachable, or an I/O operation failed for a reason other than space."""

    def __init__(self, description: str) -> None:
        super().__init__(description, reason="storage_unavailable")


class ScannerUnavailable(ServiceUnavailable):
    """The malware scanner cannot be reached, timed out, or refused a file (over its
    stream limit): no file is accepted unscanned (§12.1). ``detail`` names the scanner
    and its reason, for the log."""

    def __init__(self, description: str, *, detail: str) -> None:
        super().__init__(description, reason="scanner_unavailable")
        self.detail = detail


class OAuthError(Exception):
    """An RFC 6749 §5.2 token-endpoint error: ``{"error", "error_description"}``."""

    def __init__(
        self,
        error: str,
        description: str,
        *,
        status: int = 400,
        basic_challenge: bool = False,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status
        self.basic_challenge = basic_challenge
        self.retry_after = retry_after

    @classmethod
    def from_ecb_error(cls, error: EcbError) -> OAuthError:
        """An error of the service met at the token endpoint, in RFC 6749's words: an
        outage is ``temporarily_unavailable`` (503 with ``Retry-After``), the rest
        ``server_error``, but a body cut off by its bounds (408) is ``invalid_request``:
        the client's fault, not the server's."""
        if isinstance(error, RequestTimeout):
            return cls("invalid_request", error.description, status=error.status)
        if isinstance(error, ServiceUnavailable):
            return cls(
                "temporarily_unavailable",
                error.description,
                status=error.status,
                retry_after=error.retry_after,
            )
        return cls("server_error", error.description, status=error.status)

    @classmethod
    def locked_out(cls, description: str, *, retry_after: int) -> OAuthError:
        """Too many failed client authentications from an address (§12.2): 429."""
        return cls("temporarily_unavailable", description, status=429, retry_after=retry_after)

    @classmethod
    def invalid_client(cls, description: str, *, basic: bool = False) -> OAuthError:
        return cls("invalid_client", description, status=401, basic_challenge=basic)
