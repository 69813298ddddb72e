"""``Database``: units of work, and a server's SQLite checkpoints off the commit path (§6)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from ecb_files.db import Database, models, session

EXPIRES = datetime.now(UTC) + timedelta(hours=1)


def _write_rows(database: Database, count: int, prefix: str = "jti") -> None:
    with database.write() as unit:
        for index in range(count):
            unit.add(
                models.UsedAssertion(issuer="db-test", jti=f"{prefix}-{index}", expires_at=EXPIRES)
            )


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


def test_a_sqlite_log_that_grew_is_cut_back_when_it_starts_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """§6 (docs/deployment.md): a burst of writes grows the write-ahead log; once it has
    been copied into the database and starts over, the file is cut back to the kept
    size instead of keeping its largest size on disk."""
    kept = 256 * 1024
    monkeypatch.setattr(session, "SQLITE_LOG_KEPT_BYTES", kept)
    path = tmp_path / "db.sqlite3"
    log = tmp_path / "db.sqlite3-wal"
    database = Database.open(f"sqlite:///{path}", serving=True)
    try:
        _write_rows(database, 5000)
        assert log.stat().st_size > kept
        log_pages, copied = database.checkpoint()
        assert copied == log_pages
        _write_rows(database, 1, prefix="after")  # starts the log over
        assert log.stat().st_size <= kept
    finally:
        database.close()


def test_sqlite_connections_keep_64_mib_of_the_log(tmp_path: Path) -> None:
    """§6: the size a log is cut back to when it starts over."""
    database = Database.open(f"sqlite:///{tmp_path / 'db.sqlite3'}", serving=True)
    try:
        with database.read() as unit:
            assert unit.execute(text("PRAGMA journal_size_limit")).scalar() == 64 * 1024 * 1024
    finally:
        database.close()
