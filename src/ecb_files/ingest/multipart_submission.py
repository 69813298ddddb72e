"""The binary form of a submit request body (§10.1), parsed as it streams.

``multipart/form-data``: the first part, named ``submission``, is the JSON of §3.1 read
by :class:`~ecb_files.ingest.submission.SubmissionParser` with ``file_parts`` (each
file names its part in ``files[i].part``); every other part is one file's bytes, which
go through :class:`~ecb_files.ingest.content.FileContent` (base64-decoded only for
``Content-Transfer-Encoding: base64``) into a sink as they arrive. The parts are read
by :class:`~ecb_files.ingest.multipart.MultipartReader`.

Faults are raised where they are met in the stream, all 400 InvalidRequest naming the
part or the file, except the sizes (413, as in the JSON form): a file part before the
``submission`` part, a part without a name, two parts with one name, a part no file
names (each as its headers end), a ``content`` member in the submission (as the JSON
is read), and a ``part`` naming no part (at the end of the body, once every part has
been seen). The result and the duty to :meth:`abort` are those of
:class:`~ecb_files.ingest.submission.SubmissionParser`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Final, Generic

from ecb_files.config import Limits
from ecb_files.domain import rules
from ecb_files.errors import InvalidRequest
from ecb_files.ingest.content import FileContent
from ecb_files.ingest.multipart import MultipartReader, PartHeaders, split_header_value
from ecb_files.ingest.parsed import (
    FileDraft,
    ParsedFile,
    ParsedSubmission,
    ParserState,
    S,
    abort_all,
    feed_within_request_size,
    open_scan,
)
from ecb_files.ingest.sink import Scanner
from ecb_files.ingest.submission import SubmissionParser

SUBMISSION_PART: Final = "submission"
_JSON_TYPES: Final = frozenset({"application/json"})


class MultipartSubmissionParser(Generic[S]):
    """Parse one ``multipart/form-data`` submit body pushed in chunks (module doc)."""

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
        self._json: SubmissionParser[S] = SubmissionParser(limits, open_sink, file_parts=True)
        self._submission: ParsedSubmission[S] | None = None
        self._in_submission = False
        self._file: FileDraft[S] | None = None  # the file whose part is being read
        self._content: FileContent | None = None  # ... and its content
        self._seen: set[str] = set()
        self._files: list[ParsedFile[S]] = []
        self._sinks: list[S] = []
        self._received = 0
        self._state = ParserState()

    def feed(self, chunk: bytes) -> None:
        with self._state.step():
            self._received = feed_within_request_size(
                self._reader.feed, chunk, self._received, self._limits
            )

    def finish(self) -> ParsedSubmission[S]:
        """The body has ended: the parsed submission, its files in request order."""
        with self._state.step():
            self._reader.finish()
            submission = self._submission
            if submission is None:
                raise InvalidRequest(
                    f"multipart body: no part named {SUBMISSION_PART!r} (the submission JSON)",
                    reason="no_submission_part",
                )
            for draft in self._json.declared_files.values():
                if draft.part not in self._seen:
                    raise InvalidRequest(
                        f"{draft.label()}.part: names no part of the request ({draft.part!r})",
                        reason="part_not_found",
                    )
        self._state.finished()
        files = tuple(sorted(self._files, key=lambda file: file.index))
        return dataclasses.replace(submission, files=files)

    def abort(self) -> None:
        """Abort every sink opened so far, sealed or not. Safe at any time, repeatedly."""
        if self._state.abort():
            self._json.abort()  # opens no sink of its own: files are parts here
            abort_all(self._sinks, self._scanner)

    # -- PartHandler ----------------------------------------------------------------------

    def part_begin(self, headers: PartHeaders) -> None:
        if self._submission is None:
            self._begin_submission(headers)
            return
        name = headers.name
        if name is None:
            raise InvalidRequest(
                f'{headers.label()}: has no name (Content-Disposition: form-data; name="…")',
                reason="part_without_name",
            )
        if name == SUBMISSION_PART or name in self._seen:
            raise InvalidRequest(
                f"{headers.label()}: a second part named {name!r}", reason="duplicate_part"
            )
        draft = self._json.declared_files.get(name)
        if draft is None:
            raise InvalidRequest(
                f"{headers.label()}: no payload.files[i].part names this part",
                reason="part_not_named",
            )
        self._seen.add(name)
        self._take_names_from(headers, draft)
        draft.blob = sink = self._open_sink()
        self._sinks.append(sink)
        label = f"{headers.label()} for {draft.label()}"
        draft.content = self._content = FileContent(
            self._limits,
            sink,
            lambda: label,
            base64=headers.base64,
            field="",
            scan=open_scan(self._scanner),
        )
        self._file = draft

    def part_data(self, data: bytes) -> None:
        if self._in_submission:
            self._json.feed(data)
        else:
            assert self._content is not None
            self._content.write(data)

    def part_end(self) -> None:
        if self._in_submission:
            self._in_submission = False
            self._submission = self._json.finish()
            return
        draft, content = self._file, self._content
        assert draft is not None
        assert content is not None
        self._file = self._content = None
        content.finish()
        hint = " (neither in the submission nor in the part's headers)"
        self._files.append(draft.complete(missing=hint))

    # -- parts ----------------------------------------------------------------------------

    def _begin_submission(self, headers: PartHeaders) -> None:
        if headers.name != SUBMISSION_PART:
            raise InvalidRequest(
                f"{headers.label()}: comes before the {SUBMISSION_PART!r} part; the first "
                f"part must be {SUBMISSION_PART!r} (application/json)",
                reason="file_part_before_submission",
            )
        # RFC 7578 §4.4 makes text/plain the default: a submission part without a
        # Content-Type is read as JSON, which is what it must be.
        media_type = split_header_value(headers.content_type or "application/json")[0]
        if media_type not in _JSON_TYPES:
            raise InvalidRequest(
                f"{headers.label()}: Content-Type {headers.content_type!r}; the submission "
                "part must be application/json",
                reason="submission_part_type",
            )
        if headers.base64:  # the reader has refused every other transfer encoding
            raise InvalidRequest(
                f"{headers.label()}: Content-Transfer-Encoding {headers.transfer_encoding!r}; "
                "the submission part is sent as it is",
                reason="submission_part_encoding",
            )
        self._in_submission = True

    def _take_names_from(self, headers: PartHeaders, draft: FileDraft[S]) -> None:
        """A file's ``fileName`` and ``contentType`` left out of the submission come
        from its part's ``filename`` and ``Content-Type`` (§10.1)."""
        if draft.file_name is None and headers.filename is not None:
            rules.check_file_name(
                headers.filename,
                max_chars=self._limits.max_file_name_chars,
                field=f"payload.files[{draft.index}].fileName (the filename of {headers.label()})",
            )
            draft.file_name = headers.filename
        if draft.content_type is None and headers.content_type:
            draft.content_type = headers.content_type
