"""The body of an FNoL request (§10.2), parsed as it streams.

``multipart/form-data``, ``multipart/mixed`` or ``multipart/related``, read by
:class:`~ecb_files.ingest.multipart.MultipartReader`. Exactly one part, in any position,
has the type ``application/vnd.casecreation+json``: the FNoL. Every other part is an
attachment of the new damage notification, whose bytes go through
:class:`~ecb_files.ingest.content.FileContent` (base64-decoded only for
``Content-Transfer-Encoding: base64``) into a sink as they arrive.

The FNoL part is the one part read whole: its JSON is checked by the project's
tokenizer (the JSON rules of §3.1: duplicate keys, depth, string lengths, lone
surrogates) and bounded by ``Limits.max_fnol_bytes``; the ``damageNotification``
member is kept as the JSON text it was sent as, beside its value.

Faults are raised where they are met in the stream, all 400 InvalidRequest naming the
part or the FNoL member (``userEmail``, ``attachments[1].part``), except the sizes
(413): a second FNoL part, an attachment without a file name or with a bad one, two
attachments with one name (each as its headers end), a fault of the FNoL's JSON or
fields (as its part ends), no FNoL part, and an ``attachments`` entry naming no part
(at the end of the body). Whether the FNoL satisfies its tenant's schema is decided
later, after the caller is known (§10.2's order of errors). Whoever drives the parser
must call :meth:`FnolParser.abort` whenever the FNoL is not stored in the end.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Generic

from ecb_files.config import Limits
from ecb_files.domain import rules
from ecb_files.domain.json_paths import json_kind
from ecb_files.errors import InvalidRequest, PayloadTooLarge
from ecb_files.ingest.content import FileContent
from ecb_files.ingest.json_events import JsonScalar, JsonTokenizer
from ecb_files.ingest.multipart import MultipartReader, PartHeaders, split_header_value
from ecb_files.ingest.parsed import (
    ParsedFile,
    ParserState,
    S,
    abort_all,
    feed_within_request_size,
    open_scan,
)
from ecb_files.ingest.sink import Scanner

FNOL_PART_TYPE: Final = "application/vnd.casecreation+json"
DEFAULT_ATTACHMENT_TYPE: Final = "application/octet-stream"
_JSON_WHITESPACE: Final = " \t\r\n"


@dataclass(frozen=True, slots=True)
class AttachmentEntry:
    """One ``attachments[i]`` entry of the FNoL: what it says about the part it names."""

    index: int
    part: str
    description: str | None
    is_damage_image: bool


@dataclass(frozen=True, slots=True)
class ParsedFnol(Generic[S]):
    """An FNoL request body that passed every rule of step 2.

    ``damage_notification`` is the member's value (for the schema) and
    ``damage_notification_json`` its JSON text exactly as sent. ``attachments`` are in
    part order, each ``index`` the part's position in the body; ``attachment_labels``
    name them for messages, in the same order.
    """

    security_token: uuid.UUID
    insurance_company_alias: str
    user_email: str
    damage_notification: Any
    damage_notification_json: str
    attachments: tuple[ParsedFile[S], ...]
    attachment_labels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _FnolPart:
    security_token: uuid.UUID
    alias: str
    user_email: str
    damage_notification: Any
    damage_notification_json: str
    entries: tuple[AttachmentEntry, ...]


class FnolParser(Generic[S]):
    """Parse one FNoL request body pushed in chunks (see the module docstring)."""

    def __init__(
        self,
        boundary: str,
        limits: Limits,
        open_sink: Callable[[], S],
        *,
        scanner: Scanner | None = None,
    ) -> None:
        self._limits = limits
        self._open_sink = open_sink
        self._scanner = scanner
        self._reader = MultipartReader(boundary, self, limits)
        self._fnol: _FnolPart | None = None
        self._fnol_label: str | None = None  # the FNoL part, once its headers are read
        self._fnol_bytes: bytearray | None = None  # while the FNoL part is read
        self._current: PartHeaders | None = None  # the attachment being read
        self._content: FileContent | None = None  # ... and its content
        self._part_of: dict[str, int] = {}  # attachment name → its part's index
        self._files: list[ParsedFile[S]] = []
        self._labels: list[str] = []
        self._sinks: list[S] = []
        self._received = 0
        self._state = ParserState()

    def feed(self, chunk: bytes) -> None:
        with self._state.step():
            self._received = feed_within_request_size(
                self._reader.feed, chunk, self._received, self._limits
            )

    def finish(self) -> ParsedFnol[S]:
        """The body has ended: the parsed FNoL, its attachments in part order."""
        with self._state.step():
            self._reader.finish()
            fnol = self._fnol
            if fnol is None:
                raise InvalidRequest(
                    f"multipart body: no part of type {FNOL_PART_TYPE} (the FNoL)",
                    reason="no_fnol_part",
                )
            files = self._with_entries(fnol.entries)
        self._state.finished()
        return ParsedFnol(
            security_token=fnol.security_token,
            insurance_company_alias=fnol.alias,
            user_email=fnol.user_email,
            damage_notification=fnol.damage_notification,
            damage_notification_json=fnol.damage_notification_json,
            attachments=files,
            attachment_labels=tuple(self._labels),
        )

    def abort(self) -> None:
        """Abort every sink opened so far, sealed or not. Safe at any time, repeatedly."""
        if self._state.abort():
            abort_all(self._sinks, self._scanner)

    # -- PartHandler ----------------------------------------------------------------------

    def part_begin(self, headers: PartHeaders) -> None:
        if _is_fnol_part(headers):
            self._begin_fnol(headers)
        else:
            self._begin_attachment(headers)

    def part_data(self, data: bytes) -> None:
        if self._fnol_bytes is not None:
            self._fnol_bytes += data
            limit = self._limits.max_fnol_bytes
            if len(self._fnol_bytes) > limit:
                raise PayloadTooLarge(
                    f"{self._fnol_label}: the FNoL part is larger than maxFnolBytes {limit} bytes",
                    reason="fnol_too_large",
                )
        else:
            assert self._content is not None
            self._content.write(data)

    def part_end(self) -> None:
        if self._fnol_bytes is not None:
            raw, self._fnol_bytes = bytes(self._fnol_bytes), None
            assert self._fnol_label is not None
            self._fnol = _read_fnol(raw, self._fnol_label, self._limits)
            return
        headers, content = self._current, self._content
        assert headers is not None
        assert content is not None
        assert headers.filename is not None
        self._current = self._content = None
        content.finish()
        sink = self._sinks[-1]
        self._files.append(
            ParsedFile(
                index=headers.index,
                file_name=headers.filename,
                content_type=headers.content_type or DEFAULT_ATTACHMENT_TYPE,
                description=None,
                is_restricted=False,
                is_damage_image=False,
                size=content.size,
                sha256=content.sha256,
                blob=sink,
                findings=content.findings(headers.filename),
            )
        )

    # -- parts ----------------------------------------------------------------------------

    def _begin_fnol(self, headers: PartHeaders) -> None:
        if self._fnol_label is not None:
            raise InvalidRequest(
                f"{headers.label()}: a second part of type {FNOL_PART_TYPE}; a request "
                f"creates one damage notification (the first is {self._fnol_label})",
                reason="second_fnol_part",
            )
        charset = split_header_value(headers.content_type or "")[1].get("charset", "utf-8")
        if charset.lower() != "utf-8":
            raise InvalidRequest(
                f"{headers.label()}: Content-Type charset {charset!r}; the FNoL part is UTF-8",
                reason="fnol_part_charset",
            )
        if headers.transfer_encoding not in (None, "7bit", "8bit", "binary"):
            raise InvalidRequest(
                f"{headers.label()}: Content-Transfer-Encoding {headers.transfer_encoding!r}; "
                "the FNoL part is sent as it is",
                reason="fnol_part_encoding",
            )
        self._fnol_label = headers.label()
        self._fnol_bytes = bytearray()

    def _begin_attachment(self, headers: PartHeaders) -> None:
        label = headers.label()
        if len(self._files) >= self._limits.max_files_per_request:
            raise InvalidRequest(
                f"{label}: more than maxFilesPerRequest "
                f"{self._limits.max_files_per_request} attachments",
                reason="too_many_files",
            )
        if headers.filename is None:
            raise InvalidRequest(
                f"{label}: an attachment needs a file name (the filename or filename* "
                f"parameter of Content-Disposition); the FNoL itself is the part of type "
                f"{FNOL_PART_TYPE}",
                reason="attachment_without_filename",
            )
        rules.check_file_name(
            headers.filename,
            max_chars=self._limits.max_file_name_chars,
            field=f"{label}: filename",
        )
        if headers.name is not None:
            if headers.name in self._part_of:
                raise InvalidRequest(
                    f"{label}: a second part named {headers.name!r}; attachments are told "
                    "apart by their names",
                    reason="duplicate_part",
                )
            self._part_of[headers.name] = headers.index
        sink = self._open_sink()
        self._sinks.append(sink)
        file_label = f"{label} ({headers.filename!r})"
        self._labels.append(file_label)
        self._content = FileContent(
            self._limits,
            sink,
            lambda: file_label,
            base64=headers.base64,
            field="",
            scan=open_scan(self._scanner),
        )
        self._current = headers

    def _with_entries(self, entries: tuple[AttachmentEntry, ...]) -> tuple[ParsedFile[S], ...]:
        """The attachments with what the FNoL's ``attachments`` entries say of them."""
        for entry in entries:
            if entry.part not in self._part_of:
                raise InvalidRequest(
                    f"attachments[{entry.index}].part: names no attachment part of the "
                    f"request ({entry.part!r})",
                    reason="part_not_found",
                )
        by_part = {self._part_of[entry.part]: entry for entry in entries}
        described = []
        for parsed in self._files:
            said = by_part.get(parsed.index)
            if said is not None:
                parsed = dataclasses.replace(
                    parsed, description=said.description, is_damage_image=said.is_damage_image
                )
            described.append(parsed)
        return tuple(described)


def _is_fnol_part(headers: PartHeaders) -> bool:
    return split_header_value(headers.content_type or "")[0] == FNOL_PART_TYPE


# -- the FNoL part ----------------------------------------------------------------------


class _JsonRules:
    """A JSON event handler that keeps nothing: the tokenizer alone applies the rules."""

    def start_object(self) -> None: ...
    def end_object(self) -> None: ...
    def start_array(self) -> None: ...
    def end_array(self) -> None: ...
    def key(self, name: str) -> None: ...
    def scalar(self, value: JsonScalar) -> None: ...

    def begin_string(self) -> bool:
        return False

    def string_chunk(self, data: bytes) -> None: ...
    def end_string(self) -> None: ...


def _read_fnol(raw: bytes, label: str, limits: Limits) -> _FnolPart:
    tokenizer = JsonTokenizer(_JsonRules(), limits)
    try:
        tokenizer.feed(raw)
        tokenizer.finish()
    except InvalidRequest as error:
        raise InvalidRequest(f"{label}: {error.description}", reason=error.reason) from None
    members = _root_members(raw.decode("utf-8-sig"))
    damage_notification, damage_notification_json = _required(members, "damageNotification")
    return _FnolPart(
        security_token=rules.parse_guid(_text(members, "securityToken"), field="securityToken"),
        alias=_alias(members),
        user_email=_email(members),
        damage_notification=damage_notification,
        damage_notification_json=damage_notification_json,
        entries=_entries(members, limits),
    )


def _root_members(text: str) -> dict[str, tuple[Any, str]]:
    """The root object's members: each value, and its JSON text exactly as sent.

    ``text`` has passed the tokenizer, so it is one well-formed object without
    duplicate keys; the standard library's scanner finds where each value ends.
    """
    decoder = json.JSONDecoder()
    members: dict[str, tuple[Any, str]] = {}
    position = _skip_whitespace(text, 0) + 1  # past "{"
    position = _skip_whitespace(text, position)
    while text[position] != "}":
        name, position = decoder.raw_decode(text, position)
        position = _skip_whitespace(text, _skip_whitespace(text, position) + 1)  # past ":"
        value, end = decoder.raw_decode(text, position)
        members[name] = (value, text[position:end])
        position = _skip_whitespace(text, end)
        if text[position] == ",":
            position = _skip_whitespace(text, position + 1)
    return members


def _skip_whitespace(text: str, position: int) -> int:
    while text[position] in _JSON_WHITESPACE:
        position += 1
    return position


def _required(members: dict[str, tuple[Any, str]], name: str) -> tuple[Any, str]:
    if name not in members:
        raise InvalidRequest(f"{name}: required field is missing", reason="missing_field")
    return members[name]


def _text(members: dict[str, tuple[Any, str]], name: str) -> str:
    value = _required(members, name)[0]
    if not isinstance(value, str):
        raise InvalidRequest(
            f"{name}: must be a string, not {json_kind(value)}", reason="wrong_type"
        )
    return value


def _alias(members: dict[str, tuple[Any, str]]) -> str:
    alias = _text(members, "insuranceCompanyAlias")
    if not alias:
        raise InvalidRequest("insuranceCompanyAlias: must not be empty", reason="empty_alias")
    return alias


def _email(members: dict[str, tuple[Any, str]]) -> str:
    email = _text(members, "userEmail")
    rules.check_email(email, field="userEmail")
    return email


def _entries(members: dict[str, tuple[Any, str]], limits: Limits) -> tuple[AttachmentEntry, ...]:
    value = members.get("attachments", (None, ""))[0]
    if value is None:
        return ()
    if not isinstance(value, list):
        raise InvalidRequest(
            f"attachments: must be an array, not {json_kind(value)}", reason="wrong_type"
        )
    entries: list[AttachmentEntry] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(value):
        field = f"attachments[{index}]"
        if not isinstance(item, dict):
            raise InvalidRequest(
                f"{field}: must be an object, not {json_kind(item)}", reason="wrong_type"
            )
        part = item.get("part")
        if part is None:
            raise InvalidRequest(f"{field}.part: required field is missing", reason="missing_field")
        if not isinstance(part, str) or not part:
            raise InvalidRequest(f"{field}.part: must be a part's name", reason="wrong_type")
        if part in seen:
            raise InvalidRequest(
                f"{field}.part: part {part!r} is already described by attachments[{seen[part]}]",
                reason="duplicate_attachment_entry",
            )
        seen[part] = index
        entries.append(
            AttachmentEntry(
                index=index,
                part=part,
                description=_description(item.get("description"), field, limits),
                is_damage_image=_flag(item.get("isDamageImage"), f"{field}.isDamageImage"),
            )
        )
    return tuple(entries)


def _description(value: Any, field: str, limits: Limits) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRequest(
            f"{field}.description: must be a string, not {json_kind(value)}", reason="wrong_type"
        )
    if len(value) > limits.max_description_chars:
        raise InvalidRequest(
            f"{field}.description: is longer than maxDescriptionChars "
            f"{limits.max_description_chars} characters",
            reason="description_too_long",
        )
    return value


def _flag(value: Any, field: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidRequest(
            f"{field}: must be a boolean (true or false), not {json_kind(value)}",
            reason="wrong_type",
        )
    return value
