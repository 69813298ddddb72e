"""The measurements: large uploads with memory, small-request load, head-of-line, limits.

Each function drives one server that is already running and returns plain dicts that
go into the results JSON unchanged. Load runs in a separate ``loadgen.py`` process;
large bodies go out through ``sendfile`` from this process while a thread samples the
server's memory.
"""

from __future__ import annotations

import json
import math
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO, Any

from bodies import Body, raw_limit
from procfs import (
    CpuTimes,
    MachineTimes,
    PeakSampler,
    cpu_times,
    idle_rss,
    machine_times,
)
from servers import HOST, LIMITS_PATH, SUBMIT_PATH, free_port
from upload import UploadResult, upload

BENCH_DIR = Path(__file__).resolve().parent
LOADGEN = BENCH_DIR / "loadgen.py"
WRK_SCRIPT = BENCH_DIR / "wrk_post.lua"
LOADGEN_NAME = "loadgen.py"


class MeasurementError(RuntimeError):
    """A measurement could not be taken (a tool failed, a process did not start)."""


def settle_disk(keep: Path | None = None) -> None:
    """Flushes every dirty page first, so one run's writeback does not slow the next.

    ``keep`` (the body about to be sent) is read once, so the client sends it from the
    page cache whatever ran before.
    """
    os.sync()
    if keep is not None:
        with keep.open("rb") as stream:
            while stream.read(8 * 1024 * 1024):
                pass


# -- large uploads -----------------------------------------------------------------


def large_run(port: int, token: str, server_pid: int, body: Body) -> dict[str, Any]:
    """One large request, timed to its last answer byte, with the server's peak memory."""
    settle_disk(keep=body.path)
    idle = idle_rss(server_pid)
    server_before = cpu_times(server_pid)
    client_before = time.thread_time()
    machine_before = machine_times()
    with PeakSampler(server_pid, idle) as sampler:
        result = upload(HOST, port, SUBMIT_PATH, token, body)
    machine = machine_times().minus(machine_before)
    client_cpu = time.thread_time() - client_before
    server_cpu = cpu_times(server_pid).minus(server_before)
    assert sampler.reading is not None
    return {
        "mb_per_s": result.mb_per_s,
        "seconds": result.seconds,
        "cpu_pct": _cpu_shares(server_cpu, client_cpu, machine, result.seconds),
        "status": result.status,
        "problem": result.problem,
        "decoded_bytes": result.decoded_bytes,
        "body_bytes": result.body_bytes,
        "memory": sampler.reading.as_dict(),
    }


def _cpu_shares(
    server: CpuTimes, client: float, machine: MachineTimes, seconds: float
) -> dict[str, Any]:
    """CPU used over a wall-clock span, in % of one core (200 % = both cores here).

    ``others`` is what the machine spent beyond the server and the client: the harness
    (a few %), kernel threads, and anything else running; more than a little of it
    means the figures were taken on a busy machine. ``steal`` is CPU time the hypervisor
    withheld from this machine (a busy host).
    """
    others = machine.busy - server.main_threads - server.other_threads - client
    return {
        "server_event_loops": 100 * server.main_threads / seconds,
        "server_other_threads": 100 * server.other_threads / seconds,
        "client": 100 * client / seconds,
        "others": max(0.0, 100 * others / seconds),
        "steal": 100 * machine.steal / seconds,
        # Busy server processes, busiest first: shows how the workers shared the load.
        "server_processes": sorted(
            (100 * used / seconds for used in server.per_process.values() if used > 0.01 * seconds),
            reverse=True,
        ),
    }


def raw_run(body: Body, out_dir: Path) -> dict[str, Any]:
    settle_disk(keep=body.path)
    before = machine_times()
    run = raw_limit(body, out_dir)
    machine = machine_times().minus(before)
    return {
        "cpu_pct": _cpu_shares(CpuTimes(0.0, 0.0), run.cpu_seconds, machine, run.seconds),
        "mb_per_s": run.mb_per_s,
        "seconds": run.seconds,
        "decoded_bytes": run.decoded_bytes,
        "phase_ms": {phase: 1000 * seconds for phase, seconds in run.phases.items()},
    }


def summarise_large(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median throughput over the repetitions; the worst (largest) memory growth."""
    summary: dict[str, Any] = {
        "runs": runs,
        "median_mb_per_s": statistics.median(run["mb_per_s"] for run in runs),
    }
    if runs and "cpu_pct" in runs[0]:
        ordered = sorted(runs, key=lambda run: float(run["mb_per_s"]))
        summary["median_run_cpu_pct"] = ordered[len(ordered) // 2]["cpu_pct"]
    if runs and "memory" in runs[0]:
        summary["max_growth_mib"] = max(run["memory"]["growth_mib"] for run in runs)
        summary["max_hwm_growth_mib"] = max(run["memory"]["hwm_growth_mib"] for run in runs)
        summary["problems"] = [run["problem"] for run in runs if run["problem"]]
    return summary


# -- closed-loop load ----------------------------------------------------------------


@dataclass(frozen=True)
class LoadSpec:
    port: int
    path: str
    concurrency: int
    warmup: float
    seconds: float
    method: str = "GET"
    headers: tuple[str, ...] = ()
    body_file: Path | None = None
    pause: float = 0.0


class LoadProcess:
    """``loadgen.py`` as a child process; ``stop()`` ends it early (SIGINT)."""

    def __init__(self, spec: LoadSpec, out: Path) -> None:
        self.out = out
        command = [
            sys.executable,
            str(LOADGEN),
            "--host",
            HOST,
            "--port",
            str(spec.port),
            "--method",
            spec.method,
            "--path",
            spec.path,
            "--concurrency",
            str(spec.concurrency),
            "--warmup",
            str(spec.warmup),
            "--duration",
            str(spec.seconds),
            "--out",
            str(out),
        ]
        for header in spec.headers:
            command += ["--header", header]
        if spec.pause:
            command += ["--pause", str(spec.pause)]
        if spec.body_file is not None:
            command += ["--body-file", str(spec.body_file)]
        self._process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)

    def wait_ready(self) -> None:
        stdout: IO[str] | None = self._process.stdout
        line = stdout.readline() if stdout is not None else ""
        if line.strip() != "ready":
            raise MeasurementError(f"load generator did not start: {line!r}")

    def stop(self) -> None:
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGINT)

    def result(self, timeout: float) -> dict[str, Any]:
        try:
            self._process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired as error:
            self._process.kill()
            self._process.communicate()
            raise MeasurementError("load generator did not finish") from error
        if self._process.returncode != 0:
            raise MeasurementError(f"load generator exited {self._process.returncode}")
        document: dict[str, Any] = json.loads(self.out.read_text())
        return document


def load_stats(raw: dict[str, Any], begin: float, end: float) -> dict[str, Any]:
    """Rate and latency of the requests that started in [begin, end)."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    for started, latency, status in zip(
        raw["starts"], raw["latencies"], raw["statuses"], strict=True
    ):
        if begin <= started < end:
            latencies.append(latency)
            if status != 200:
                errors[str(status)] = errors.get(str(status), 0) + 1
    seconds = max(end - begin, 1e-9)
    latencies.sort()
    stats: dict[str, Any] = {
        "requests": len(latencies),
        "seconds": seconds,
        "rate": len(latencies) / seconds,
        "errors": errors,
        "connection_errors": raw["connection_error_count"],
        "stuck_connections": raw["stuck_connections"],
    }
    if latencies:
        stats["p50_ms"] = 1000 * _percentile(latencies, 0.50)
        stats["p90_ms"] = 1000 * _percentile(latencies, 0.90)
        stats["p99_ms"] = 1000 * _percentile(latencies, 0.99)
        stats["max_ms"] = 1000 * latencies[-1]
    return stats


def _percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, int(fraction * len(ordered) + 0.999999))
    return ordered[min(rank, len(ordered)) - 1]


def closed_loop(
    spec: LoadSpec, work_dir: Path, name: str, server_pid: int | None = None
) -> dict[str, Any]:
    """Runs a load to completion; stats over its measuring window, plus CPU shares."""
    settle_disk()
    process = LoadProcess(spec, work_dir / f"load-{name}.json")
    process.wait_ready()
    before: CpuTimes | None = None
    machine_before = MachineTimes(0.0, 0.0)
    if server_pid is not None:
        # The warm-up is not measured: take the server's CPU from the window's start.
        time.sleep(spec.warmup)
        before = cpu_times(server_pid)
        machine_before = machine_times()
    raw = process.result(timeout=spec.warmup + spec.seconds + 90)
    stats = load_stats(raw, raw["window_begin"], raw["window_end"])
    stats["client_cpu_pct"] = 100 * raw["cpu_seconds"] / stats["seconds"]
    if server_pid is not None and before is not None:
        used = cpu_times(server_pid).minus(before)
        machine = machine_times().minus(machine_before)
        stats["cpu_pct"] = _cpu_shares(used, raw["cpu_seconds"], machine, stats["seconds"])
    stats["concurrency"] = spec.concurrency
    stats["event_loop"] = raw.get("event_loop")
    stats["generator"] = LOADGEN_NAME
    return stats


# -- wrk -------------------------------------------------------------------------------


def wrk_installed() -> bool:
    return shutil.which("wrk") is not None


def _wrk_once(spec: LoadSpec, seconds: int) -> tuple[dict[str, Any], float]:
    """One ``wrk -t1 -cN`` run of ``spec``; its JSON (from ``wrk_post.lua``) and CPU."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise MeasurementError("wrk is not installed")
    env = {
        **os.environ,
        "WRK_METHOD": spec.method,
        "WRK_BODY_FILE": str(spec.body_file) if spec.body_file is not None else "",
        "WRK_HEADERS": "\n".join(spec.headers),
    }
    command = [
        wrk,
        "-t1",
        f"-c{spec.concurrency}",
        f"-d{seconds}s",
        "--timeout",
        "30s",
        "-s",
        str(WRK_SCRIPT),
        f"http://{HOST}:{spec.port}{spec.path}",
    ]
    # wrk is this process's only child reaped in between: its CPU is the difference.
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    completed = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=seconds + 90
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    found = re.search(r"^WRK_JSON (.*)$", completed.stdout, re.MULTILINE)
    if completed.returncode != 0 or found is None:
        raise MeasurementError(f"wrk failed: {completed.stdout}{completed.stderr}")
    document: dict[str, Any] = json.loads(found.group(1))
    return document, cpu


def wrk_load(spec: LoadSpec, server_pid: int | None = None) -> dict[str, Any]:
    """``spec`` driven by wrk: a warm-up run, then the measured run (whole seconds each).

    The same figures as ``closed_loop``: rate over the measured run, wrk's latency
    percentiles, anything but 200 as an error, socket errors and timeouts as connection
    errors, wrk's own CPU and the server's over the measured run.
    """
    settle_disk()
    _wrk_once(spec, max(1, math.ceil(spec.warmup)))
    before: CpuTimes | None = None
    machine_before = MachineTimes(0.0, 0.0)
    if server_pid is not None:
        before = cpu_times(server_pid)
        machine_before = machine_times()
    window = max(1, math.ceil(spec.seconds))
    raw, client_cpu = _wrk_once(spec, window)
    seconds = raw["duration_us"] / 1e6
    statuses: dict[str, int] = raw["statuses"]
    errors = {status: count for status, count in statuses.items() if status != "200"}
    if raw["errors"]["status"] and not errors:
        errors["non-2xx/3xx (wrk)"] = raw["errors"]["status"]
    latency = raw["latency_us"]
    stats: dict[str, Any] = {
        "requests": raw["requests"],
        "seconds": seconds,
        "rate": raw["requests"] / seconds,
        "errors": errors,
        "connection_errors": sum(
            raw["errors"][kind] for kind in ("connect", "read", "write", "timeout")
        ),
        "stuck_connections": 0,
        "statuses": statuses,
        "wrk_errors": raw["errors"],
        "client_cpu_pct": 100 * client_cpu / seconds,
        "concurrency": spec.concurrency,
        "generator": f"wrk -t1 -c{spec.concurrency}",
    }
    if raw["requests"]:
        stats["p50_ms"] = latency["p50"] / 1000
        stats["p90_ms"] = latency["p90"] / 1000
        stats["p99_ms"] = latency["p99"] / 1000
        stats["p99.9_ms"] = latency["p99.9"] / 1000
        stats["max_ms"] = latency["max"] / 1000
    if server_pid is not None and before is not None:
        used = cpu_times(server_pid).minus(before)
        machine = machine_times().minus(machine_before)
        stats["cpu_pct"] = _cpu_shares(used, client_cpu, machine, seconds)
    return stats


def submit_spec(
    port: int, token: str, body_file: Path, concurrency: int, warmup: float, seconds: float
) -> LoadSpec:
    return LoadSpec(
        port=port,
        path=SUBMIT_PATH,
        concurrency=concurrency,
        warmup=warmup,
        seconds=seconds,
        method="POST",
        headers=(f"Authorization: Bearer {token}", "Content-Type: application/json"),
        body_file=body_file,
    )


def trivial_spec(
    port: int, token: str, warmup: float, seconds: float, path: str = LIMITS_PATH
) -> LoadSpec:
    return LoadSpec(
        port=port,
        path=path,
        concurrency=16,
        warmup=warmup,
        seconds=seconds,
        headers=(f"Authorization: Bearer {token}",),
    )


# -- head-of-line --------------------------------------------------------------------


def head_of_line(
    loads: dict[str, LoadSpec],
    port: int,
    token: str,
    large: Body,
    idle_seconds: float,
    uploads: int,
    work_dir: Path,
) -> dict[str, Any]:
    """Latency of each load while idle, then while large uploads stream, in one run.

    Each load process keeps its requests going throughout; after the warm-up and
    ``idle_seconds`` of idle measurement, ``uploads`` large requests are sent one after
    another. A request counts as "idle" if it started and ended before the first upload,
    "loaded" if it started while an upload was in flight.
    """
    settle_disk(keep=large.path)
    processes = {
        name: LoadProcess(spec, work_dir / f"load-hol-{name}.json") for name, spec in loads.items()
    }
    warmup = max(spec.warmup for spec in loads.values())
    try:
        for process in processes.values():
            process.wait_ready()
        time.sleep(warmup + idle_seconds)
        results: list[UploadResult] = [
            upload(HOST, port, SUBMIT_PATH, token, large) for _ in range(uploads)
        ]
    finally:
        for process in processes.values():
            process.stop()
    measured: dict[str, Any] = {
        "uploads": [
            {"mb_per_s": r.mb_per_s, "seconds": r.seconds, "status": r.status, "problem": r.problem}
            for r in results
        ],
    }
    for name, process in processes.items():
        raw = process.result(timeout=120)
        idle = load_stats(_before(raw, results[0].started), raw["window_begin"], results[0].started)
        loaded = _during(raw, results)
        measured[name] = {
            "concurrency": loads[name].concurrency,
            "pause_s": loads[name].pause,
            "idle": idle,
            "loaded": loaded,
            "p99_ratio": loaded.get("p99_ms", float("nan")) / idle.get("p99_ms", float("nan")),
        }
    return measured


def _select(raw: dict[str, Any], keep: list[int]) -> dict[str, Any]:
    picked = dict(raw)
    for key in ("starts", "latencies", "statuses"):
        picked[key] = [raw[key][i] for i in keep]
    return picked


def _before(raw: dict[str, Any], moment: float) -> dict[str, Any]:
    """The requests that were over before ``moment``."""
    pairs = zip(raw["starts"], raw["latencies"], strict=True)
    return _select(raw, [i for i, (s, latency) in enumerate(pairs) if s + latency < moment])


def _during(raw: dict[str, Any], windows: list[UploadResult]) -> dict[str, Any]:
    """Stats of the requests that started while one of ``windows`` was open."""
    keep = [
        i for i, s in enumerate(raw["starts"]) if any(w.started <= s < w.finished for w in windows)
    ]
    stats = load_stats(_select(raw, keep), float("-inf"), float("inf"))
    stats["seconds"] = sum(w.finished - w.started for w in windows)
    stats["rate"] = stats["requests"] / stats["seconds"]
    return stats


def fsync_limit(directory: Path, threads: int, seconds: float, size: int) -> dict[str, Any]:
    """What the disk allows small durable writes: create, write ``size`` bytes, fsync.

    The small-submission figures are bounded by this: a durable submission needs at
    least one such write and the database's commit fsync.
    """
    directory.mkdir(parents=True, exist_ok=True)
    data = os.urandom(size)
    latencies: list[float] = []
    settle_disk()
    deadline = time.monotonic() + seconds

    def work(worker: int) -> None:
        done = 0
        while time.monotonic() < deadline:
            started = time.monotonic()
            path = directory / f"fsync-{worker}-{done}"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            latencies.append(time.monotonic() - started)  # list.append is atomic
            done += 1

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    shutil.rmtree(directory, ignore_errors=True)
    latencies.sort()
    return {
        "threads": threads,
        "rate": len(latencies) / seconds,
        "p50_ms": 1000 * _percentile(latencies, 0.5),
        "p99_ms": 1000 * _percentile(latencies, 0.99),
    }


# -- the load generator's own ceiling, and wrk as a cross-check ----------------------


def generator_ceiling(
    concurrencies: tuple[int, ...],
    warmup: float,
    seconds: float,
    work_dir: Path,
    small_file: Path | None = None,
) -> dict[str, Any]:
    """A load generator against a canned-answer server: the most it can drive here.

    Without ``small_file``: ``loadgen.py`` sending GETs. With it: wrk sending the small
    submission (the same script, body and headers as the measured runs).
    """
    port = free_port()
    stub = subprocess.Popen(
        [sys.executable, str(BENCH_DIR / "stub_server.py"), "--port", str(port)]
    )
    try:
        _wait_listening(port)
        runs = {}
        for concurrency in concurrencies:
            spec = LoadSpec(
                port=port, path="/", concurrency=concurrency, warmup=warmup, seconds=seconds
            )
            if small_file is None:
                runs[f"c{concurrency}"] = closed_loop(spec, work_dir, f"stub-c{concurrency}")
            else:
                spec = replace(
                    spec,
                    method="POST",
                    path=SUBMIT_PATH,
                    headers=("Authorization: Bearer canned", "Content-Type: application/json"),
                    body_file=small_file,
                )
                runs[f"c{concurrency}"] = wrk_load(spec)
        return runs
    finally:
        stub.terminate()
        stub.wait(timeout=10)


def _wait_listening(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)
    raise MeasurementError(f"nothing listens on port {port}")


def wrk_rate(port: int, path: str, token: str, seconds: float) -> dict[str, Any] | None:
    """``wrk`` (C, one thread, 16 connections) on the same URL, when it is installed."""
    wrk = shutil.which("wrk")
    if wrk is None:
        return None
    duration = max(1, round(seconds))
    completed = subprocess.run(
        [
            wrk,
            "-t1",
            "-c16",
            f"-d{duration}s",
            "-H",
            f"Authorization: Bearer {token}",
            f"http://{HOST}:{port}{path}",
        ],
        capture_output=True,
        text=True,
        timeout=duration + 60,
    )
    found = re.search(r"Requests/sec:\s+([\d.]+)", completed.stdout)
    if completed.returncode != 0 or found is None:
        raise MeasurementError(f"wrk failed: {completed.stdout}{completed.stderr}")
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", completed.stdout)
    return {
        "rate": float(found.group(1)),
        "seconds": duration,
        "non_2xx": int(errors.group(1)) if errors else 0,
        "tool": "wrk -t1 -c16",
    }
