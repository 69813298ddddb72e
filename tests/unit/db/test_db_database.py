"""``Database``: units of work, and a server's SQLite checkpoints off the commit path (§6)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from ecb_files.db import Database, models

EXPIRES = datetime.now(UTC) + timedelta(hours=1)


def _write_rows(database: Database, count: int) -> None:
    with database.write() as unit:
        for index in range(count):
            unit.add(models.UsedAssertion(issuer="db-test", jti=f"jti-{index}", expires_at=EXPIRES))


def test_a_serving_sqlite_database_never_checkpoints_in_a_commit(tmp_path: Path) -> None:
    """§6: a server's commits do not copy the log into the database: that waits for
    the checkpointer thread, never for a submission."""
    database = Database.open(f"sqlite:///{tmp_path / 'db.sqlite3'}", serving=True)
    try:
        with database.read() as unit:
            assert unit.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 0
    finally:
        database.close()


def test_a_serving_sqlite_database_checkpoints_in_the_background(tmp_path: Path) -> None:
    """§6: what commits append to the write-ahead log reaches the database file within
    moments, copied by the process's checkpointer thread."""
    path = tmp_path / "db.sqlite3"
    database = Database.open(f"sqlite:///{path}", serving=True)
    try:
        size_before = path.stat().st_size
        _write_rows(database, 3000)
        deadline = time.monotonic() + 10
        while path.stat().st_size <= size_before:
            assert time.monotonic() < deadline, "the log was not copied into the database"
            time.sleep(0.05)
        log_pages, copied = database.checkpoint()
        assert copied == log_pages
    finally:
        database.close()


def test_an_operator_database_keeps_sqlite_checkpoints_at_commit(tmp_path: Path) -> None:
    """The command line starts no checkpointer: SQLite's own checkpoints stay on."""
    database = Database.open(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    try:
        with database.read() as unit:
            assert unit.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 1000
    finally:
        database.close()
