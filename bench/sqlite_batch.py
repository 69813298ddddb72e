"""What one group-commit batch of small submissions costs SQLite alone, without the service.

Eight submissions per transaction, each a submission row, a file row and a 10 KiB
content row (with the service's kinds of keys and indexes), on a fresh database in WAL
mode with ``synchronous=FULL``, through the ``sqlite3`` module and nothing else; the
log is checkpointed every 100 batches, as the service's checkpointer does in the
background. Prints the median and p90 of the ``COMMIT`` alone and of the whole
transaction.

    .venv/bin/python bench/sqlite_batch.py [--batches 400] [--per-batch 8] [--dir DIR]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import tempfile
import time
import uuid
from pathlib import Path

_SCHEMA = (
    "CREATE TABLE submissions (id TEXT PRIMARY KEY, client_pk INTEGER, endpoint TEXT,"
    " created_at TEXT)",
    "CREATE TABLE files (id TEXT PRIMARY KEY, submission_id TEXT, file_name TEXT,"
    " size INTEGER, sha256 TEXT, blob_id TEXT UNIQUE, created_at TEXT)",
    "CREATE INDEX files_by_submission ON files (submission_id)",
    "CREATE INDEX files_by_created ON files (created_at)",
    "CREATE TABLE small_file_contents (blob_id TEXT PRIMARY KEY, content BLOB)",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=400)
    parser.add_argument("--per-batch", type=int, default=8)
    parser.add_argument("--dir", type=Path, help="where the database goes (default: a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.dir) as directory:
        commits, transactions = measure(Path(directory) / "batch.sqlite3", args)
    for name, times in (("COMMIT", commits), ("whole transaction", transactions)):
        ordered = sorted(times)
        p90 = ordered[int(0.9 * (len(ordered) - 1))]
        print(
            f"{name}: median {statistics.median(times) * 1e3:.2f} ms, p90 {p90 * 1e3:.2f} ms "
            f"({args.per_batch} submissions per batch, {args.batches} batches)"
        )


def measure(path: Path, args: argparse.Namespace) -> tuple[list[float], list[float]]:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.execute("PRAGMA wal_autocheckpoint = 0")
    for statement in _SCHEMA:
        connection.execute(statement)
    content = os.urandom(10 * 1024)
    commits, transactions = [], []
    for number in range(args.batches):
        started = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        for _ in range(args.per_batch):
            submission, blob = uuid.uuid4().hex, uuid.uuid4().hex
            connection.execute(
                "INSERT INTO submissions VALUES (?, ?, ?, ?)", (submission, 1, "case", "now")
            )
            connection.execute(
                "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?)",
                (uuid.uuid4().hex, submission, "photo.jpg", len(content), "0" * 64, blob, "now"),
            )
            connection.execute("INSERT INTO small_file_contents VALUES (?, ?)", (blob, content))
        committing = time.perf_counter()
        connection.execute("COMMIT")
        ended = time.perf_counter()
        commits.append(ended - committing)
        transactions.append(ended - started)
        if number % 100 == 99:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    return commits, transactions


if __name__ == "__main__":
    main()
