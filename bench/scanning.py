"""Upload throughput with the malware scan (§12.1) on and off.

Starts a clamd of its own (Debian's ``clamd``; a one-signature database, as in the
tests — so the figures are the cost of streaming every byte to clamd and of clamd's
engine over it, not of the official database's millions of signatures), then two
``ecb-files serve --workers 1`` on the embedded stack, one with ``ECB_FILES_CLAMD`` and
one without, and measures each the way ``run.py`` does:

- large: ``--files`` × ``--mib`` MiB in one JSON request, ``--runs`` times, off and on
  interleaved → MB/s of decoded bytes, the server's peak RSS growth, clamd's CPU seconds;
- small: one 10 KiB file per request, ``--concurrency`` connections for ``--seconds``,
  ``--small-rounds`` times with the servers interleaved (wrk, as ``run.py``; without it
  ``loadgen.py``) → req/s and latency of the median round.

A third server, ``protocol``, streams to ``null_scanner.py`` instead: the same
``INSTREAM`` exchange with a peer that only reads and answers "OK". Its row is the
service's own share of scanning (the copy of every byte into a socket, a verdict per
file), apart from what clamd's spooling and engine take from the same cores.

    .venv/bin/python bench/scanning.py                       # 3 × 20 MiB, 3 runs, 5 s
    .venv/bin/python bench/scanning.py --files 3 --mib 100   # the large section of run.py
    .venv/bin/python bench/scanning.py --runs 0 --small-rounds 5   # small submissions only

Prints a table and writes ``bench/results/<date>-scanning.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bodies import MIB, small_body, write_body
from measure import closed_loop, large_run, submit_spec, wrk_installed, wrk_load
from procfs import cpu_times
from servers import BENCH_DIR, ProductServer

# The EICAR test string in two halves, so that this file is not itself the test file.
_EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR" + b"-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


class ScannerProcess:
    """A process answering clamd's protocol on a Unix socket: started, timed, stopped."""

    name = "scanner"

    def __init__(self, socket_path: Path, command: list[str]) -> None:
        self.socket = socket_path
        self.url = f"unix://{socket_path}"
        self._command = command
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            self._command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.socket(socket.AF_UNIX) as connection:
                    connection.connect(str(self.socket))
                    connection.sendall(b"zPING\0")
                    if connection.recv(16) == b"PONG\0":
                        return
            except OSError:
                time.sleep(0.05)
        raise SystemExit(f"{self.name} did not answer PING within 60 s")

    def cpu_seconds(self) -> float:
        assert self.process is not None
        times = cpu_times(self.process.pid)
        return times.main_threads + times.other_threads

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self.process = None


class Clamd(ScannerProcess):
    """clamd in the foreground on a Unix socket, with a one-signature database."""

    name = "clamd"

    def __init__(self, directory: Path, max_stream: int, spool: Path | None = None) -> None:
        binary = shutil.which("clamd") or shutil.which("clamd", path="/usr/sbin")
        if binary is None:
            raise SystemExit("clamd is not installed (apt-get install clamav-daemon)")
        database = directory / "db"
        database.mkdir(parents=True)
        (database / "eicar.ndb").write_text(f"Eicar-Test-Signature:0:*:{_EICAR.hex()}\n")
        spool = spool or directory / "tmp"
        spool.mkdir(parents=True, exist_ok=True)
        config = directory / "clamd.conf"
        config.write_text(
            "Foreground yes\n"
            f"LocalSocket {directory / 'clamd.sock'}\n"
            f"DatabaseDirectory {database}\n"
            f"TemporaryDirectory {spool}\n"
            f"StreamMaxLength {max_stream}\n"
            f"MaxFileSize {max_stream}\n"
            f"LogFile {directory / 'clamd.log'}\n"
        )
        super().__init__(directory / "clamd.sock", [binary, "-c", str(config)])


class NullScanner(ScannerProcess):
    """``null_scanner.py`` on a Unix socket: the protocol without an engine."""

    name = "null_scanner.py"

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True)
        path = directory / "null.sock"
        script = BENCH_DIR / "null_scanner.py"
        super().__init__(path, [sys.executable, str(script), str(path)])


class ScanningServer(ProductServer):
    kind = "ecb-files + clamd"

    def __init__(self, data_dir: Path, workers: int, clamd_url: str) -> None:
        super().__init__(data_dir, workers)
        self.clamd_url = clamd_url

    def _env(self) -> dict[str, str]:
        return {**super()._env(), "ECB_FILES_CLAMD": self.clamd_url}


def _large(server: ProductServer, body: Any, clamd: ScannerProcess) -> dict[str, Any]:
    clamd_before = clamd.cpu_seconds()
    run = large_run(server.port, server.token, server.pid, body)
    # The CPU of the scanner this server streams to (clamd's for "off": about none).
    run["clamd_cpu_seconds"] = clamd.cpu_seconds() - clamd_before
    if run["problem"]:
        raise SystemExit(f"{server.label}: {run['problem']}")
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=3)
    parser.add_argument("--mib", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--small-rounds", type=int, default=3)
    parser.add_argument(
        "--clamd-spool",
        type=Path,
        help="clamd's TemporaryDirectory, where it spools each stream (default: on disk, "
        "beside its database; e.g. a directory on tmpfs)",
    )
    parser.add_argument("--out", help="results JSON (default bench/results/DATE-scanning.json)")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "large": {"files": args.files, "mib": args.mib},
        "clamd_spool": str(args.clamd_spool or "disk (beside the database)"),
        "small": {
            "concurrency": args.concurrency,
            "seconds": args.seconds,
            "generator": "wrk" if wrk_installed() else "loadgen.py",
        },
    }
    with tempfile.TemporaryDirectory(prefix="ecb-scanning-") as tmp:
        root = Path(tmp)
        spool = None if args.clamd_spool is None else args.clamd_spool / f"ecb-{os.getpid()}"
        clamd = Clamd(root / "clamd", max_stream=(args.mib + 1) * MIB, spool=spool)
        clamd.start()
        null = NullScanner(root / "null")
        null.start()
        servers: dict[str, ProductServer] = {
            "off": ProductServer(root / "off", 1),
            "on": ScanningServer(root / "on", 1, clamd.url),
            "protocol": ScanningServer(root / "protocol", 1, null.url),
        }
        scanners: dict[str, ScannerProcess] = {"off": clamd, "on": clamd, "protocol": null}
        try:
            for server in servers.values():
                server.start()
            body = write_body(root / "large.json", [args.mib * MIB] * args.files)
            # Warm-up, not measured: clamd's first scans load its engine's tables.
            warm_up = write_body(root / "warm-up.json", [MIB] * args.files)
            for name, server in servers.items():
                _large(server, warm_up, scanners[name])
            runs: dict[str, list[dict[str, Any]]] = {name: [] for name in servers}
            for _ in range(args.runs):
                for name, server in servers.items():
                    runs[name].append(_large(server, body, scanners[name]))
            small, _ = small_body(10 * 1024)
            small_file = root / "small.json"
            small_file.write_bytes(small)
            rounds: dict[str, list[dict[str, Any]]] = {name: [] for name in servers}
            for number in range(args.small_rounds):
                for name, server in servers.items():
                    spec = submit_spec(
                        server.port, server.token, small_file, args.concurrency, 1.0, args.seconds
                    )
                    clamd_before = scanners[name].cpu_seconds()
                    if wrk_installed():
                        stats = wrk_load(spec, server.pid)
                    else:
                        stats = closed_loop(spec, root, f"small-{name}-{number}", server.pid)
                    stats["clamd_cpu_seconds"] = scanners[name].cpu_seconds() - clamd_before
                    rounds[name].append(stats)
            for name, measured in rounds.items():
                if not measured:
                    continue
                by_rate = sorted(measured, key=lambda stats: stats["rate"])
                results["small"][name] = {
                    **by_rate[len(by_rate) // 2],
                    "rates": [stats["rate"] for stats in measured],
                }
            for name, measured in runs.items():
                if not measured:
                    continue
                results["large"][name] = {
                    "runs": measured,
                    "median_mb_per_s": statistics.median(r["mb_per_s"] for r in measured),
                    "median_peak_growth_mib": statistics.median(
                        r["memory"]["growth_mib"] for r in measured
                    ),
                    "median_clamd_cpu_seconds": statistics.median(
                        r["clamd_cpu_seconds"] for r in measured
                    ),
                }
        finally:
            for server in servers.values():
                server.stop()
            clamd.stop()
            null.stop()
            if spool is not None:
                shutil.rmtree(spool, ignore_errors=True)
    default = BENCH_DIR / "results" / f"{datetime.now(UTC):%Y-%m-%d}-scanning.json"
    out = Path(args.out) if args.out else default
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")
    _print(results)
    print(f"written to {out}", file=sys.stderr)
    return 0


def _print(results: dict[str, Any]) -> None:
    large, small = results["large"], results["small"]
    print(f"large: {large['files']} × {large['mib']} MiB in one JSON request, median of runs")
    print(f"{'scan':<10}{'MB/s':>8}{'peak RSS growth MiB':>22}{'scanner CPU s':>15}")
    for name in ("off", "on", "protocol"):
        if name not in large:
            continue
        row = large[name]
        print(
            f"{name:<10}{row['median_mb_per_s']:>8.1f}{row['median_peak_growth_mib']:>22.1f}"
            f"{row['median_clamd_cpu_seconds']:>15.2f}"
        )
    if "off" not in small:
        return
    print(f"small: one 10 KiB file per request, concurrency {small['concurrency']}")
    print(f"({small['generator']}; the median round, every round's rate beside it)")
    print(f"{'scan':<10}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}  rounds")
    for name in ("off", "on", "protocol"):
        row = small[name]
        rates = ", ".join(f"{rate:.0f}" for rate in row["rates"])
        print(
            f"{name:<10}{row['rate']:>8.1f}{row.get('p50_ms', 0):>9.1f}"
            f"{row.get('p99_ms', 0):>9.1f}{sum(row['errors'].values()):>8}  {rates}"
        )


if __name__ == "__main__":
    sys.exit(main())
