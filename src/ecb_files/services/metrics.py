"""The service's Prometheus metrics (docs/behaviour.md §12.3), in one object per process.

``Metrics`` holds every metric of the service on a registry of its own (never the
library's global one), built by the composition root (``services/container.py``) and
handed to whoever records: the HTTP middleware (requests, latency, bytes received,
errors by ``errorType``), the use cases (files stored, tokens, content scans) and, as
plain timing callbacks, the database and the blob store adapters (``db_timings``,
``storage_timings``), which know nothing of Prometheus.

Several worker processes (``ecb-files serve --workers N``) aggregate through
prometheus_client's multiprocess mode: each process writes its values to memory-mapped
files in ``PROMETHEUS_MULTIPROC_DIR``, and ``GET /metrics`` in whichever process answers
adds up every process's files. ``ecb-files serve`` makes that directory fresh for each
start (``fresh_multiprocess_dir``); docs/deployment.md has the details. A process that
dies keeps its counters and histograms in the sum (they only grow), while its share of
the live gauges is dropped at the next scrape.

Recording is cheap on purpose (the small submission path is benchmarked): a label
combination's child is looked up once and kept, and a request costs a handful of
increments (bench/README.md has the measurement).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
EXPOSITION_CONTENT_TYPE = CONTENT_TYPE_LATEST

# Request latency: from a fast answer from memory to a 300 MB upload.
_REQUEST_BUCKETS = (
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300
)
# A database unit of work or a storage call: sub-millisecond to seconds.
_CALL_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10)
# A content scan (§12.1): proportional to the file's size.
_SCAN_BUCKETS = (0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

# The route label of a request that matched no route: unknown paths are never labels
# of their own (a scanner's paths would make unbounded series).
UNMATCHED_ROUTE = "unmatched"

# The results a content scan (§12.1) is recorded with.
SCAN_RESULTS = ("clean", "malware", "mismatch", "executable", "error")


class Metrics:
    """Every metric of one process. ``multiprocess_dir``: where the processes of one
    server share their values (``None``: this process alone)."""

    def __init__(self, multiprocess_dir: Path | None = None) -> None:
        self.multiprocess_dir = multiprocess_dir
        registry = self._registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "ecb_files_requests",
            "HTTP requests answered, by route template, method and status.",
            ("route", "method", "status"),
            registry=registry,
        )
        self.request_seconds = Histogram(
            "ecb_files_request_seconds",
            "Time from a request's first byte to its answer's last, by route template.",
            ("route", "method"),
            buckets=_REQUEST_BUCKETS,
            registry=registry,
        )
        self.in_progress = Gauge(
            "ecb_files_requests_in_progress",
            "HTTP requests being served now (all processes).",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.received_bytes = Counter(
            "ecb_files_received_bytes",
            "Request body bytes received, by route template.",
            ("route",),
            registry=registry,
        )
        self.errors = Counter(
            "ecb_files_errors",
            "Error answers, by errorType (§3.3) and status.",
            ("error_type", "status"),
            registry=registry,
        )
        self.files_stored = Counter(
            "ecb_files_files_stored",
            "Files committed by submissions and FNoLs, by endpoint.",
            ("endpoint",),
            registry=registry,
        )
        self.stored_bytes = Counter(
            "ecb_files_stored_bytes",
            "Bytes of the files committed (decoded), by endpoint.",
            ("endpoint",),
            registry=registry,
        )
        self.tokens = Counter(
            "ecb_files_tokens",
            "Access token requests at /connect/token: issued, or refused with the OAuth error.",
            ("outcome", "error"),
            registry=registry,
        )
        self.scans = Counter(
            "ecb_files_scans",
            "Files whose content was checked (§12.1), by result.",
            ("result",),
            registry=registry,
        )
        self.scan_seconds = Histogram(
            "ecb_files_scan_seconds",
            "Time spent scanning one file's content (§12.1), by result.",
            ("result",),
            buckets=_SCAN_BUCKETS,
            registry=registry,
        )
        self.db_seconds = Histogram(
            "ecb_files_db_seconds",
            "Database units of work (a transaction or a read), by kind.",
            ("operation",),
            buckets=_CALL_BUCKETS,
            registry=registry,
        )
        self.storage_seconds = Histogram(
            "ecb_files_storage_seconds",
            "Blob store calls, by operation.",
            ("operation",),
            buckets=_CALL_BUCKETS,
            registry=registry,
        )
        self._children: dict[tuple[Any, ...], Any] = {}
        self.db_timings = _Timings(self, self.db_seconds)
        self.storage_timings = _Timings(self, self.storage_seconds)

    # -- recording ---------------------------------------------------------------------

    def request_started(self) -> None:
        self.in_progress.inc()

    def request_ended(
        self, route: str, method: str, status: int, seconds: float, received: int
    ) -> None:
        """One answered request (``status`` 0: the client left before any answer)."""
        self.in_progress.dec()
        self._child(self.requests, route, method, str(status)).inc()
        self._child(self.request_seconds, route, method).observe(seconds)
        if received:
            self._child(self.received_bytes, route).inc(received)

    def error(self, error_type: str, status: int) -> None:
        self._child(self.errors, error_type, str(status)).inc()

    def stored(self, endpoint: str, files: int, size: int) -> None:
        """Files committed for ``endpoint`` (its path's last segment)."""
        if files:
            self._child(self.files_stored, endpoint).inc(files)
            self._child(self.stored_bytes, endpoint).inc(size)

    def token_issued(self) -> None:
        self._child(self.tokens, "issued", "").inc()

    def token_refused(self, error: str) -> None:
        """``error``: the OAuth error code answered (``invalid_client``, …)."""
        self._child(self.tokens, "refused", error).inc()

    def scanned(self, result: str, seconds: float) -> None:
        """One file's content check (§12.1): ``result`` is one of ``SCAN_RESULTS`` —
        ``clean``, ``malware`` (clamd found a signature), ``mismatch`` (the bytes are not
        the format of the name), ``executable``, ``error`` (clamd unreachable, timed out,
        over its limit) — and ``seconds`` the time the file's checks took. Called once
        per file, after its last byte was checked."""
        if result not in SCAN_RESULTS:
            raise ValueError(f"unknown scan result {result!r}")
        self._child(self.scans, result).inc()
        self._child(self.scan_seconds, result).observe(seconds)

    def _child(self, metric: Any, *labels: str) -> Any:
        key = (id(metric), *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*labels)
        return child

    # -- exposition --------------------------------------------------------------------

    def exposition(self) -> bytes:
        """The Prometheus text format of every process of this server."""
        if self.multiprocess_dir is None:
            return generate_latest(self._registry)
        forget_dead_processes(self.multiprocess_dir)
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=str(self.multiprocess_dir))  # type: ignore[no-untyped-call]
        return generate_latest(registry)

    def close(self) -> None:
        """This process ends: its share of the live gauges goes with it."""
        if self.multiprocess_dir is not None:
            multiprocess.mark_process_dead(os.getpid(), str(self.multiprocess_dir))  # type: ignore[no-untyped-call]


class _Timings:
    """A histogram as the adapters' timing callback: ``observe(operation, seconds)``."""

    def __init__(self, metrics: Metrics, histogram: Histogram) -> None:
        self._metrics = metrics
        self._histogram = histogram

    def observe(self, operation: str, seconds: float) -> None:
        self._metrics._child(self._histogram, operation).observe(seconds)


def metrics_from_env() -> Metrics:
    """This process's metrics, shared with the other workers of its server when
    ``PROMETHEUS_MULTIPROC_DIR`` names their directory."""
    shared = os.environ.get(MULTIPROC_VARIABLE, "").strip()
    return Metrics(Path(shared) if shared else None)


def forget_dead_processes(directory: Path) -> None:
    """Drop the live gauge files of processes that no longer run (a worker killed and
    replaced): their in-progress requests are over. Counters stay, as they must."""
    for path in directory.glob("gauge_live*_*.db"):
        pid = path.stem.rpartition("_")[2]
        if pid.isdigit() and not _running(int(pid)):
            multiprocess.mark_process_dead(int(pid), str(directory))  # type: ignore[no-untyped-call]


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process has that id now
    return True


@contextlib.contextmanager
def fresh_multiprocess_dir(configured: str | None) -> Iterator[Path]:
    """The directory the workers of one ``ecb-files serve`` share their metrics in.

    ``configured`` (``PROMETHEUS_MULTIPROC_DIR`` set by the operator): emptied of a
    previous run's files first, and left in place. Otherwise a new temporary directory,
    removed when the server stops.
    """
    if configured:
        directory = Path(configured)
        directory.mkdir(parents=True, exist_ok=True)
        for old in directory.glob("*.db"):
            old.unlink(missing_ok=True)
        yield directory
        return
    made = Path(tempfile.mkdtemp(prefix="ecb-files-metrics-"))
    try:
        yield made
    finally:
        shutil.rmtree(made, ignore_errors=True)
