"""The progress displays, driven by a fake clock: what a person sees at each step."""

from __future__ import annotations

import io

from ecb_files_client import UploadInfo
from ecb_files_client._cli.progress import (
    PlainProgress,
    TerminalProgress,
    human_bytes,
    human_duration,
    progress_for,
)

MIB = 1024 * 1024


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Terminal(io.StringIO):
    encoding = "utf-8"

    def isatty(self) -> bool:
        return True


def test_units() -> None:
    assert [human_bytes(n) for n in (0, 1023, 1024, 5 * MIB, 3 * 1024 * MIB)] == [
        "0 B",
        "1023 B",
        "1.0 KiB",
        "5.0 MiB",
        "3.0 GiB",
    ]
    assert [human_duration(s) for s in (0, 59.6, 61, 3725)] == ["0:00", "1:00", "1:01", "1:02:05"]


def test_bars_show_each_file_the_total_rate_and_eta() -> None:
    clock, screen = Clock(), Terminal()
    bars = TerminalProgress(screen, clock=clock, width=120, min_interval=0)
    bars.attempt_started(
        1, [UploadInfo(0, "a.jpg", 10 * MIB), UploadInfo(1, "b.pdf", 30 * MIB)], None
    )
    clock.now += 1
    bars.advance(0, 10 * MIB)
    bars.file_done(0)
    frame = screen.getvalue().split("\x1b[3F")[-1]
    lines = [line.removeprefix("\x1b[2K") for line in frame.splitlines()]
    assert lines[0].startswith("a.jpg")
    assert "100% 10.0 MiB / 10.0 MiB" in lines[0]
    assert "████████████████████████" in lines[0]
    assert "  0% 0 B / 30.0 MiB" in lines[1]
    assert lines[2].startswith("total (2 files)")
    assert " 25% 10.0 MiB / 40.0 MiB  10.0 MiB/s  ETA 0:03" in lines[2]


def test_bars_redraw_at_most_ten_times_a_second() -> None:
    clock, screen = Clock(), Terminal()
    bars = TerminalProgress(screen, clock=clock, width=100)
    bars.attempt_started(1, [UploadInfo(0, "a.jpg", 100)], None)
    drawn = screen.getvalue().count("total")
    for _ in range(50):
        clock.now += 0.001
        bars.advance(0, 1)
    assert screen.getvalue().count("total") == drawn
    clock.now += 0.2
    bars.advance(0, 1)
    assert screen.getvalue().count("total") == drawn + 1


def test_many_files_show_a_window_around_the_current_one() -> None:
    clock, screen = Clock(), Terminal()
    bars = TerminalProgress(screen, clock=clock, width=100, min_interval=0)
    files = [UploadInfo(i, f"f{i:02d}.txt", 10) for i in range(20)]
    bars.attempt_started(1, files, None)
    for index in range(12):
        bars.advance(index, 10)
        bars.file_done(index)
    frame = screen.getvalue().split("\x1b[9F")[-1]
    names = [line.removeprefix("\x1b[2K").split()[0] for line in frame.splitlines()]
    assert names == [
        "f10.txt",
        "f11.txt",
        "f12.txt",
        "f13.txt",
        "f14.txt",
        "f15.txt",
        "f16.txt",
        "f17.txt",
        "total",
    ]


def test_bars_fall_back_to_ascii_and_handle_unknown_sizes() -> None:
    screen = Terminal()
    screen.encoding = "ascii"
    bars = TerminalProgress(screen, clock=Clock(), width=100, min_interval=0)
    bars.attempt_started(1, [UploadInfo(0, "a.jpg", 8), UploadInfo(1, "pipe.txt", None)], None)
    bars.advance(0, 4)
    bars.advance(1, 2048)
    text = screen.getvalue()
    assert "#" * 12 + "-" * 12 in text
    assert "█" not in text
    assert "2.0 KiB sent" in text
    assert "ETA –" in text


def test_retry_is_announced_and_the_next_attempt_redrawn() -> None:
    screen = Terminal()
    bars = TerminalProgress(screen, clock=Clock(), width=100, min_interval=0)
    bars.attempt_started(1, [UploadInfo(0, "a.jpg", 8)], None)
    bars.retrying(1, "the connection broke", 0.5)
    bars.attempt_started(2, [UploadInfo(0, "a.jpg", 8)], None)
    text = screen.getvalue()
    assert "attempt 1 failed: the connection broke\nretrying in 0.5 s\nattempt 2:\n" in text


def test_plain_lines_per_file_and_every_interval() -> None:
    clock, log = Clock(), io.StringIO()
    lines = PlainProgress(log, clock=clock, interval=10)
    lines.attempt_started(1, [UploadInfo(0, "a.jpg", 40 * MIB), UploadInfo(1, "b.txt", 10)], None)
    for _ in range(4):
        clock.now += 4
        lines.advance(0, 10 * MIB)
    lines.file_done(0)
    clock.now += 1
    lines.advance(1, 10)
    lines.file_done(1)
    lines.body_sent()
    assert log.getvalue().splitlines() == [
        "attempt 1: sending 2 files (40.0 MiB)",
        "  30.0 MiB of 40.0 MiB (74%), 2.5 MiB/s, ETA 0:04",
        "  [1/2] a.jpg: 40.0 MiB sent in 16.0 s, 2.5 MiB/s",
        "  [2/2] b.txt: 10 B sent in 1.0 s, 10 B/s",
        "  all sent: 40.0 MiB in 17.0 s, 2.4 MiB/s; waiting for the server to store the files",
    ]


def test_auto_picks_bars_for_a_terminal_and_lines_for_anything_else() -> None:
    assert isinstance(progress_for("auto", Terminal()), TerminalProgress)
    assert isinstance(progress_for("auto", io.StringIO()), PlainProgress)
    assert type(progress_for("none", Terminal())).__name__ == "ProgressListener"
