"""What a submit request body parses into, whichever its form (§3.1, §10.1).

:class:`ParsedSubmission` and its :class:`ParsedFile` s are the result; a
:class:`FileDraft` is one file while it is read, completed (its required members and
``sha256`` checked) in one place for both forms. :class:`SubmissionBody` is what
every form's parser offers its driver.
"""

from __future__ import annotations

import contextlib
import hmac
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from ecb_files.config import Limits
from ecb_files.domain import rules
from ecb_files.errors import InvalidRequest
from ecb_files.ingest.content import NO_FINDINGS, ContentFindings, FileContent
from ecb_files.ingest.sink import BlobSink, ContentScan, Scanner

S = TypeVar("S", bound=BlobSink)


@dataclass(frozen=True, slots=True)
class ParsedFile(Generic[S]):
    """One file of the request, its content already sealed in ``blob``; ``findings``:
    what §12.1 found inside it, reported after step 3.5."""

    index: int
    file_name: str
    content_type: str
    description: str | None
    is_restricted: bool
    is_damage_image: bool
    size: int
    sha256: str
    blob: S
    findings: ContentFindings = NO_FINDINGS


@dataclass(frozen=True, slots=True)
class ParsedSubmission(Generic[S]):
    """A request body that passed every §3.1 rule; ``files`` in request order."""

    security_token: uuid.UUID
    timestamp: str | None
    target_id: uuid.UUID
    insurance_company_alias: str
    user_email: str
    files: tuple[ParsedFile[S], ...]


@dataclass(slots=True)
class FileDraft(Generic[S]):
    """One file of the request while it is read; :meth:`complete` once its content is."""

    index: int
    part: str | None = None
    file_name: str | None = None
    content_type: str | None = None
    description: str | None = None
    is_restricted: bool = False
    is_damage_image: bool = False
    claimed_sha256: str | None = None
    content: FileContent | None = None
    blob: S | None = None

    def label(self) -> str:
        if self.file_name is None:
            return f"payload.files[{self.index}]"
        return f"payload.files[{self.index}] ({self.file_name!r})"

    def complete(self, *, missing: str = "") -> ParsedFile[S]:
        """The file, its required members present and its ``sha256`` (if claimed)
        matching; ``missing`` is added to a missing member's message.

        The draft lets go of its content either way: the content names its file through
        the draft's ``label``, and that cycle would keep the file's bytes in memory, and
        leave them for the garbage collector, whose pass over every request's leftovers
        then stopped the event loop for tens of milliseconds (bench/README.md).
        """
        try:
            return self._completed(missing)
        finally:
            self.content = None

    def _completed(self, missing: str) -> ParsedFile[S]:
        label = self.label()
        if self.file_name is None:
            raise missing_field(f"{label}.fileName", missing)
        if self.content_type is None:
            raise missing_field(f"{label}.contentType", missing)
        if self.content is None or self.blob is None:
            raise missing_field(f"{label}.content", missing)
        actual = self.content.sha256
        if self.claimed_sha256 is not None and not hmac.compare_digest(self.claimed_sha256, actual):
            raise InvalidRequest(
                f"{label}.sha256: does not match the SHA-256 of the decoded content ({actual})",
                reason="sha256_mismatch",
            )
        return ParsedFile(
            index=self.index,
            file_name=self.file_name,
            content_type=self.content_type,
            description=self.description,
            is_restricted=self.is_restricted,
            is_damage_image=self.is_damage_image,
            size=self.content.size,
            sha256=actual,
            blob=self.blob,
            findings=self.content.findings(self.file_name),
        )


def missing_field(field: str, hint: str = "") -> InvalidRequest:
    return InvalidRequest(f"{field}: required field is missing{hint}", reason="missing_field")


class SubmissionBody(Protocol[S]):
    """What reads a submit request body of either form (§3.1, §10.1); see
    :class:`SubmissionParser`, whose contract every form keeps."""

    def feed(self, chunk: bytes) -> None: ...
    def finish(self) -> ParsedSubmission[S]: ...
    def abort(self) -> None: ...


def feed_within_request_size(
    feed: Callable[[bytes], None], chunk: bytes, received: int, limits: Limits
) -> int:
    """``feed(chunk)`` unless the body passes ``maxRequestBytes`` with it: then what fits
    is still fed (a fault in it was met first), and the body is refused. Returns the
    bytes received with the chunk."""
    allowed = limits.max_request_bytes - received
    received += len(chunk)
    if len(chunk) > allowed:
        feed(chunk[:allowed])
        rules.check_request_size(received, limits)
    feed(chunk)
    return received


class ParserState:
    """Where a body parser is: open → finished, or failed; then aborted at any time.

    After an exception from ``feed`` or ``finish``, only ``abort`` may follow: the parse
    is over, and a second call would act on a half-updated state.
    """

    __slots__ = ("_value",)

    def __init__(self) -> None:
        self._value = "open"

    @contextlib.contextmanager
    def step(self) -> Iterator[None]:
        """One ``feed`` or ``finish``: refused unless open; failed if it raises."""
        if self._value != "open":
            raise RuntimeError(f"the submission parser is {self._value}; only abort() may follow")
        try:
            yield
        except BaseException:
            self._value = "failed"
            raise

    def finished(self) -> None:
        self._value = "finished"

    def abort(self) -> bool:
        """Move to aborted; ``False`` if it already was (there is nothing left to do)."""
        if self._value == "aborted":
            return False
        self._value = "aborted"
        return True


def abort_all(sinks: Iterable[BlobSink], scanner: Scanner | None = None) -> None:
    """Abort every sink (and the ``scanner``'s scans) even if one fails; the first
    failure is raised after."""
    first_failure: Exception | None = None
    aborts = [sink.abort for sink in sinks]
    if scanner is not None:
        aborts.append(scanner.abort)
    for abort in aborts:
        try:
            abort()
        except Exception as exc:
            first_failure = first_failure or exc
    if first_failure is not None:
        raise first_failure


def open_scan(scanner: Scanner | None) -> ContentScan | None:
    """A new scan from ``scanner``, if the service scans files (§12.1)."""
    return None if scanner is None else scanner.open()
