"""Progress on stderr: redrawn bars on a terminal, plain lines anywhere else.

Both show the same facts: per file and overall, bytes sent of bytes to send, the rate
and the time left. Bars redraw in place (ANSI cursor movement) at most ten times a
second; plain lines are written when a file is done and every ``interval`` seconds
in between, so a log file stays readable.
"""

from __future__ import annotations

import shutil
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import TextIO

from ecb_files_client._progress import ProgressListener
from ecb_files_client._uploads import UploadInfo

MAX_FILE_LINES = 8
BAR_WIDTH = 24
_UP_AND_CLEAR = "\x1b[{n}F"
_CLEAR_LINE = "\x1b[2K"
_RATE_WINDOW = 5.0


def human_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def human_duration(seconds: float) -> str:
    hours, rest = divmod(round(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class _Tally(ProgressListener):
    """Bytes per file and overall for the current attempt, and the recent rate."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.files: list[UploadInfo] = []
        self.sent: list[int] = []
        self.done: list[bool] = []
        self.attempt = 0
        self.started = 0.0
        self._samples: deque[tuple[float, int]] = deque()

    @property
    def total_sent(self) -> int:
        return sum(self.sent)

    @property
    def total_size(self) -> int | None:
        sizes = [f.size for f in self.files]
        return None if any(s is None for s in sizes) else sum(s or 0 for s in sizes)

    def attempt_started(
        self, attempt: int, files: Sequence[UploadInfo], body_bytes: int | None
    ) -> None:
        self.attempt = attempt
        self.files = list(files)
        self.sent = [0] * len(files)
        self.done = [False] * len(files)
        self.started = self.clock()
        self._samples = deque([(self.started, 0)])

    def advance(self, index: int, nbytes: int) -> None:
        self.sent[index] += nbytes
        now = self.clock()
        self._samples.append((now, self.total_sent))
        while len(self._samples) > 2 and now - self._samples[0][0] > _RATE_WINDOW:
            self._samples.popleft()

    def file_done(self, index: int) -> None:
        self.done[index] = True

    def rate(self) -> float | None:
        """Bytes per second over the last few seconds."""
        if len(self._samples) < 2:
            return None
        (t0, b0), (t1, b1) = self._samples[0], self._samples[-1]
        return (b1 - b0) / (t1 - t0) if t1 > t0 else None

    def eta(self) -> float | None:
        rate, total = self.rate(), self.total_size
        if not rate or total is None:
            return None
        return max(total - self.total_sent, 0) / rate


def reading_ahead_line(files: Sequence[UploadInfo]) -> str:
    sizes = [f.size or 0 for f in files]
    count = f"{len(files)} file" + ("s" if len(files) != 1 else "")
    return f"reading {count} ({human_bytes(sum(sizes))}) to hash before sending"


class TerminalProgress(_Tally):
    """Bars that redraw in place: one per file (the nearest eight) and the total."""

    def __init__(
        self,
        stream: TextIO,
        *,
        clock: Callable[[], float] = time.monotonic,
        width: int | None = None,
        min_interval: float = 0.1,
    ) -> None:
        super().__init__(clock)
        self.stream = stream
        self.width = width or shutil.get_terminal_size((100, 24)).columns
        self.min_interval = min_interval
        self._drawn_lines = 0
        self._last_draw = float("-inf")
        encoding = (getattr(stream, "encoding", None) or "").lower()
        self._full, self._empty = ("█", "░") if encoding.startswith("utf") else ("#", "-")

    def reading_ahead(self, files: Sequence[UploadInfo]) -> None:
        self.stream.write(reading_ahead_line(files) + "…\n")
        self.stream.flush()

    def attempt_started(
        self, attempt: int, files: Sequence[UploadInfo], body_bytes: int | None
    ) -> None:
        super().attempt_started(attempt, files, body_bytes)
        self._drawn_lines = 0
        if attempt > 1:
            self.stream.write(f"attempt {attempt}:\n")
        self._draw(force=True)

    def advance(self, index: int, nbytes: int) -> None:
        super().advance(index, nbytes)
        self._draw()

    def file_done(self, index: int) -> None:
        super().file_done(index)
        self._draw(force=True)

    def body_sent(self) -> None:
        self._draw(force=True)
        self.stream.write("sent; waiting for the server to store the files…\n")
        self.stream.flush()

    def retrying(self, attempt: int, reason: str, delay: float) -> None:
        self._draw(force=True)
        self.stream.write(f"attempt {attempt} failed: {reason}\nretrying in {delay:.1f} s\n")
        self.stream.flush()

    def _draw(self, *, force: bool = False) -> None:
        now = self.clock()
        if not force and now - self._last_draw < self.min_interval:
            return
        self._last_draw = now
        lines = [self._file_line(i) for i in self._visible_files()]
        lines.append(self._total_line())
        out = []
        if self._drawn_lines:
            out.append(_UP_AND_CLEAR.format(n=self._drawn_lines))
        out.extend(f"{_CLEAR_LINE}{line[: self.width - 1]}\n" for line in lines)
        self.stream.write("".join(out))
        self.stream.flush()
        self._drawn_lines = len(lines)

    def _visible_files(self) -> range:
        count = len(self.files)
        if count <= MAX_FILE_LINES:
            return range(count)
        current = next((i for i, done in enumerate(self.done) if not done), count - 1)
        start = min(max(current - 2, 0), count - MAX_FILE_LINES)
        return range(start, start + MAX_FILE_LINES)

    def _bar(self, sent: int, size: int | None) -> str:
        if not size:
            return "[" + " " * BAR_WIDTH + "]"
        filled = min(BAR_WIDTH, sent * BAR_WIDTH // size)
        return "[" + self._full * filled + self._empty * (BAR_WIDTH - filled) + "]"

    def _amount(self, sent: int, size: int | None) -> str:
        if size is None:
            return f"{human_bytes(sent)} sent"
        percent = 100 * sent // size if size else 100
        return f"{percent:3d}% {human_bytes(sent)} / {human_bytes(size)}"

    def _file_line(self, index: int) -> str:
        info = self.files[index]
        name_width = max(12, min(32, self.width - 60))
        name = (
            info.file_name
            if len(info.file_name) <= name_width
            else (info.file_name[: name_width - 1] + "…")
        )
        bar = self._bar(self.sent[index], info.size)
        return f"{name:<{name_width}} {bar} {self._amount(self.sent[index], info.size)}"

    def _total_line(self) -> str:
        name_width = max(12, min(32, self.width - 60))
        label = f"total ({len(self.files)} files)" if len(self.files) != 1 else "total"
        rate, eta = self.rate(), self.eta()
        speed = f"{human_bytes(rate)}/s" if rate else "–/s"
        left = f"ETA {human_duration(eta)}" if eta is not None else "ETA –"
        bar = self._bar(self.total_sent, self.total_size)
        amount = self._amount(self.total_sent, self.total_size)
        return f"{label:<{name_width}} {bar} {amount}  {speed}  {left}"


class PlainProgress(_Tally):
    """Whole lines: each file when it is done, the total every ``interval`` seconds."""

    def __init__(
        self,
        stream: TextIO,
        *,
        clock: Callable[[], float] = time.monotonic,
        interval: float = 10.0,
    ) -> None:
        super().__init__(clock)
        self.stream = stream
        self.interval = interval
        self._last_line = 0.0
        self._file_started = 0.0

    def reading_ahead(self, files: Sequence[UploadInfo]) -> None:
        self._write(reading_ahead_line(files))

    def attempt_started(
        self, attempt: int, files: Sequence[UploadInfo], body_bytes: int | None
    ) -> None:
        super().attempt_started(attempt, files, body_bytes)
        self._last_line = self._file_started = self.started
        total = self.total_size
        size = human_bytes(total) if total is not None else "size unknown"
        count = f"{len(files)} file" + ("s" if len(files) != 1 else "")
        self._write(f"attempt {attempt}: sending {count} ({size})")

    def advance(self, index: int, nbytes: int) -> None:
        super().advance(index, nbytes)
        now = self.clock()
        if now - self._last_line >= self.interval:
            self._last_line = now
            self._write("  " + self._overall())

    def file_done(self, index: int) -> None:
        super().file_done(index)
        now = self.clock()
        elapsed = now - self._file_started
        self._file_started = now
        sent = self.sent[index]
        speed = f", {human_bytes(sent / elapsed)}/s" if elapsed > 0 else ""
        self._write(
            f"  [{index + 1}/{len(self.files)}] {self.files[index].file_name}: "
            f"{human_bytes(sent)} sent in {elapsed:.1f} s{speed}"
        )

    def body_sent(self) -> None:
        elapsed = self.clock() - self.started
        speed = f", {human_bytes(self.total_sent / elapsed)}/s" if elapsed > 0 else ""
        self._write(
            f"  all sent: {human_bytes(self.total_sent)} in {elapsed:.1f} s{speed}; "
            "waiting for the server to store the files"
        )

    def retrying(self, attempt: int, reason: str, delay: float) -> None:
        self._write(f"attempt {attempt} failed: {reason}; retrying in {delay:.1f} s")

    def _overall(self) -> str:
        total = self.total_size
        rate, eta = self.rate(), self.eta()
        parts = [f"{human_bytes(self.total_sent)}"]
        if total:
            parts[0] += f" of {human_bytes(total)} ({100 * self.total_sent // total}%)"
        if rate:
            parts.append(f"{human_bytes(rate)}/s")
        if eta is not None:
            parts.append(f"ETA {human_duration(eta)}")
        return ", ".join(parts)

    def _write(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()


def progress_for(mode: str, stream: TextIO) -> ProgressListener:
    """``auto``: bars on a terminal, lines elsewhere; or ``bar``, ``plain``, ``none``."""
    if mode == "none":
        return ProgressListener()
    if mode == "bar" or (mode == "auto" and stream.isatty()):
        return TerminalProgress(stream)
    return PlainProgress(stream)
