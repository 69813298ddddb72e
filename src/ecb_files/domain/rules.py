"""Field rules of a submission (§3.1, §9), as pure functions.

Each ``check_*``/``parse_*`` function takes the value and the ``field`` label to name in
its error (a JSON path such as ``payload.userEmail``, or a file label such as
``payload.files[2].fileName``) and raises :class:`~ecb_files.errors.InvalidRequest` whose
description is ``"<field>: <what is wrong>"``. The ``is_*`` predicates only answer.

Lengths count code points (``len`` of a ``str``), not bytes (§9).
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from datetime import date, time

from ecb_files.config import Limits
from ecb_files.errors import InvalidRequest, PayloadTooLarge

# 8-4-4-4-12 hex digits, any letter case, no braces, no URN prefix (§9).
_GUID = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.ASCII | re.IGNORECASE
)
_SHA256_HEX = re.compile(r"[0-9a-f]{64}", re.ASCII | re.IGNORECASE)

# ISO 8601 extended format: a calendar date, optionally a time (minutes, seconds and a
# fraction optional; up to 9 fraction digits because .NET's round-trip format sends 7)
# and an offset (Z, ±hh, ±hh:mm or ±hhmm). ``datetime.fromisoformat`` is not used: it
# also takes week dates, ordinal dates and the basic format, which no client sends.
_TIMESTAMP = re.compile(
    r"""
    (?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})
    (?:
        [Tt ](?P<hour>\d{2}):(?P<minute>\d{2})
        (?::(?P<second>\d{2})(?:[.,](?P<fraction>\d{1,9}))?)?
        (?P<offset>[Zz]|[+-](?P<off_hour>\d{2})(?::?(?P<off_minute>\d{2}))?)?
    )?
    """,
    re.ASCII | re.VERBOSE,
)

MAX_EMAIL_CHARS = 320
_FORBIDDEN_IN_FILE_NAME = ("/", "\\")


def _fail(field: str, detail: str, reason: str) -> InvalidRequest:
    return InvalidRequest(f"{field}: {detail}", reason=reason)


def is_guid(value: str) -> bool:
    """True for ``xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`` in hex of any letter case."""
    return _GUID.fullmatch(value) is not None


def parse_guid(value: str, *, field: str) -> uuid.UUID:
    if not is_guid(value):
        raise _fail(
            field,
            "must be a GUID (32 hex digits as 8-4-4-4-12, e.g. "
            "'00000000-0000-0000-0000-000000000000')",
            "invalid_guid",
        )
    return uuid.UUID(value)


def is_timestamp(value: str) -> bool:
    """True for ``yyyy-MM-dd`` or an ISO 8601 date-time (offset optional, ``Z`` allowed)."""
    match = _TIMESTAMP.fullmatch(value)
    if match is None:
        return False
    parts = match.groupdict()
    try:
        date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
        if parts["hour"] is not None:
            time(int(parts["hour"]), int(parts["minute"]), int(parts["second"] or 0))
    except ValueError:
        return False
    if parts["off_hour"] is not None:
        return int(parts["off_hour"]) <= 23 and int(parts["off_minute"] or 0) <= 59
    return True


def check_timestamp(value: str, *, field: str) -> None:
    if not is_timestamp(value):
        raise _fail(
            field,
            "must be a date (yyyy-MM-dd) or an ISO 8601 date-time "
            "(e.g. '2024-05-01T12:30:00Z' or '2024-05-01T12:30:00+02:00')",
            "invalid_timestamp",
        )


def _is_blank_or_control(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Zs", "Zl", "Zp")


def _has_blank_or_control(value: str) -> bool:
    if value.isascii():  # the usual address, checked in C: controls, DEL and spaces
        return not value.isprintable() or " " in value
    return any(_is_blank_or_control(char) for char in value)


def email_problem(value: str) -> str | None:
    """Why ``value`` is not a usable e-mail address, or None when it is.

    A pragmatic check, not RFC 5322: at most 320 characters, exactly one ``@``, a
    non-empty local part, and a domain of at least two non-empty dot-separated labels;
    no whitespace and no control or format characters anywhere. Quoted local parts and
    IP-literal domains are refused; whether the mailbox exists is the employee lookup's
    business (§3.2 step 3.2).
    """
    if not value:
        return "must not be empty"
    if len(value) > MAX_EMAIL_CHARS:
        return f"is longer than {MAX_EMAIL_CHARS} characters"
    if _has_blank_or_control(value):
        return "must not contain whitespace or control characters"
    if value.count("@") != 1:
        return "must contain exactly one '@'"
    local, _, domain = value.partition("@")
    if not local:
        return "has nothing before the '@'"
    labels = domain.split(".")
    if len(labels) < 2 or not all(labels):
        return "needs a domain with a dot after the '@' (e.g. 'name@example.com')"
    return None


def check_email(value: str, *, field: str) -> None:
    problem = email_problem(value)
    if problem is not None:
        raise _fail(field, f"is not a valid e-mail address: {problem}", "invalid_email")


# The Unicode bidirectional controls (§12.1): marks, embeddings, overrides and isolates.
BIDI_CONTROLS = frozenset(
    ["\u200e", "\u200f", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))]
)


def file_name_problem(value: str, *, max_chars: int) -> str | None:
    """Why ``value`` cannot be a stored file name, or None when it can (§3.1, §9).

    1 to ``max_chars`` code points, no ``/`` or ``\\`` (no paths), no Unicode category Cc
    character (C0 controls such as NUL, ``\\n`` and ``\\t``, DEL and C1), no Unicode
    bidirectional control (§12.1: they disguise an extension, ``photo`` U+202E ``gpj.exe``
    showing as ``photoexe.jpg``), and not ``.`` or ``..``. Whether the extension is
    allowed is decided later (§3.2 step 3.5, 415).
    """
    if not value:
        return "must not be empty"
    if len(value) > max_chars:
        return f"is longer than maxFileNameChars {max_chars} characters"
    for forbidden in _FORBIDDEN_IN_FILE_NAME:
        if forbidden in value:
            return f"must not contain {forbidden!r}"
    for char in value:
        if unicodedata.category(char) == "Cc":
            return f"must not contain control characters (found U+{ord(char):04X})"
        if char in BIDI_CONTROLS:
            return (
                "must not contain Unicode bidirectional controls, which can disguise an "
                f"extension (found U+{ord(char):04X})"
            )
    if value in (".", ".."):
        return "must not be '.' or '..'"
    return None


def check_file_name(value: str, *, max_chars: int, field: str) -> None:
    problem = file_name_problem(value, max_chars=max_chars)
    if problem is not None:
        raise _fail(field, problem, "invalid_file_name")


def is_sha256_hex(value: str) -> bool:
    """True for 64 hex digits of any letter case."""
    return _SHA256_HEX.fullmatch(value) is not None


def parse_sha256_hex(value: str, *, field: str) -> str:
    """The digest in lower case, ready for a constant-time comparison."""
    if not is_sha256_hex(value):
        raise _fail(
            field, "must be a SHA-256 digest as 64 hexadecimal characters", "invalid_sha256"
        )
    return value.lower()


def check_request_size(size: int, limits: Limits, *, declared: bool = False) -> None:
    """``PayloadTooLarge`` when a body of ``size`` bytes (received so far, or declared by
    ``Content-Length``) is over ``maxRequestBytes``: the one wording of that refusal."""
    if size > limits.max_request_bytes:
        what = f"Content-Length {size}" if declared else "the request body"
        raise PayloadTooLarge(
            f"{what} is larger than maxRequestBytes ({limits.max_request_bytes} bytes)",
            reason="request_too_large",
        )
