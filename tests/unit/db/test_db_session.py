"""Engine and session setup: SQLite durability and locking, PostgreSQL URLs, transactions."""

from __future__ import annotations

import fcntl
import multiprocessing
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select, text
from sqlalchemy.orm import Session, sessionmaker

from ecb_files.config import LOCAL_WORKER_THREADS, REMOTE_WORKER_THREADS
from ecb_files.db import models
from ecb_files.db.errors import safe_url
from ecb_files.db.migrate import upgrade
from ecb_files.db.session import (
    SQLITE_POOL_SIZE,
    HeldConnection,
    SqliteWriteLock,
    make_engine,
    make_session_factory,
    read_connection,
    read_transaction,
    sqlite_path,
    transaction,
    writers_held,
)


@pytest.fixture
def sqlite_file(tmp_path: Path) -> Path:
    return tmp_path / "nested" / "dir" / "db.sqlite3"


@pytest.fixture
def sqlite_engine(sqlite_file: Path) -> Engine:
    engine = make_engine(f"sqlite:///{sqlite_file}")
    upgrade(engine)
    return engine


def test_sqlite_parent_directory_is_created(sqlite_file: Path) -> None:
    make_engine(f"sqlite:///{sqlite_file}").dispose()
    assert sqlite_file.parent.is_dir()


def test_sqlite_connections_are_durable_and_enforce_foreign_keys(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as connection:
        pragma = {
            name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    assert pragma == {
        "journal_mode": "wal",
        "synchronous": 2,
        "foreign_keys": 1,
        "busy_timeout": 30000,
    }


def test_sqlite_transaction_takes_the_write_lock_when_it_begins(
    sqlite_engine: Engine, sqlite_file: Path
) -> None:
    """BEGIN IMMEDIATE: a second writer cannot start while a transaction is open, even
    one that has only read so far (so it can never fail later on lock upgrade)."""
    factory = make_session_factory(sqlite_engine)
    other = sqlite3.connect(sqlite_file, timeout=0.1, isolation_level=None)
    try:
        with transaction(factory) as session:
            session.execute(select(1))
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()


def test_a_write_transaction_waits_while_the_writers_are_held(sqlite_engine: Engine) -> None:
    """§6 (checkpoints, docs/deployment.md): while ``writers_held`` lasts, a write
    transaction in another thread does not begin; it begins once the hold ends."""
    factory = make_session_factory(sqlite_engine)
    began: list[float] = []

    def write() -> None:
        with transaction(factory) as session:
            began.append(time.monotonic())
            session.execute(select(1))

    with writers_held(factory):
        writer = in_thread(write)
        time.sleep(HOLD_SECONDS / 2)
        assert not began
        released = time.monotonic()
    writer.join(LOCK_TIMEOUT)
    assert began
    assert began[0] >= released


def test_sqlite_foreign_keys_are_enforced(sqlite_engine: Engine) -> None:
    factory = make_session_factory(sqlite_engine)
    with pytest.raises(Exception, match="FOREIGN KEY"), transaction(factory) as session:
        session.execute(text("INSERT INTO case_partners (case_id, partner_id) VALUES ('x', 'y')"))


def test_postgresql_url_uses_psycopg_3() -> None:
    engine = make_engine("postgresql://u:p@db.example/ecb")
    try:
        assert engine.dialect.driver == "psycopg"
        assert engine.pool._pre_ping  # type: ignore[attr-defined]
    finally:
        engine.dispose()


def test_safe_url_masks_the_password() -> None:
    assert "secret" not in safe_url("postgresql://u:secret@db.example/ecb")


def test_sqlite_path_is_none_for_memory_and_postgresql() -> None:
    assert sqlite_path("sqlite://") is None
    assert sqlite_path("sqlite:///:memory:") is None
    assert sqlite_path("postgresql://db.example/ecb") is None
    assert sqlite_path("sqlite:////data/x.sqlite3") == Path("/data/x.sqlite3")


Writes = Callable[[], AbstractContextManager[Session]]


@pytest.fixture(params=["transaction", "held_connection"])
def writes(request: pytest.FixtureRequest, factory: sessionmaker[Session]) -> Iterator[Writes]:
    """A write transaction of each kind: ``transaction``, and ``HeldConnection``'s (the
    group commit's, on a connection kept between transactions)."""
    if request.param == "transaction":
        yield lambda: transaction(factory)
        return
    held = HeldConnection(factory)
    yield held.transaction
    held.release()


def test_transaction_commits_on_success(factory: sessionmaker[Session], writes: Writes) -> None:
    """§3.4: what the session added is flushed and committed with the transaction."""
    with writes() as session:
        session.add(models.InsuranceCompany(alias="a", name="A"))
    with transaction(factory) as session:
        assert session.scalar(select(models.InsuranceCompany.alias)) == "a"


def test_transaction_rolls_back_on_error(factory: sessionmaker[Session], writes: Writes) -> None:
    def fail_after_writing() -> None:
        with writes() as session:
            session.add(models.InsuranceCompany(alias="a", name="A"))
            session.flush()
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        fail_after_writing()
    with transaction(factory) as session:
        assert session.scalar(select(models.InsuranceCompany.alias)) is None


def test_utc_datetime_round_trips_as_aware_utc(factory: sessionmaker[Session]) -> None:
    plus_two = datetime(2025, 3, 1, 14, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    with transaction(factory) as session:
        session.add(models.SigningKey(kid="k", private_pem="pem", created_at=plus_two))
    with transaction(factory) as session:
        stored = session.get(models.SigningKey, "k")
        assert stored is not None
        session.expire(stored)
        assert stored.created_at == datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
        assert stored.created_at.tzinfo == UTC
        assert stored.retired_at is None


def test_utc_datetime_refuses_naive_values(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        session.add(models.SigningKey(kid="k", private_pem="p", created_at=datetime(2025, 1, 1)))
        with pytest.raises(Exception, match="naive"):
            session.flush()
        session.rollback()


# --- SqliteWriteLock: the queue of a SQLite database's writers ---------------------------

LOCK_TIMEOUT = 30.0
HOLD_SECONDS = 0.5


def lock_is_free(path: Path) -> bool:
    """Whether an exclusive ``flock`` on ``path`` can be had now, from a file of our own
    (``flock`` locks belong to an open file, so this competes even within one process)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


def in_thread(function: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=function, daemon=True)
    thread.start()
    return thread


def test_write_lock_is_reentrant_within_a_thread(tmp_path: Path) -> None:
    """A writer that opens a transaction inside its own transaction does not deadlock; the
    file lock is held until the outermost exit."""
    path = tmp_path / "db.sqlite3.write-lock"
    lock = SqliteWriteLock(path)
    done = threading.Event()
    states: list[bool] = []

    def nested() -> None:
        with lock:
            with lock:
                states.append(lock_is_free(path))
            states.append(lock_is_free(path))
        states.append(lock_is_free(path))
        done.set()

    in_thread(nested)
    assert done.wait(LOCK_TIMEOUT), "re-entering the lock in its own thread blocked"
    assert states == [False, False, True]


def test_write_lock_excludes_other_threads(tmp_path: Path) -> None:
    """Writers of one process queue on the lock: the second enters after the first left."""
    lock = SqliteWriteLock(tmp_path / "db.sqlite3.write-lock")
    assert_second_enters_after_first_left(lock, lock)


def test_two_write_locks_on_one_file_exclude_each_other_in_one_process(tmp_path: Path) -> None:
    """Two engines on one database file in one process (each has its own lock) still
    queue: the file lock belongs to each open file, not to the process."""
    path = tmp_path / "db.sqlite3.write-lock"
    assert_second_enters_after_first_left(SqliteWriteLock(path), SqliteWriteLock(path))


def assert_second_enters_after_first_left(
    first_lock: SqliteWriteLock, second_lock: SqliteWriteLock
) -> None:
    holding = threading.Event()
    released: list[float] = []
    entered: list[float] = []

    def first() -> None:
        with first_lock:
            holding.set()
            time.sleep(HOLD_SECONDS / 2)
            released.append(time.monotonic())

    def second() -> None:
        assert holding.wait(LOCK_TIMEOUT)
        with second_lock:
            entered.append(time.monotonic())

    threads = [in_thread(first), in_thread(second)]
    for thread in threads:
        thread.join(LOCK_TIMEOUT)
    assert released
    assert entered
    assert entered[0] >= released[0]


def hold_write_lock(path: str, stamps: str, holding: Any, seconds: float) -> None:
    """In a child process: hold ``SqliteWriteLock(path)`` for ``seconds``, then write the
    wall-clock time just before letting go to ``stamps``."""
    with SqliteWriteLock(Path(path)):
        holding.set()
        time.sleep(seconds)
        Path(stamps).write_text(repr(time.time()))


@contextmanager
def lock_held_by_another_process(path: Path, stamps: Path) -> Iterator[None]:
    """A spawned child holds the write lock on ``path`` from entry for HOLD_SECONDS."""
    context = multiprocessing.get_context("spawn")
    holding = context.Event()
    child = context.Process(
        target=hold_write_lock, args=(str(path), str(stamps), holding, HOLD_SECONDS)
    )
    child.start()
    try:
        assert holding.wait(LOCK_TIMEOUT), "the child process did not take the lock"
        yield
    finally:
        child.join(LOCK_TIMEOUT)
        if child.is_alive():
            child.kill()
            child.join()
    assert child.exitcode == 0


def test_write_lock_excludes_other_processes(tmp_path: Path) -> None:
    """Writers of all processes queue on the file lock beside the database."""
    path = tmp_path / "db.sqlite3.write-lock"
    stamps = tmp_path / "released"
    with lock_held_by_another_process(path, stamps):
        asked = time.time()
        with SqliteWriteLock(path):
            entered = time.time()
    released = float(stamps.read_text())
    assert entered >= released
    assert entered - asked >= HOLD_SECONDS / 4  # it did wait, not just come late


def test_sqlite_transactions_queue_on_the_write_lock_file_beside_the_database(
    sqlite_engine: Engine, sqlite_file: Path
) -> None:
    """``transaction`` takes ``<database>.write-lock`` before BEGIN IMMEDIATE: another
    process holding only that file lock (not SQLite's lock) keeps it waiting."""
    factory = make_session_factory(sqlite_engine)
    lock_file = sqlite_file.with_name(sqlite_file.name + ".write-lock")
    stamps = sqlite_file.parent / "released"
    with lock_held_by_another_process(lock_file, stamps), transaction(factory) as session:
        entered = time.time()
        session.add(models.InsuranceCompany(alias="a", name="A"))
    assert entered >= float(stamps.read_text())
    with read_transaction(factory) as session:
        assert session.scalar(select(models.InsuranceCompany.alias)) == "a"


def test_the_write_lock_file_is_named_after_the_database(
    sqlite_engine: Engine, sqlite_file: Path
) -> None:
    factory = make_session_factory(sqlite_engine)
    with transaction(factory):
        assert not lock_is_free(sqlite_file.with_name(sqlite_file.name + ".write-lock"))
    assert sorted(p.name for p in sqlite_file.parent.iterdir() if "write-lock" in p.name) == [
        "db.sqlite3.write-lock"
    ]


def test_read_transactions_do_not_wait_for_the_write_lock(
    sqlite_engine: Engine, sqlite_file: Path
) -> None:
    """WAL readers never wait: a read transaction goes ahead while a writer holds the lock."""
    factory = make_session_factory(sqlite_engine)
    stamps = sqlite_file.parent / "released"
    lock_file = sqlite_file.with_name(sqlite_file.name + ".write-lock")
    with lock_held_by_another_process(lock_file, stamps), read_transaction(factory) as session:
        session.execute(select(1))
        read_at = time.time()
    assert read_at < float(stamps.read_text())


def test_in_memory_sqlite_transactions_work_without_a_lock_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An in-memory database queues this process's threads only: no file is made."""
    monkeypatch.chdir(tmp_path)  # where a lock file of a relative "path" would land
    engine = make_engine("sqlite://")
    try:
        upgrade(engine)
        factory = make_session_factory(engine)
        with transaction(factory) as session:
            session.add(models.InsuranceCompany(alias="a", name="A"))
            with transaction(factory) as inner:  # re-entrant here too
                inner.execute(select(1))
        with transaction(factory) as session:
            assert session.scalar(select(models.InsuranceCompany.alias)) == "a"
    finally:
        engine.dispose()
    assert list(tmp_path.iterdir()) == []


def test_a_write_lock_without_a_path_excludes_threads() -> None:
    lock = SqliteWriteLock(None)
    holding = threading.Event()
    released: list[float] = []
    entered: list[float] = []

    def first() -> None:
        with lock:
            holding.set()
            time.sleep(HOLD_SECONDS / 2)
            released.append(time.monotonic())

    def second() -> None:
        assert holding.wait(LOCK_TIMEOUT)
        with lock, lock:
            entered.append(time.monotonic())

    threads = [in_thread(first), in_thread(second)]
    for thread in threads:
        thread.join(LOCK_TIMEOUT)
    assert entered
    assert entered[0] >= released[0]


def test_sqlite_file_engine_pools_a_connection_for_every_worker_thread(
    sqlite_engine: Engine,
) -> None:
    """§6: worker threads each keep a pooled connection instead of opening one per use."""
    assert sqlite_engine.pool.size() == SQLITE_POOL_SIZE  # type: ignore[attr-defined]
    assert SQLITE_POOL_SIZE >= REMOTE_WORKER_THREADS


def test_busy_worker_threads_reuse_pooled_sqlite_connections(sqlite_engine: Engine) -> None:
    """§6: every worker thread reading at once keeps its connection in the pool, so no
    connection is opened (schema read, pragmas) and closed again for each use."""
    threads = LOCAL_WORKER_THREADS
    connects: list[object] = []
    event.listen(sqlite_engine, "connect", lambda dbapi, _record: connects.append(dbapi))
    factory = make_session_factory(sqlite_engine)
    together = threading.Barrier(threads, timeout=LOCK_TIMEOUT)

    def read_at_once() -> None:
        for _ in range(3):
            with read_connection(factory) as connection:
                connection.execute(select(1))
                together.wait()  # all threads hold a connection at the same time
            together.wait()

    workers = [in_thread(read_at_once) for _ in range(threads)]
    for worker in workers:
        worker.join(LOCK_TIMEOUT)
    assert not together.broken
    assert len(connects) <= threads


# --- HeldConnection: the group commit's transactions on one kept connection ------------


@pytest.fixture
def held(factory: sessionmaker[Session]) -> Iterator[HeldConnection]:
    kept = HeldConnection(factory)
    yield kept
    kept.release()


def connections_checked_out(factory: sessionmaker[Session]) -> list[Any]:
    engine = factory.kw["bind"]
    checked_out: list[Any] = []
    event.listen(engine, "checkout", lambda *args: checked_out.append(args[0]))
    return checked_out


def test_held_connection_keeps_one_connection_between_transactions(
    factory: sessionmaker[Session], held: HeldConnection
) -> None:
    checked_out = connections_checked_out(factory)
    for alias in ("a", "b", "c"):
        with held.transaction() as session:
            session.add(models.InsuranceCompany(alias=alias, name=alias))
    assert len(checked_out) == 1


def test_held_connection_takes_a_new_connection_after_a_failed_transaction(
    factory: sessionmaker[Session], held: HeldConnection
) -> None:
    """A connection that failed may be broken: the next transaction does not depend on it."""
    checked_out = connections_checked_out(factory)
    with pytest.raises(RuntimeError), held.transaction():
        raise RuntimeError("boom")
    with held.transaction() as session:
        session.add(models.InsuranceCompany(alias="a", name="A"))
    assert len(checked_out) == 2
    with transaction(factory) as session:
        assert session.scalar(select(models.InsuranceCompany.alias)) == "a"


def test_held_connection_swaps_a_connection_left_idle(
    factory: sessionmaker[Session], held: HeldConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connection idle for longer than IDLE_SECONDS goes back to the pool, which checks
    the one it lends next: a connection closed by the server while idle fails nothing."""
    checked_out = connections_checked_out(factory)
    monkeypatch.setattr(HeldConnection, "IDLE_SECONDS", 0.0)
    for alias in ("a", "b"):
        time.sleep(0.01)
        with held.transaction() as session:
            session.add(models.InsuranceCompany(alias=alias, name=alias))
    assert len(checked_out) == 2


def test_held_connection_transactions_take_the_sqlite_write_lock(tmp_path: Path) -> None:
    """§3.4: like every write transaction, one on the held connection queues on the lock
    file beside the database, so other processes' writers wait for it."""
    database = tmp_path / "db.sqlite3"
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    held = HeldConnection(make_session_factory(engine))
    lock_file = database.with_name(database.name + ".write-lock")
    try:
        with held.transaction():
            descriptor = os.open(lock_file, os.O_RDWR)
            try:
                with pytest.raises(BlockingIOError):
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            finally:
                os.close(descriptor)
    finally:
        held.release()
        engine.dispose()
