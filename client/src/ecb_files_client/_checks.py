"""The API's rules, checked before a byte is sent, worded as the server words them.

The rules and messages mirror the server's ``domain/rules.py`` (field rules), its
ingest parser (sizes, counts, missing values) and ``services/submit.py``
(``_check_file_types``): a partner sees the same ``errorDescription`` whether the
client or the server refused. ``tests/test_checks_mirror.py`` holds the two side by side.

The order is the server's (§3.2, §9): the request's Content-Length first, then
the fields in the order this client writes them into the body (``securityToken``,
``timestamp``, ``payload.id``, ``insuranceCompanyAlias``, ``userEmail``, then each file's
``fileName``, ``contentType``, ``description``, ``content``), then the file types (415).
In the multipart form (§10.1) every field is in the first part, so each file's content
is judged after all of them, and named by its part; a new damage notification (§10.2)
is judged in its own body's order: the FNoL part, then each attachment part.
``tests/test_sdk_local_checks.py`` and ``tests/test_sdk_fnol.py`` send each refusal both
ways, checked here and to a real server, and hold the answers equal.
No I/O here: sizes come in as numbers (None when a stream's size is unknown).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time

from ecb_files_client import _filetypes as filetypes
from ecb_files_client._exceptions import LocalValidationError

_GUID = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.ASCII | re.IGNORECASE
)
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
CONTENT_TYPES_PATH = "/ecx/host/api/integration/v1/file/contentTypes"


@dataclass(frozen=True)
class Limits:
    """The server's bounds that the client can check ahead (``GET …/file/limits``).

    The defaults are the contract's; a client asks the server for the ones in force.
    """

    max_file_bytes: int = 104_857_600
    max_request_bytes: int = 1_073_741_824
    max_files_per_request: int = 100
    max_file_name_chars: int = 500
    max_description_chars: int = 4000
    max_fnol_bytes: int = 1_048_576  # the FNoL part of a new damage notification (§10.2)
    # The server takes binary multipart/form-data submissions (§10.1).
    multipart: bool = False

    @classmethod
    def from_document(cls, document: object) -> Limits:
        """From the JSON the server serves; a missing or odd member keeps its default."""
        if not isinstance(document, dict):
            return cls()
        names = {
            "max_file_bytes": "maxFileBytes",
            "max_request_bytes": "maxRequestBytes",
            "max_files_per_request": "maxFilesPerRequest",
            "max_file_name_chars": "maxFileNameChars",
            "max_description_chars": "maxDescriptionChars",
            "max_fnol_bytes": "maxFnolBytes",
        }
        values = {
            attribute: value
            for attribute, member in names.items()
            if isinstance(value := document.get(member), int) and value > 0
        }
        return cls(**values, multipart=document.get("multipart") is True)


@dataclass(frozen=True)
class FileFacts:
    """What the checks need to know of one file."""

    file_name: str
    content_type: str
    size: int | None
    description: str | None = None


def _invalid(field: str, detail: str) -> LocalValidationError:
    return LocalValidationError(f"{field}: {detail}")


def is_guid(value: str) -> bool:
    return _GUID.fullmatch(value) is not None


def check_guid(value: str, *, field: str) -> None:
    if not is_guid(value):
        raise _invalid(
            field,
            "must be a GUID (32 hex digits as 8-4-4-4-12, e.g. "
            "'00000000-0000-0000-0000-000000000000')",
        )


def is_timestamp(value: str) -> bool:
    """``yyyy-MM-dd`` or an ISO 8601 date-time, as the server accepts it."""
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
        raise _invalid(
            field,
            "must be a date (yyyy-MM-dd) or an ISO 8601 date-time "
            "(e.g. '2024-05-01T12:30:00Z' or '2024-05-01T12:30:00+02:00')",
        )


def _is_blank_or_control(char: str) -> bool:
    return char.isspace() or unicodedata.category(char) in ("Cc", "Cf", "Zs", "Zl", "Zp")


def email_problem(value: str) -> str | None:
    """Why ``value`` is not an address the server takes, or None."""
    if not value:
        return "must not be empty"
    if len(value) > MAX_EMAIL_CHARS:
        return f"is longer than {MAX_EMAIL_CHARS} characters"
    if any(_is_blank_or_control(char) for char in value):
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


# The Unicode bidirectional controls the server refuses in file names (§12.1).
_BIDI_CONTROLS = frozenset(
    ["\u200e", "\u200f", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))]
)


def file_name_problem(value: str, *, max_chars: int) -> str | None:
    """Why ``value`` cannot be a stored file name, or None (§3.1, §9)."""
    if not value:
        return "must not be empty"
    if len(value) > max_chars:
        return f"is longer than maxFileNameChars {max_chars} characters"
    for forbidden in ("/", "\\"):
        if forbidden in value:
            return f"must not contain {forbidden!r}"
    for char in value:
        if unicodedata.category(char) == "Cc":
            return f"must not contain control characters (found U+{ord(char):04X})"
        if char in _BIDI_CONTROLS:
            return (
                "must not contain Unicode bidirectional controls, which can disguise an "
                f"extension (found U+{ord(char):04X})"
            )
    if value in (".", ".."):
        return "must not be '.' or '..'"
    return None


def file_label(index: int, file_name: str) -> str:
    """How the server names a file in the errors of its JSON reader."""
    return f"payload.files[{index}] ({file_name!r})"


def too_large(label: str, max_file_bytes: int) -> LocalValidationError:
    """A file over ``maxFileBytes``; ``label`` names it as the server's reader does."""
    return LocalValidationError(
        f"{label}: the file is larger than maxFileBytes {max_file_bytes} bytes",
        error_type="GenericError",
        status=413,
    )


def empty_file(label: str, *, base64: bool) -> LocalValidationError:
    """A file of 0 bytes: its base64 ``content`` member (JSON), or its part (multipart)."""
    if base64:
        return _invalid(f"{label}.content", "decodes to 0 bytes; at least 1 byte is required")
    return _invalid(label, "is empty; at least 1 byte is required")


def check_request_length(length: int | None, limits: Limits) -> None:
    """Step 1 of §3.2: the body's announced length against ``maxRequestBytes``."""
    if length is not None and length > limits.max_request_bytes:
        raise LocalValidationError(
            f"Content-Length {length} is larger than maxRequestBytes "
            f"({limits.max_request_bytes} bytes)",
            error_type="GenericError",
            status=413,
        )


def check_fields(
    *,
    security_token: str,
    timestamp: str | None,
    target_id: str,
    alias: str,
    user_email: str,
    files: Sequence[FileFacts],
    limits: Limits,
    part_labels: Sequence[str] | None = None,
) -> None:
    """Every §3.1 rule, in the order the server meets them in this client's body.

    In the JSON form each file's content follows its fields. In the multipart form
    (``part_labels``: how the server names each file's part) every field comes first,
    in the ``submission`` part, and the contents after it."""
    check_guid(security_token, field="securityToken")
    if timestamp is not None:
        check_timestamp(timestamp, field="timestamp")
    check_guid(target_id, field="payload.id")
    _check_alias_and_email(alias, user_email, within="payload.")
    for index, facts in enumerate(files):
        if index == limits.max_files_per_request:
            raise _invalid(
                "payload.files",
                f"more than maxFilesPerRequest {limits.max_files_per_request} files",
            )
        field, label = f"payload.files[{index}]", file_label(index, facts.file_name)
        _check_file_fields(facts, limits, field, label)
        if part_labels is None:
            _check_file_size(facts, limits, label, base64=True)
    if not files:
        raise _invalid("payload.files", "at least one file is required")
    for facts, label in zip(files, part_labels or (), strict=False):
        _check_file_size(facts, limits, label, base64=False)


def _check_file_fields(facts: FileFacts, limits: Limits, field: str, label: str) -> None:
    """One file's §3.1 rules; ``field`` is its JSON path, ``label`` adds its name."""
    problem = file_name_problem(facts.file_name, max_chars=limits.max_file_name_chars)
    if problem is not None:
        raise _invalid(f"{field}.fileName", problem)
    if not facts.content_type:
        raise _invalid(f"{label}.contentType", "must not be empty")
    _check_description(facts, limits, label)


def _check_description(facts: FileFacts, limits: Limits, label: str) -> None:
    if facts.description is not None and len(facts.description) > limits.max_description_chars:
        raise _invalid(
            f"{label}.description",
            f"is longer than maxDescriptionChars {limits.max_description_chars} characters",
        )


def _check_file_size(facts: FileFacts, limits: Limits, label: str, *, base64: bool) -> None:
    if facts.size is not None:
        if facts.size > limits.max_file_bytes:
            raise too_large(label, limits.max_file_bytes)
        if facts.size == 0:
            raise empty_file(label, base64=base64)


def check_file_types(files: Sequence[FileFacts], fields: Sequence[str] | None = None) -> None:
    """Step 3.5 of §3.2: every extension allowed, every content type accepted (415).

    ``fields`` names each file (default: its ``payload.files[i]`` path)."""
    for index, facts in enumerate(files):
        field = fields[index] if fields is not None else f"payload.files[{index}]"
        where = f"{field} ('{facts.file_name}')"
        extension = filetypes.extension_of(facts.file_name)
        if extension is None or not filetypes.is_allowed_extension(extension):
            shown = f"'.{extension}'" if extension else "no extension"
            raise LocalValidationError(
                f"{where}: file extension {shown} is not allowed; see GET {CONTENT_TYPES_PATH}",
                error_type="GenericError",
                status=415,
            )
        if not filetypes.is_accepted(extension, facts.content_type):
            accepted = ", ".join(filetypes.accepted_content_types(extension) or ())
            raise LocalValidationError(
                f"{where}.contentType: '{facts.content_type}' is not accepted for "
                f"'.{extension}' files (accepted: {accepted})",
                error_type="GenericError",
                status=415,
            )


def check_idempotency_key(value: str, *, max_chars: int = 255) -> None:
    """An ``Idempotency-Key`` the server takes: 1 to 255 visible ASCII characters."""
    if not value:
        raise LocalValidationError("Idempotency-Key: must not be empty")
    if len(value) > max_chars:
        raise LocalValidationError(f"Idempotency-Key: longer than {max_chars} characters")
    if not all("\x21" <= ch <= "\x7e" for ch in value):
        raise LocalValidationError("Idempotency-Key: only visible ASCII characters are allowed")


def check_attachments(files: Sequence[FileFacts], parts: Sequence[str], limits: Limits) -> None:
    """A new damage notification's attachments (§10.2): §3.1's file rules and limits,
    each file named by its part as the server names parts (``part 1 ('attachment-0')``);
    none at all is allowed. Descriptions are in the FNoL part, so they come first."""
    for index, facts in enumerate(files):
        _check_description(facts, limits, f"attachments[{index}]")
    for index, (facts, part) in enumerate(zip(files, parts, strict=True)):
        if index == limits.max_files_per_request:
            raise _invalid(
                part, f"more than maxFilesPerRequest {limits.max_files_per_request} attachments"
            )
        problem = file_name_problem(facts.file_name, max_chars=limits.max_file_name_chars)
        if problem is not None:
            raise _invalid(f"{part}: filename", problem)
        _check_file_size(facts, limits, f"{part} ({facts.file_name!r})", base64=False)


def check_fnol_part(size: int, part: str, limits: Limits) -> None:
    """The FNoL part is read whole by the server, so it has a bound of its own."""
    if size > limits.max_fnol_bytes:
        raise LocalValidationError(
            f"{part}: the FNoL part is larger than maxFnolBytes {limits.max_fnol_bytes} bytes",
            error_type="GenericError",
            status=413,
        )


def check_envelope(*, security_token: str, alias: str, user_email: str) -> None:
    """The members beside a new damage notification's payload (§10.2)."""
    check_guid(security_token, field="securityToken")
    _check_alias_and_email(alias, user_email, within="")


def _check_alias_and_email(alias: str, user_email: str, *, within: str) -> None:
    """``within``: the JSON path of the object holding them (``payload.``, or the root)."""
    if not alias:
        raise _invalid(f"{within}insuranceCompanyAlias", "must not be empty")
    problem = email_problem(user_email)
    if problem is not None:
        raise _invalid(f"{within}userEmail", f"is not a valid e-mail address: {problem}")
