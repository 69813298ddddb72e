"""A server's whole process tree as /proc shows it: resident memory and CPU time.

The supervisor of ``--workers N`` and its worker processes are summed: the figure is
what the deployment costs, not one process. Memory has two readings: samples every
``interval`` seconds (the peak of the sum), and each process's kernel high-water mark
(``VmHWM``, reset through ``clear_refs`` before a measurement), whose sum bounds the
true peak from above even if a spike fell between two samples. CPU time is split
between the processes' main threads (uvicorn's event loops) and all other threads
(the worker-thread pools that parse, decode, hash, write and commit); what the whole
machine spent beside it shows whether anything else was competing for the cores.
"""

from __future__ import annotations

import os
import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")
MIB = 1024 * 1024
_TREE_REFRESH_SECONDS = 0.2


def process_tree(root: int) -> list[int]:
    """``root`` and all its descendants (children of every thread, recursively)."""
    tree: list[int] = []
    pending = [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except FileNotFoundError:
            continue
        for task in tasks:
            try:
                children = Path(f"/proc/{pid}/task/{task}/children").read_text().split()
            except (FileNotFoundError, ProcessLookupError):
                continue
            pending.extend(int(child) for child in children)
    return tree


def rss_bytes(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/statm", "rb") as statm:
            return int(statm.read().split()[1]) * PAGE
    except (FileNotFoundError, ProcessLookupError):
        return 0


def tree_rss(root: int) -> int:
    return sum(rss_bytes(pid) for pid in process_tree(root))


def _status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0


def reset_high_water_marks(root: int) -> bool:
    """Resets VmHWM of every process of the tree; False where the kernel does not allow it."""
    done = True
    for pid in process_tree(root):
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        except OSError:
            done = False
    return done


def high_water_marks(root: int) -> int:
    """Sum over the tree of each process's VmHWM, in bytes."""
    return sum(_status_kib(pid, "VmHWM") for pid in process_tree(root)) * 1024


def idle_rss(root: int, seconds: float = 0.5, interval: float = 0.01) -> int:
    """The median of the tree's RSS over ``seconds`` of quiet."""
    samples = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        samples.append(tree_rss(root))
        time.sleep(interval)
    return int(statistics.median(samples))


@dataclass(frozen=True)
class MemoryReading:
    idle: int
    peak: int  # highest sampled sum
    hwm_sum: int  # sum of per-process high-water marks (upper bound of the true peak)
    samples: int
    max_gap: float  # longest time between two samples, seconds

    @property
    def growth(self) -> int:
        return self.peak - self.idle

    @property
    def hwm_growth(self) -> int:
        return self.hwm_sum - self.idle

    def as_dict(self) -> dict[str, float]:
        return {
            "idle_mib": self.idle / MIB,
            "peak_mib": self.peak / MIB,
            "growth_mib": self.growth / MIB,
            "hwm_sum_mib": self.hwm_sum / MIB,
            "hwm_growth_mib": self.hwm_growth / MIB,
            "samples": self.samples,
            "max_sample_gap_ms": self.max_gap * 1000,
        }


class PeakSampler:
    """Samples the tree's summed RSS in a thread while the ``with`` block runs."""

    def __init__(self, root: int, idle: int, interval: float = 0.01) -> None:
        self._root = root
        self._idle = idle
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)
        self._peak = 0
        self._samples = 0
        self._max_gap = 0.0
        self.reading: MemoryReading | None = None

    def __enter__(self) -> PeakSampler:
        reset_high_water_marks(self._root)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.reading = MemoryReading(
            idle=self._idle,
            peak=self._peak,
            hwm_sum=high_water_marks(self._root),
            samples=self._samples,
            max_gap=self._max_gap,
        )

    def _run(self) -> None:
        tree = process_tree(self._root)
        refreshed = last = time.monotonic()
        while True:
            now = time.monotonic()
            if now - refreshed > _TREE_REFRESH_SECONDS:
                tree, refreshed = process_tree(self._root), now
            self._peak = max(self._peak, sum(rss_bytes(pid) for pid in tree))
            self._samples += 1
            self._max_gap = max(self._max_gap, now - last)
            last = now
            if self._stop.wait(self._interval):
                return


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class CpuTimes:
    main_threads: float  # seconds, summed over the tree's processes
    other_threads: float
    per_process: dict[int, float] = field(default_factory=dict)  # pid → all its threads

    def minus(self, earlier: CpuTimes) -> CpuTimes:
        return CpuTimes(
            self.main_threads - earlier.main_threads,
            self.other_threads - earlier.other_threads,
            {
                pid: seconds - earlier.per_process.get(pid, 0.0)
                for pid, seconds in self.per_process.items()
            },
        )


def _stat_seconds(path: str) -> float:
    """utime + stime of a /proc stat file (fields 14 and 15), in seconds."""
    stat = Path(path).read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS


def cpu_times(root: int) -> CpuTimes:
    """User + system CPU seconds of the tree's processes, their main threads apart.

    A process's own stat counts the threads that have already exited too, so pool
    threads that come and go during a measurement are not lost.
    """
    main = other = 0.0
    per_process: dict[int, float] = {}
    for pid in process_tree(root):
        try:
            total = _stat_seconds(f"/proc/{pid}/stat")
            first = _stat_seconds(f"/proc/{pid}/task/{pid}/stat")
        except (FileNotFoundError, ProcessLookupError):
            continue
        per_process[pid] = total
        main += first
        other += total - first
    return CpuTimes(main, other, per_process)


@dataclass(frozen=True)
class MachineTimes:
    busy: float  # CPU seconds in user and system mode, all processes
    steal: float  # CPU seconds the hypervisor gave to other guests while this one waited

    def minus(self, earlier: MachineTimes) -> MachineTimes:
        return MachineTimes(self.busy - earlier.busy, self.steal - earlier.steal)


def machine_times() -> MachineTimes:
    """The whole machine's CPU seconds since boot, from the first line of /proc/stat.

    Interrupt time is left out: loopback traffic's softirq work is nobody's process.
    """
    with open("/proc/stat") as stat:
        fields = [int(field) for field in stat.readline().split()[1:9]]
    user, nice, system, _idle, _iowait, _irq, _softirq, steal = fields
    return MachineTimes((user + nice + system) / _CLOCK_TICKS, steal / _CLOCK_TICKS)
