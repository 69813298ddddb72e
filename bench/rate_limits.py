"""What the §12.2 limiter costs a request, measured in-process (no HTTP, no noise from
the load generator): the path every submission takes on the event loop, and the lease
that goes to the database.

    .venv/bin/python bench/rate_limits.py

On a fresh SQLite database (the embedded default, WAL, ``synchronous=FULL``) in a
temporary directory, or on ``--database-url`` (PostgreSQL), it times:

- ``admit_known``: a submission's two charges (requests and bytes) paid from the
  process's lease — the path of nearly every request;
- ``lease``: one ``admit`` that must take a new lease from the shared row (a write
  transaction: read, compare-and-swap, commit);
- ``amortised``: a whole budget's worth of requests through both, at the leases the
  default sizing gives (1/64 of the budget), per request.

Prints a table and writes ``bench/results/<date>-rate-limits.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

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
    huge = Rate(10**12, 60)
    # The hot path: leases large enough never to run out while it is timed.
    charges = _charges("hot", huge, Rate(10**15, 3600))
    _admit(limiter, charges)
    began = time.perf_counter_ns()
    for _ in range(rounds):
        limiter.admit_known(charges)
    known_ns = (time.perf_counter_ns() - began) / rounds

    # Leases: a budget of 1 per period makes every admit take a lease of its own.
    lease_times = []
    for n in range(200):
        one = (Charge(f"submit:lease-{n}", Rate(1, 3600), 1, "requests"),)
        began = time.perf_counter_ns()
        limiter.admit(one)
        lease_times.append(time.perf_counter_ns() - began)

    # A whole default-sized budget (600/minute: leases of 9) through the real mix.
    default = _charges("amortised", Rate(600, 60), Rate(20 * GIB, 3600))
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--rounds", type=int, default=200_000)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        database = Database.open(url)
        commits = GroupCommitter(database)  # as in the server (services/container.py)
        try:
            figures = measure(database, args.rounds, commits)
        finally:
            commits.close()
            database.close()
    backend = "postgresql" if url.startswith("postgresql") else "sqlite"
    for name, value in figures.items():
        print(f"{backend:10} {name:32} {value:10.1f} µs")
    out = args.out or RESULTS / f"{datetime.now(UTC):%Y-%m-%d}-rate-limits.json"
    out.write_text(json.dumps({"backend": backend, **figures}, indent=2) + "\n")
    print(f"results in {out}")


if __name__ == "__main__":
    main()
