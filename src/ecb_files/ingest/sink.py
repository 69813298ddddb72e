"""Where one file's decoded bytes go while a submission streams in."""

from __future__ import annotations

from typing import Protocol


class BlobSink(Protocol):
    """The receiving end of one file's content (a temp file, a multipart upload, …).

    The ingest core calls ``write`` any number of times with decoded bytes, then ``seal``
    once the content string has ended and passed its checks. ``abort`` may come at any
    moment, also after ``seal`` (a later fault refuses the whole submission), and more
    than once: it must discard everything written and never raise for a second call.
    """

    def write(self, data: bytes) -> None:
        """Append decoded bytes; may be called many times."""
        ...

    def seal(self) -> None:
        """The content is complete: make it durable."""
        ...

    def abort(self) -> None:
        """Discard everything written; idempotent."""
        ...
