"""The process's metrics (§12.3): what the recording functions add, and the shared
directory of ``--workers N`` (its freshness, and dead processes' live gauges)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ecb_files.services.metrics import (
    Metrics,
    forget_dead_processes,
    fresh_multiprocess_dir,
)


def samples(metrics: Metrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(metrics.exposition().decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def test_a_scan_adds_to_its_result_count_and_time() -> None:
    """§12.3: a scan adds to its result count and time."""
    metrics = Metrics()
    metrics.scanned("clean", 0.02)
    metrics.scanned("malware", 0.5)
    metrics.scanned("clean", 0.03)
    found = samples(metrics)
    assert found[("ecb_files_scans_total", (("result", "clean"),))] == 2
    assert found[("ecb_files_scans_total", (("result", "malware"),))] == 1
    assert found[("ecb_files_scan_seconds_sum", (("result", "malware"),))] == pytest.approx(0.5)


def test_an_unknown_scan_result_is_a_bug() -> None:
    """§12.3: an unknown scan result is a bug."""
    with pytest.raises(ValueError, match="unknown scan result"):
        Metrics().scanned("maybe", 0.1)


def test_a_request_is_counted_and_leaves_nothing_in_progress() -> None:
    """§12.3: a request is counted and leaves nothing in progress."""
    metrics = Metrics()
    metrics.request_started()
    metrics.request_ended("/healthz", "GET", 200, 0.001, received=0)
    found = samples(metrics)
    key = (("method", "GET"), ("route", "/healthz"), ("status", "200"))
    assert found[("ecb_files_requests_total", key)] == 1
    assert found[("ecb_files_requests_in_progress", ())] == 0


def test_the_adapters_timings_land_in_their_histograms() -> None:
    """§12.3: the adapters timings land in their histograms."""
    metrics = Metrics()
    metrics.db_timings.observe("write", 0.004)
    metrics.storage_timings.observe("publish", 0.2)
    found = samples(metrics)
    assert found[("ecb_files_db_seconds_count", (("operation", "write"),))] == 1
    assert found[("ecb_files_storage_seconds_count", (("operation", "publish"),))] == 1


def _dead_pid() -> int:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(child.stdout)


def test_a_dead_process_loses_its_live_gauges_and_keeps_its_counters(tmp_path: Path) -> None:
    """§12.3: a dead process loses its live gauges and keeps its counters."""
    dead = _dead_pid()
    names = (f"gauge_livesum_{dead}.db", f"counter_{dead}.db", f"gauge_livesum_{os.getpid()}.db")
    for name in names:
        (tmp_path / name).write_bytes(b"")
    forget_dead_processes(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"counter_{dead}.db", f"gauge_livesum_{os.getpid()}.db"]
    )


def test_a_configured_directory_is_emptied_and_kept(tmp_path: Path) -> None:
    """§12.3: a configured directory is emptied and kept."""
    shared = tmp_path / "metrics"
    shared.mkdir()
    (shared / "counter_1.db").write_bytes(b"old")
    (shared / "README").write_text("not ours")
    with fresh_multiprocess_dir(str(shared)) as directory:
        assert directory == shared
        assert sorted(p.name for p in shared.iterdir()) == ["README"]
    assert shared.is_dir()


def test_without_one_a_temporary_directory_lives_as_long_as_the_server() -> None:
    """§12.3: without one a temporary directory lives as long as the server."""
    with fresh_multiprocess_dir(None) as directory:
        assert directory.is_dir()
        (directory / "counter_1.db").write_bytes(b"")
    assert not directory.exists()
