"""The submit request body (§3.1, §3.2 step 2, §9), parsed as it streams.

:class:`SubmissionParser` is push-style and does no I/O of its own: ``feed(chunk)`` for
every piece of the body, ``finish()`` for the result. Each file's ``content`` goes
straight from the JSON tokenizer through base64 decoding, the size bound and SHA-256
into a :class:`~ecb_files.ingest.sink.BlobSink` opened for it, so memory stays
proportional to the chunk size, not to the body.

Keys may come in any order at every level and unknown members are ignored (still
bounded by the tokenizer). Every fault is raised the moment it is met in the stream;
a missing required field is met when its object closes. All faults are
:class:`~ecb_files.errors.InvalidRequest` (400) whose description starts with the JSON
path, and names the file (``payload.files[2] ('photo.jpg')``) once its ``fileName`` is
known, except a body over ``maxRequestBytes`` or a file over ``maxFileBytes``:
:class:`~ecb_files.errors.PayloadTooLarge` (413).

With ``file_parts=True`` the parser reads the ``submission`` part of a multipart body
(§10.1): each file names the part that carries its bytes (``files[i].part``) instead of
holding them in ``content`` (refused there), its ``fileName`` and ``contentType`` may
come from that part instead, and :attr:`SubmissionParser.declared_files` gives the
files by part name for :mod:`~ecb_files.ingest.multipart_submission` to complete.

Whoever drives the parser must call :meth:`SubmissionParser.abort` whenever the
submission is not stored in the end: after any exception, and after ``finish()`` when a
later check refuses it. Nothing is aborted implicitly.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Final, Generic

from ecb_files.config import Limits
from ecb_files.domain import rules
from ecb_files.errors import InvalidRequest
from ecb_files.ingest.content import FileContent
from ecb_files.ingest.json_events import (
    JsonNumber,
    JsonPath,
    JsonScalar,
    JsonTokenizer,
    format_path,
)
from ecb_files.ingest.parsed import (
    FileDraft,
    ParsedFile,
    ParsedSubmission,
    ParserState,
    S,
    abort_all,
    feed_within_request_size,
    missing_field,
    open_scan,
)
from ecb_files.ingest.sink import Scanner

__all__ = ["FileDraft", "ParsedFile", "ParsedSubmission", "SubmissionParser"]

# The objects and arrays of the document that the submission gives a meaning to.
_ROOT: Final = 0
_PAYLOAD: Final = 1
_FILES: Final = 2  # the payload.files array; its elements have the name ""
_FILE: Final = 3

# (container, member) → (JSON type of its value, null means absent, what to say).
_SLOTS: Final[dict[tuple[int, str], tuple[str, bool, str]]] = {
    (_ROOT, "securityToken"): ("string", False, "a string (a GUID)"),
    (_ROOT, "timestamp"): ("string", True, "a string (a date or date-time)"),
    (_ROOT, "payload"): ("object", False, "an object"),
    (_PAYLOAD, "id"): ("string", False, "a string (a GUID)"),
    (_PAYLOAD, "insuranceCompanyAlias"): ("string", False, "a string"),
    (_PAYLOAD, "userEmail"): ("string", False, "a string (an e-mail address)"),
    (_PAYLOAD, "files"): ("array", False, "an array of file objects"),
    (_FILES, ""): ("object", False, "an object (a file)"),
    (_FILE, "fileName"): ("string", False, "a string"),
    (_FILE, "contentType"): ("string", False, "a string"),
    (_FILE, "content"): ("string", False, "a string (base64)"),
    (_FILE, "description"): ("string", True, "a string"),
    (_FILE, "isRestricted"): ("boolean", True, "a boolean (true or false)"),
    (_FILE, "isDamageImage"): ("boolean", True, "a boolean (true or false)"),
    (_FILE, "sha256"): ("string", True, "a string (64 hex digits)"),
}
# A multipart submission's files name their part instead of holding their content.
_PART_SLOTS: Final = _SLOTS | {(_FILE, "part"): ("string", False, "a string (a part's name)")}
_GOT: Final = {
    "string": "a string",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
    "object": "an object",
    "array": "an array",
}


def _json_type(value: JsonScalar) -> str:
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, JsonNumber):
        return "number"
    return "null"


class _Assembler(Generic[S]):
    """The JSON event handler that turns events into a :class:`ParsedSubmission`."""

    def __init__(
        self,
        limits: Limits,
        open_sink: Callable[[], S],
        *,
        file_parts: bool,
        scanner: Scanner | None,
    ) -> None:
        self._limits = limits
        self._open_sink = open_sink
        self.scanner = scanner
        self._file_parts = file_parts
        self._slots = _PART_SLOTS if file_parts else _SLOTS
        self.declared: dict[str, FileDraft[S]] = {}  # by part name, with file_parts
        self.sinks: list[S] = []
        self.result: ParsedSubmission[S] | None = None
        self._containers: list[int] = []
        self._key = ""
        self._ignored_depth = 0  # > 0 while inside a value nobody asked for
        self._security_token: uuid.UUID | None = None
        self._timestamp: str | None = None
        self._has_payload = False
        self._target_id: uuid.UUID | None = None
        self._alias: str | None = None
        self._email: str | None = None
        self._has_files = False
        self._file_count = 0
        self._file: FileDraft[S] | None = None
        self._streaming: FileContent | None = None
        self._files: list[ParsedFile[S]] = []

    # -- naming ---------------------------------------------------------------------------

    def describe_path(self, path: JsonPath) -> str:
        """Render a tokenizer path, naming the current file once its name is known."""
        if len(path) >= 3 and path[:2] == ("payload", "files") and isinstance(path[2], int):
            draft = self._file
            if draft is not None and draft.index == path[2]:
                return format_path(path[3:], draft.label())
        return format_path(path)

    def _field(self, container: int, name: str) -> str:
        if container == _ROOT:
            return name
        if container == _PAYLOAD:
            return f"payload.{name}"
        if container == _FILES:
            return f"payload.files[{self._file_count - 1}]"
        assert self._file is not None
        return f"{self._file.label()}.{name}"

    def _invalid(self, container: int, name: str, what: str, reason: str) -> InvalidRequest:
        return InvalidRequest(f"{self._field(container, name)}: {what}", reason=reason)

    # -- where a value goes ---------------------------------------------------------------

    def _slot(self, json_type: str) -> tuple[int, str] | None:
        """The known member a value of ``json_type`` starts, type-checked; None if the
        value is ignored."""
        if self._ignored_depth:
            return None
        container = self._containers[-1]
        name = "" if container == _FILES else self._key
        slot = self._slots.get((container, name))
        if slot is None:
            return None
        if container == _FILES:
            self._file_count += 1
            if self._file_count > self._limits.max_files_per_request:
                raise InvalidRequest(
                    "payload.files: more than maxFilesPerRequest "
                    f"{self._limits.max_files_per_request} files",
                    reason="too_many_files",
                )
        expected_type, nullable, expected = slot
        if json_type != expected_type and not (nullable and json_type == "null"):
            raise self._invalid(
                container, name, f"expected {expected}, got {_GOT[json_type]}", "wrong_type"
            )
        return container, name

    # -- JsonEventHandler -----------------------------------------------------------------

    def start_object(self) -> None:
        if not self._containers:
            self._containers.append(_ROOT)
            return
        slot = self._slot("object")
        if slot is None:
            self._ignored_depth += 1
        elif slot[0] == _ROOT:
            self._has_payload = True
            self._containers.append(_PAYLOAD)
        else:
            self._file = FileDraft(index=self._file_count - 1)
            self._containers.append(_FILE)

    def start_array(self) -> None:
        if self._slot("array") is None:
            self._ignored_depth += 1
        else:
            self._has_files = True
            self._containers.append(_FILES)

    def end_object(self) -> None:
        if self._ignored_depth:
            self._ignored_depth -= 1
            return
        container = self._containers.pop()
        if container == _FILE:
            self._close_file()
        elif container == _PAYLOAD:
            self._close_payload()
        else:
            self._close_root()

    def end_array(self) -> None:
        if self._ignored_depth:
            self._ignored_depth -= 1
            return
        self._containers.pop()
        if self._file_count == 0:
            raise InvalidRequest("payload.files: at least one file is required", reason="no_files")

    def key(self, name: str) -> None:
        if not self._ignored_depth:
            self._key = name

    def begin_string(self) -> bool:
        if self._slot("string") != (_FILE, "content"):
            return False
        draft = self._file
        assert draft is not None
        if self._file_parts:
            raise InvalidRequest(
                f"{draft.label()}.content: not allowed in a multipart submission; the "
                "file's bytes go in the part that its 'part' member names",
                reason="content_in_multipart",
            )
        draft.blob = blob = self._open_sink()
        self.sinks.append(blob)
        draft.content = self._streaming = FileContent(
            self._limits, blob, draft.label, scan=open_scan(self.scanner)
        )
        return True

    def string_chunk(self, data: bytes) -> None:
        assert self._streaming is not None
        self._streaming.write(data)

    def end_string(self) -> None:
        assert self._streaming is not None
        self._streaming.finish()
        self._streaming = None

    def scalar(self, value: JsonScalar) -> None:
        if self._ignored_depth:
            return
        slot = self._slot(_json_type(value))
        if slot is None or value is None:
            return
        container, name = slot
        if isinstance(value, bool):
            self._set_flag(name, value)
        elif isinstance(value, str):
            self._set_string(container, name, value)

    # -- members --------------------------------------------------------------------------

    def _set_flag(self, name: str, value: bool) -> None:
        assert self._file is not None
        if name == "isRestricted":
            self._file.is_restricted = value
        else:
            self._file.is_damage_image = value

    def _set_string(self, container: int, name: str, value: str) -> None:
        field = self._field(container, name)
        if container == _ROOT:
            if name == "securityToken":
                self._security_token = rules.parse_guid(value, field=field)
            else:
                rules.check_timestamp(value, field=field)
                self._timestamp = value
        elif container == _PAYLOAD:
            if name == "id":
                self._target_id = rules.parse_guid(value, field=field)
            elif name == "insuranceCompanyAlias":
                if not value:
                    raise self._invalid(container, name, "must not be empty", "empty_alias")
                self._alias = value
            else:
                rules.check_email(value, field=field)
                self._email = value
        else:
            self._set_file_string(name, value, field)

    def _set_file_string(self, name: str, value: str, field: str) -> None:
        draft = self._file
        assert draft is not None
        if name == "fileName":
            rules.check_file_name(value, max_chars=self._limits.max_file_name_chars, field=field)
            draft.file_name = value
        elif name == "contentType":
            if not value:
                raise InvalidRequest(f"{field}: must not be empty", reason="empty_content_type")
            draft.content_type = value
        elif name == "part":
            if not value:
                raise InvalidRequest(f"{field}: must not be empty", reason="empty_part_name")
            draft.part = value
        elif name == "description":
            limit = self._limits.max_description_chars
            if len(value) > limit:
                raise InvalidRequest(
                    f"{field}: is longer than maxDescriptionChars {limit} characters",
                    reason="description_too_long",
                )
            draft.description = value
        else:
            draft.claimed_sha256 = rules.parse_sha256_hex(value, field=field)

    # -- closing objects ------------------------------------------------------------------

    def _close_file(self) -> None:
        draft = self._file
        assert draft is not None
        self._file = None
        if not self._file_parts:
            self._files.append(draft.complete())
            return
        if draft.part is None:
            raise missing_field(f"{draft.label()}.part")
        earlier = self.declared.get(draft.part)
        if earlier is not None:
            raise InvalidRequest(
                f"{draft.label()}.part: {draft.part!r} is already named by {earlier.label()}; "
                "each file part is named by exactly one file",
                reason="duplicate_part_name",
            )
        self.declared[draft.part] = draft

    def _close_payload(self) -> None:
        if self._target_id is None:
            raise missing_field("payload.id")
        if self._alias is None:
            raise missing_field("payload.insuranceCompanyAlias")
        if self._email is None:
            raise missing_field("payload.userEmail")
        if not self._has_files:
            raise missing_field("payload.files")

    def _close_root(self) -> None:
        if self._security_token is None:
            raise missing_field("securityToken")
        if not self._has_payload:
            raise missing_field("payload")
        assert self._target_id is not None
        assert self._alias is not None
        assert self._email is not None
        self.result = ParsedSubmission(
            security_token=self._security_token,
            timestamp=self._timestamp,
            target_id=self._target_id,
            insurance_company_alias=self._alias,
            user_email=self._email,
            files=tuple(self._files),
        )


class SubmissionParser(Generic[S]):
    """Parse one submit request body pushed in chunks (see the module docstring).

    ``open_sink`` is called once per file, when its ``content`` string starts. After an
    exception from :meth:`feed` or :meth:`finish`, only :meth:`abort` may be called.
    With ``file_parts`` (§10.1), ``finish()`` gives the submission without files, and
    :attr:`declared_files` what each part's file is to be.
    """

    def __init__(
        self,
        limits: Limits,
        open_sink: Callable[[], S],
        *,
        file_parts: bool = False,
        scanner: Scanner | None = None,
    ) -> None:
        self._limits = limits
        self._assembler: _Assembler[S] = _Assembler(
            limits, open_sink, file_parts=file_parts, scanner=scanner
        )
        # Streamed strings are file contents: the base64 decoder validates every byte,
        # and §3.1 has it ignore line breaks, raw ones included.
        self._tokenizer = JsonTokenizer(
            self._assembler,
            limits,
            describe_path=self._assembler.describe_path,
            handler_checks_streamed_bytes=True,
        )
        self._received = 0
        self._state = ParserState()

    @property
    def bytes_received(self) -> int:
        return self._received

    @property
    def declared_files(self) -> Mapping[str, FileDraft[S]]:
        """With ``file_parts``: the files by the name of their part, once finished."""
        return self._assembler.declared

    def feed(self, chunk: bytes) -> None:
        with self._state.step():
            self._received = feed_within_request_size(
                self._tokenizer.feed, chunk, self._received, self._limits
            )

    def finish(self) -> ParsedSubmission[S]:
        """The body has ended: the parsed submission, every blob sealed."""
        with self._state.step():
            self._tokenizer.finish()
        self._state.finished()
        result = self._assembler.result
        assert result is not None
        return result

    def abort(self) -> None:
        """Abort every sink opened so far, sealed or not. Safe at any time, repeatedly.

        Every sink is aborted even if one fails; the first failure is raised after.
        """
        if self._state.abort():
            abort_all(self._assembler.sinks, self._assembler.scanner)
