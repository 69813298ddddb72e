"""Where one file's decoded bytes go while a submission streams in."""

from __future__ import annotations

from concurrent.futures import Future
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


class ContentScan(Protocol):
    """One file's bytes on their way to a malware scanner (§12.1), fed beside its sink.

    ``write`` and ``seal`` as for a :class:`BlobSink`; the scanner works while the
    request goes on, and :meth:`verdict` waits for its answer. ``abort`` (any time,
    idempotent) drops the scan. Failures of the scanner itself raise
    ``ServiceUnavailable``: the service fails closed.
    """

    def write(self, data: bytes) -> None:
        """Send more of the file's decoded bytes."""
        ...

    def seal(self) -> None:
        """The file is complete; its verdict may follow later."""
        ...

    def verdict(self) -> str | None:
        """The signature found, or ``None`` for a clean file; blocks until the scanner
        answers, then answers the same on every call."""
        ...

    @property
    def seconds(self) -> float:
        """From the scan's start to its verdict, once there is one."""
        ...

    def abort(self) -> None:
        """Drop the scan; idempotent."""
        ...


class Scanner(Protocol):
    """Opens the scans of one request's files; ``abort`` drops every one it opened."""

    def open(self) -> ContentScan: ...

    def abort(self) -> None: ...


class HeldScanner(Scanner, Protocol):
    """A :class:`Scanner` for a request kept in memory: its scans only hold the bytes,
    and nothing blocks — :meth:`settle`, called on the event loop once the files are
    sealed, sends them all; after its future has ended, no ``verdict`` waits."""

    def settle(self) -> Future[None]: ...


class Scanners(Protocol):
    """Where a request's scanner comes from: one that streams (blocking, for worker
    threads) or one that holds the bytes of an in-memory request."""

    def scanner(self) -> Scanner: ...

    def held_scanner(self) -> HeldScanner: ...
