"""``Database``: units of work, and a server's SQLite checkpoints off the commit path (§6)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from ecb_files.db import Database, models, session
from ecb_files.db import database as database_module
from ecb_files.db.session import make_engine

EXPIRES = datetime.now(UTC) + timedelta(hours=1)
# A log page as the -wal file holds it: the page and its frame header.
SQLITE_FRAME_BYTES = 4096 + 24
LOG_GROWN_BYTES = 16 * 1024 * 1024


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
    log = tmp_path / "db.sqlite3-wal"
    # No checkpointer thread: one of its passes at the moment of the write below would
    # hold a reader's place in the log, and SQLite would start the log over next time.
    database = _checkpointed_by_hand(tmp_path)
    try:
        _write_rows(database, 5000)
        assert log.stat().st_size > kept
        log_pages, copied = database.checkpoint()
        assert copied == log_pages
        _write_rows(database, 1, prefix="after")  # starts the log over
        assert log.stat().st_size <= kept
    finally:
        database.close()


def _checkpointed_by_hand(tmp_path: Path) -> Database:
    """A server's database (no checkpoints at commit) without its checkpointer thread,
    so that the test alone decides when checkpoints run."""
    database = Database(
        make_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}", background_checkpoints=True)
    )
    database.upgrade()
    return database


@pytest.fixture
def checkpointed_by_hand(tmp_path: Path) -> Iterator[Database]:
    database = _checkpointed_by_hand(tmp_path)
    try:
        yield database
    finally:
        database.close()


def _log_pages(database: Database) -> int:
    log_pages, _copied = database.checkpoint()
    return log_pages


def test_the_log_starts_over_under_writes_that_never_pause(
    checkpointed_by_hand: Database, tmp_path: Path
) -> None:
    """§6 (docs/deployment.md): with a commit always in progress, the checkpointer still
    copies the whole log into the database, and the next commit starts the log over
    instead of appending to it for as long as the writes go on."""
    database = checkpointed_by_hand
    log = tmp_path / "db.sqlite3-wal"
    stop = threading.Event()
    commits = [0]

    def write_without_pause() -> None:
        while not stop.is_set():
            _write_rows(database, 5, prefix=f"steady-{commits[0]}")
            commits[0] += 1

    writer = threading.Thread(target=write_without_pause)
    writer.start()
    try:
        deadline = time.monotonic() + 30
        while not log.exists() or log.stat().st_size < LOG_GROWN_BYTES:
            assert time.monotonic() < deadline, "the writer did not grow the log"
            time.sleep(0.01)
        assert any(database.checkpoint_to_restart() for _ in range(50))
        after = commits[0]
        while commits[0] < after + 3:
            assert time.monotonic() < deadline, "the writer stopped committing"
            time.sleep(0.001)
        # The file keeps its size; what the log holds now is what came after it started over.
        assert _log_pages(database) * SQLITE_FRAME_BYTES < LOG_GROWN_BYTES / 2
    finally:
        stop.set()
        writer.join()


def test_a_reader_on_older_pages_leaves_the_restart_to_the_next_time(
    checkpointed_by_hand: Database, tmp_path: Path
) -> None:
    """§6: a read transaction that still sees pages of the log keeps them there: the
    checkpointer says it did not get to the end, and gets there once the reader ends."""
    database = checkpointed_by_hand
    _write_rows(database, 10, prefix="seen")
    reader = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM used_assertions").fetchone()
        _write_rows(database, 500, prefix="unseen")
        assert not database.checkpoint_to_restart()
        reader.execute("COMMIT")
    finally:
        reader.close()
    assert database.checkpoint_to_restart()


def test_an_idle_log_needs_no_hold_on_the_writers(
    checkpointed_by_hand: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """§6: when nothing was written since the last checkpoint, the checkpointer is done
    without holding the writers off even for a moment."""
    database = checkpointed_by_hand
    _write_rows(database, 100)
    database.checkpoint()

    def no_hold(factory: object) -> None:
        raise AssertionError("the writers were held")

    monkeypatch.setattr(database_module, "writers_held", no_hold)
    assert database.checkpoint_to_restart()


def test_sqlite_connections_keep_64_mib_of_the_log(tmp_path: Path) -> None:
    """§6: the size a log is cut back to when it starts over."""
    database = Database.open(f"sqlite:///{tmp_path / 'db.sqlite3'}", serving=True)
    try:
        with database.read() as unit:
            assert unit.execute(text("PRAGMA journal_size_limit")).scalar() == 64 * 1024 * 1024
    finally:
        database.close()
