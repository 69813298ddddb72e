"""What a submission tells an observer while it runs (the CLI's progress bars use it).

Subclass :class:`ProgressListener` and override what you need; every method does
nothing by default. Calls come from the thread that drives the submission (the event
loop's, for the async client), in this order per attempt::

    attempt_started → (advance … file_done) per file → body_sent
    → retrying (if the attempt failed and another follows)

Before the first attempt, ``reading_ahead`` says that files are being read once to hash
them (the binary form names each file's SHA-256 ahead of its bytes).
"""

from __future__ import annotations

from collections.abc import Sequence

from ecb_files_client._uploads import UploadInfo


class ProgressListener:
    """Receives the progress of a submission; the default ignores everything."""

    def reading_ahead(self, files: Sequence[UploadInfo]) -> None:
        """``files`` are read once before sending, to hash them; it may take a while."""

    def attempt_started(
        self, attempt: int, files: Sequence[UploadInfo], body_bytes: int | None
    ) -> None:
        """Attempt ``attempt`` (1-based) starts sending; sizes None when unknown."""

    def advance(self, index: int, nbytes: int) -> None:
        """``nbytes`` more bytes of file ``index`` went out (file bytes, before base64)."""

    def file_done(self, index: int) -> None:
        """All of file ``index`` went out."""

    def body_sent(self) -> None:
        """The whole request went out; the server is storing it and will answer."""

    def retrying(self, attempt: int, reason: str, delay: float) -> None:
        """Attempt ``attempt`` failed for ``reason``; the next starts in ``delay`` s."""
