"""The exit status of ``ecb-files-submit``, one per class of outcome.

Scripts branch on these, so they are part of the interface: the table is printed by
``--help`` and in the README, and a test holds every ``errorType`` to its code.
"""

from __future__ import annotations

from enum import IntEnum

from ecb_files_client._exceptions import (
    ApiError,
    BodyNotRepeatable,
    ClaimIsClosed,
    ClaimNotFound,
    DamageNotificationMergedToClaim,
    DamageNotificationNotFound,
    EcbClientError,
    FileNotFound,
    Forbidden,
    InsuranceCompanyNotFound,
    InvalidSecurityToken,
    LocalValidationError,
    RequestInProgress,
    TokenError,
    TooManyRequests,
    TransportError,
    Unauthorized,
    UserNotFound,
)


class ExitCode(IntEnum):
    OK = 0
    INTERNAL = 1
    USAGE = 2
    LOCAL_VALIDATION = 3
    AUTH = 4
    NOT_FOUND = 5
    TARGET_CLOSED = 6
    REFUSED = 7
    TEMPORARY = 8
    CHECKSUM_MISMATCH = 9
    INTERRUPTED = 130


TABLE = f"""\
exit codes:
  {ExitCode.OK:>3}  every file stored (and the damage notification created), and the server's
       SHA-256 of each file matches what was sent
  {ExitCode.INTERNAL:>3}  unexpected internal error (a bug: please report it)
  {ExitCode.USAGE:>3}  usage: bad arguments, missing settings, unreadable key or config file
  {ExitCode.LOCAL_VALIDATION:>3}  refused before sending: a file or field breaks the API's rules,
       or a file cannot be read
  {ExitCode.AUTH:>3}  authentication: Unauthorized, Forbidden, InvalidSecurityToken, or the
       token endpoint refused the client (invalid_client, invalid_scope, …)
  {ExitCode.NOT_FOUND:>3}  not found: UserNotFound, ClaimNotFound, DamageNotificationNotFound,
       InsuranceCompanyNotFound
  {ExitCode.TARGET_CLOSED:>3}  target closed: ClaimIsClosed, DamageNotificationMergedToClaim
  {ExitCode.REFUSED:>3}  request refused: InvalidRequest (an FNoL payload the tenant's schema
       refuses included), IdempotencyKeyReused, MalwareDetected, GenericError 4xx
       (413 too large, 415 file type)
  {ExitCode.TEMPORARY:>3}  still failing after the retries: GenericError 5xx, RequestInProgress,
       TooManyRequests, connection failures; or a non-seekable input needed a retry
  {ExitCode.CHECKSUM_MISMATCH:>3}  stored, but the server's SHA-256 of a file differs
  {ExitCode.INTERRUPTED:>3}  interrupted (Ctrl-C); nothing is stored unless the server had answered
"""

_BY_CLASS: tuple[tuple[type[EcbClientError], ExitCode], ...] = (
    (LocalValidationError, ExitCode.LOCAL_VALIDATION),
    (Unauthorized, ExitCode.AUTH),
    (Forbidden, ExitCode.AUTH),
    (InvalidSecurityToken, ExitCode.AUTH),
    (UserNotFound, ExitCode.NOT_FOUND),
    (ClaimNotFound, ExitCode.NOT_FOUND),
    (DamageNotificationNotFound, ExitCode.NOT_FOUND),
    (InsuranceCompanyNotFound, ExitCode.NOT_FOUND),
    (FileNotFound, ExitCode.NOT_FOUND),
    (ClaimIsClosed, ExitCode.TARGET_CLOSED),
    (DamageNotificationMergedToClaim, ExitCode.TARGET_CLOSED),
    (RequestInProgress, ExitCode.TEMPORARY),
    (TooManyRequests, ExitCode.TEMPORARY),
    (TransportError, ExitCode.TEMPORARY),
    (BodyNotRepeatable, ExitCode.TEMPORARY),
)


def exit_code_for(error: EcbClientError) -> ExitCode:
    """The exit status for an error this package raised."""
    for cls, code in _BY_CLASS:
        if isinstance(error, cls):
            return code
    if isinstance(error, TokenError):
        return ExitCode.TEMPORARY if error.transient else ExitCode.AUTH
    if isinstance(error, ApiError):
        # InvalidRequest, IdempotencyKeyReused and GenericError: 4xx is the request's
        # fault; 5xx and 408 (the body stalled) are passing troubles.
        if error.status >= 500 or error.status == 408:
            return ExitCode.TEMPORARY
        return ExitCode.REFUSED
    return ExitCode.INTERNAL
