"""Sampling profiles of a running server with py-spy, summarised as hot spots.

py-spy is an optional dev tool (``.venv/bin/pip install py-spy``), never a dependency
of the product. It attaches to the server's process tree from outside, so the server
runs unmodified. The raw output (collapsed stacks: ``frame;frame;… count``, led by
frames naming the process and the thread) is kept beside the results.

Two views of the same load:
- ``wall`` (py-spy ``--idle``): every thread at every sample, so waits show up (lock
  waits, SQLite's busy handler, fsync). Pool threads idling for work are dropped.
- ``gil`` (py-spy ``--gil``): only the thread holding the GIL, i.e. the Python code
  that competes for the one interpreter; C code that releases the GIL (hashing,
  base64, file I/O) does not appear.
The summary gives, in % of the kept samples, the leaf functions (self), the product's
functions anywhere on the stack (inclusive), and the split by thread.
"""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

_LINE_NUMBER = re.compile(r":\d+\)$")
VIEWS = ("wall", "gil")
_OWN_CODE = "ecb_files/"


def py_spy() -> str | None:
    """The py-spy executable beside the running Python, or on PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


class Recording:
    """py-spy record on ``pid`` and its children while the ``with`` block runs."""

    def __init__(
        self, executable: str, pid: int, output: Path, *, view: str = "wall", rate: int = 200
    ) -> None:
        if view not in VIEWS:
            raise ValueError(f"view must be one of {VIEWS}, not {view!r}")
        self._command = [
            executable,
            "record",
            "--idle" if view == "wall" else "--gil",
            "--pid",
            str(pid),
            "--subprocesses",
            "--threads",
            "--format",
            "raw",
            "--rate",
            str(rate),
            "--output",
            str(output),
        ]
        self.output = output
        self._process: subprocess.Popen[bytes] | None = None
        self.log = ""

    def __enter__(self) -> Recording:
        self._process = subprocess.Popen(
            self._command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        return self

    def __exit__(self, *exc: object) -> None:
        if self._process is None:
            return
        self._process.send_signal(signal.SIGINT)
        try:
            out, _ = self._process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            self._process.kill()
            out, _ = self._process.communicate()
        self.log = out.decode(errors="replace")


def _function(frame: str) -> str:
    """``name (path:line)`` → ``name (path)``: one entry per function, not per line."""
    return _LINE_NUMBER.sub(")", frame)


def _pool_idle(functions: list[str]) -> bool:
    """A pool thread waiting for work: the leaf is a wait inside the pool's queue get."""
    return (
        len(functions) >= 2
        and functions[-1].startswith("Condition.wait (")
        and any(function.startswith("Queue.get (") for function in functions[-3:])
    )


def _thread_kind(frame: str) -> str:
    # "thread (1234): AnyIO worker thread" → "AnyIO worker thread"
    return frame.partition("): ")[2] or frame


def summarise(collapsed: Path, top: int = 12) -> dict[str, Any]:
    """Self and inclusive hot spots of a py-spy raw profile, in % of its samples."""
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    threads: Counter[str] = Counter()
    total = idle_pool = 0
    for line in collapsed.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [frame for frame in stack.split(";") if not frame.startswith("process ")]
        thread = "?"
        if frames and frames[0].startswith("thread ("):
            thread = _thread_kind(frames.pop(0))
        if not frames:
            continue
        functions = [_function(frame) for frame in frames]
        if _pool_idle(functions):
            idle_pool += count
            continue
        total += count
        threads[thread] += count
        self_time[functions[-1]] += count
        for function in set(functions):
            if _OWN_CODE in function:
                inclusive[function] += count

    def percent(counter: Counter[str]) -> list[tuple[str, float]]:
        return [(name, 100.0 * n / total) for name, n in counter.most_common(top)]

    return {
        "samples": total,
        "idle_pool_samples": idle_pool,
        "threads": percent(threads),
        "self": percent(self_time),
        "inclusive_own_code": percent(inclusive),
    }


def render(title: str, summary: dict[str, Any], lines: int = 8) -> str:
    out = [
        f"{title}: {summary['samples']} samples "
        f"(+{summary['idle_pool_samples']} of idle pool threads, left out)"
    ]
    sections = (
        ("threads", "by thread"),
        ("self", "on CPU (self)"),
        ("inclusive_own_code", "ecb_files on the stack"),
    )
    for key, heading in sections:
        out.append(f"  {heading}:")
        out += [f"    {share:5.1f} %  {name}" for name, share in summary[key][:lines]]
    return "\n".join(out)
