"""What the §12.2 limiter costs a request: small submissions with the limits on and
off, and the limiter alone in-process.

    .venv/bin/python bench/rate_limits.py              # about a minute
    .venv/bin/python bench/rate_limits.py --no-http    # the in-process figures only

**Over HTTP** (needs wrk): two ``ecb-files serve --workers 1`` side by side on the
embedded default, one with every rate limit ``off``, one with the bench's limits on
(``BENCH_RATE_LIMITS`` in ``servers.py``: high enough never to refuse, so the limiter
runs and leases but admits everything); the small submission of ``run.py`` (one 10 KiB
file) at concurrency 16, ``--rounds`` times each, alternating between the two so that
the machine's noise falls on both alike. The ratio is of the medians.

**In-process**, on a fresh SQLite database (the embedded default, WAL,
``synchronous=FULL``) in a temporary directory, or on ``--database-url`` (PostgreSQL),
through a group committer as in the server, it times:

- ``admit_known``: a submission's two charges (requests and bytes) paid from the
  process's lease — the path of nearly every request;
- ``lease``: one ``admit`` that must take a new lease from the shared row (a write
  transaction: read, compare-and-swap, commit);
- ``amortised``: a whole budget's worth of requests through both, at the leases the
  default sizing gives (1/64 of the budget), per request.

Prints the figures and writes ``bench/results/<date>-rate-limits.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from bodies import small_body
from measure import submit_spec, wrk_installed, wrk_load
from servers import ProductServer

from ecb_files.config import GIB, Rate
from ecb_files.db import Database
from ecb_files.db.group_commit import GroupCommitter
from ecb_files.services.rate_limits import Charge, RateLimiter

RESULTS = Path(__file__).parent / "results"


def _charges(client: str, requests: Rate, size: Rate) -> tuple[Charge, ...]:
    return (
        Charge(f"submit:{client}", requests, 1, "requests"),
        Charge(f"bytes:{client}", size, 10 * 1024, "bytes"),
    )


def _admit(limiter: RateLimiter, charges: tuple[Charge, ...]) -> None:
    if not limiter.admit_known(charges):
        limiter.admit(charges)


def measure(database: Database, rounds: int, commits: GroupCommitter | None) -> dict[str, float]:
    limiter = RateLimiter(database, commits=commits)
    run = uuid.uuid4().hex[:8]  # a database given may hold the buckets of earlier runs
    huge = Rate(10**12, 60)
    # The hot path: leases large enough never to run out while it is timed.
    charges = _charges(f"hot-{run}", huge, Rate(10**15, 3600))
    _admit(limiter, charges)
    began = time.perf_counter_ns()
    for _ in range(rounds):
        limiter.admit_known(charges)
    known_ns = (time.perf_counter_ns() - began) / rounds

    # Leases: a budget of 1 per period makes every admit take a lease of its own.
    lease_times = []
    for n in range(200):
        one = (Charge(f"submit:lease-{run}-{n}", Rate(1, 3600), 1, "requests"),)
        began = time.perf_counter_ns()
        limiter.admit(one)
        lease_times.append(time.perf_counter_ns() - began)

    # A whole default-sized budget (600/minute: leases of 9) through the real mix.
    default = _charges(f"amortised-{run}", Rate(600, 60), Rate(20 * GIB, 3600))
    began = time.perf_counter_ns()
    for _ in range(600):
        _admit(limiter, default)
    amortised_ns = (time.perf_counter_ns() - began) / 600
    return {
        "admit_known_us": known_ns / 1000,
        "lease_median_us": statistics.median(lease_times) / 1000,
        "lease_p99_us": sorted(lease_times)[int(len(lease_times) * 0.99)] / 1000,
        "amortised_600_per_minute_us": amortised_ns / 1000,
    }


class LimitsOffServer(ProductServer):
    kind = "ecb-files (rate limits off)"

    def _env(self) -> dict[str, str]:
        off = dict.fromkeys(BENCH_OFF, "off")
        return {**super()._env(), **off}


BENCH_OFF = ("ECB_FILES_RATE_LIMIT", "ECB_FILES_BYTE_RATE_LIMIT", "ECB_FILES_READ_RATE_LIMIT")


def over_http(root: Path, rounds: int, seconds: float) -> dict[str, object]:
    body, _ = small_body(10 * 1024)
    body_file = root / "small.json"
    body_file.write_bytes(body)
    servers = {
        "off": LimitsOffServer(root / "off", 1),
        "on": ProductServer(root / "on", 1),
    }
    runs: dict[str, list[dict[str, object]]] = {"off": [], "on": []}
    try:
        for server in servers.values():
            server.start()
        for _ in range(rounds):
            for name, server in servers.items():
                spec = submit_spec(server.port, server.token, body_file, 16, 1.0, seconds)
                stats = wrk_load(spec, server.pid)
                runs[name].append(stats)
                print(f"limits {name:3}: {stats['rate']:7.0f} req/s  p99 {stats['p99_ms']:6.1f} ms")
    finally:
        for server in servers.values():
            server.stop()

    def median(name: str, figure: str) -> float:
        return statistics.median(float(str(run[figure])) for run in runs[name])

    summary = {
        name: {"rate": median(name, "rate"), "p99_ms": median(name, "p99_ms")} for name in runs
    }
    errors = sum(1 for name in runs for run in runs[name] if run["errors"])
    return {
        "runs": runs,
        "median": summary,
        "rate_on_over_off": summary["on"]["rate"] / summary["off"]["rate"],
        "p99_on_over_off": summary["on"]["p99_ms"] / summary["off"]["p99_ms"],
        "runs_with_errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--calls", type=int, default=200_000, help="admit_known calls timed")
    parser.add_argument("--rounds", type=int, default=4, help="HTTP runs of each server")
    parser.add_argument("--seconds", type=float, default=4.0, help="each HTTP run's length")
    parser.add_argument("--no-http", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        database = Database.open(url)
        commits = GroupCommitter(database)  # as in the server (services/container.py)
        try:
            figures = measure(database, args.calls, commits)
        finally:
            commits.close()
            database.close()
        backend = "postgresql" if url.startswith("postgresql") else "sqlite"
        for name, value in figures.items():
            print(f"{backend:10} {name:32} {value:10.1f} µs")
        results["in_process"] = {"backend": backend, **figures}
        if not args.no_http:
            if not wrk_installed():
                raise SystemExit("wrk is not installed: run with --no-http")
            http = over_http(Path(tmp), args.rounds, args.seconds)
            print(
                f"median rate on/off {http['rate_on_over_off']:.3f}, "
                f"p99 on/off {http['p99_on_over_off']:.3f}"
            )
            results["http"] = http
    out = args.out or RESULTS / f"{datetime.now(UTC):%Y-%m-%d}-rate-limits.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results in {out}")


if __name__ == "__main__":
    main()
