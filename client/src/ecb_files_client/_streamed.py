"""What every request body of this package is: a stream of pieces, made afresh per attempt.

A body (the JSON form of ``_body``, the multipart forms of ``_multipart``) produces its
bytes while they are sent, reading files one piece at a time, so memory stays flat
whatever the file sizes. Each :class:`Piece` says which file's bytes it carries, which
is what progress listeners hear. The same body can be streamed once per attempt and
gives the same bytes every time: what an idempotent retry needs (the server compares
the bodies' digests).
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import AsyncGenerator, Callable, Generator, Sequence
from dataclasses import dataclass

from ecb_files_client._checks import empty_file, file_label, too_large
from ecb_files_client._exceptions import LocalValidationError
from ecb_files_client._uploads import PreparedFile

# Raw bytes read per piece: a multiple of 3, so the base64 of consecutive pieces
# concatenates without padding; 1.5 MiB keeps per-piece overhead (a thread hop in the
# async client) negligible and memory small.
PIECE_BYTES = 3 * 512 * 1024


@dataclass(frozen=True)
class Piece:
    """Bytes of the body; ``file_index`` says which file's content they carry, if any."""

    data: bytes
    file_index: int | None = None
    file_bytes: int = 0  # raw file bytes that ``data`` carries (before any encoding)
    file_done: bool = False
    end: bool = False  # the last piece of the body


class StreamedBody(abc.ABC):
    """A request body over some files: as many fresh streams of it as attempts need.

    Subclasses say how the body looks (:meth:`pieces`, :attr:`content_type`,
    :attr:`content_length`); reading the files and checking that they do not change
    while they are sent is shared here.
    """

    content_type: str
    base64 = True  # file bytes travel base64-encoded (the JSON form), else raw in parts

    def __init__(self, files: Sequence[PreparedFile], max_file_bytes: int | None) -> None:
        """``max_file_bytes`` bounds streams of unknown size as they are read (None: the
        server alone judges)."""
        self.files = list(files)
        self._max_file_bytes = max_file_bytes
        # SHA-256 of each file as last sent, and how many of its bytes went out.
        self.digests: list[str | None] = [None] * len(self.files)
        self.sent_sizes: list[int] = [0] * len(self.files)
        self.attempts = 0

    @property
    @abc.abstractmethod
    def content_length(self) -> int | None:
        """The exact length in bytes, or None when a file's size is unknown."""

    @abc.abstractmethod
    def pieces(self) -> Generator[Piece, None, None]:
        """A fresh stream of the whole body (files reopened or rewound)."""

    def prepare(self) -> None:  # noqa: B027 — an optional hook, empty by default
        """Read what must be known before the body starts (blocking; done once)."""

    def reads_ahead(self) -> list[PreparedFile]:
        """The files :meth:`prepare` has still to read."""
        return []

    def content_label(self, file: PreparedFile) -> str:
        """How the server names this file's content in its refusals."""
        return file_label(file.index, file.file_name)

    def unrepeatable(self) -> str | None:
        """The label of a file that cannot be read again for another attempt, if any."""
        for file in self.files:
            if not file.restartable:
                return file.label
        return None

    def iterate(self, on_piece: Callable[[Piece], None]) -> Generator[bytes, None, None]:
        """The body for a blocking HTTP client; ``on_piece`` after each piece is taken."""
        for piece in self.pieces():
            yield piece.data
            on_piece(piece)

    async def aiterate(self, on_piece: Callable[[Piece], None]) -> AsyncGenerator[bytes, None]:
        """The body for an asyncio HTTP client, ``on_piece`` called on the event loop."""
        pieces = self.pieces()
        try:
            while True:
                # Reading, hashing and encoding block on disk and CPU: off the event loop.
                piece = await asyncio.to_thread(next, pieces, None)
                if piece is None:
                    return
                yield piece.data
                on_piece(piece)
        finally:
            pieces.close()

    def read(self, file: PreparedFile) -> Generator[bytes, None, None]:
        """The file's bytes from the start, a piece at a time, held to its size bounds."""
        total = 0
        with file.open() as stream:
            while data := stream.read(PIECE_BYTES):
                if not isinstance(data, bytes | bytearray):
                    raise TypeError(f"{file.label}: open the file in binary mode ('rb')")
                total += len(data)
                self.check_size(file, total, final=False)
                yield bytes(data)
        self.check_size(file, total, final=True)

    def _start_attempt(self) -> None:
        self.attempts += 1
        self.digests = [None] * len(self.files)
        self.sent_sizes = [0] * len(self.files)

    def check_size(self, file: PreparedFile, total: int, *, final: bool) -> None:
        """Refuse a file the moment it passes its bounds or differs from its known size."""
        if file.size is None:
            if self._max_file_bytes is None:
                return
            # Unknown ahead: the same bounds, the moment they are passed.
            if total > self._max_file_bytes:
                raise too_large(self.content_label(file), self._max_file_bytes)
            if final and total == 0:
                raise empty_file(self.content_label(file), base64=self.base64)
        elif total > file.size or (final and total != file.size):
            raise changed_while_sent(file, f"expected {file.size} bytes, read {total}")


def changed_while_sent(file: PreparedFile, detail: str) -> LocalValidationError:
    return LocalValidationError(
        f"{file.label}: the file changed while it was being sent ({detail})"
    )
