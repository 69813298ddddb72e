"""Engines and sessions for SQLite (embedded default) and PostgreSQL (production).

SQLite is set up for several server processes writing one file: WAL journal (readers
never block the writer), ``synchronous=FULL`` (a commit is on disk before the 200 that
reports it), the log cut back to ``SQLITE_LOG_KEPT_BYTES`` whenever it starts over,
foreign keys enforced, a 30 s busy timeout, and every transaction opened
with ``BEGIN IMMEDIATE``. A deferred ``BEGIN`` takes the write lock only at the first
write, and if another process wrote in between, the upgrade fails at once with
``SQLITE_BUSY`` instead of waiting; taking the lock up front makes writers queue on the
busy timeout instead.

Write transactions on SQLite also queue on a lock of their own before ``BEGIN
IMMEDIATE``: threads of a process on a thread lock, processes on an exclusive ``flock``
of a file beside the database (``<database>.write-lock``). SQLite's busy handler polls
with sleeps of up to 100 ms, so writers competing through it wait far longer than the
lock is held; a thread lock and a ``flock`` hand over to the next writer at once. Read
transactions (``read_transaction``) start with a plain ``BEGIN`` and never wait: WAL
readers see the last commit.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.orm import Session, sessionmaker

from ecb_files.db import driver
from ecb_files.db.errors import translate_outages

SQLITE_BUSY_TIMEOUT_SECONDS = 30
SQLITE_POOL_SIZE = 40
# What SQLite leaves of its write-ahead log once it starts the log over: a log that grew
# under a long burst of writes is cut back to this, instead of keeping its largest size
# on disk for as long as the server runs (docs/deployment.md).
SQLITE_LOG_KEPT_BYTES = 64 * 1024 * 1024
SQLITE_MAX_OVERFLOW = 10
POSTGRES_POOL_SIZE = 5
POSTGRES_MAX_OVERFLOW = 10


def make_engine(url: str, *, background_checkpoints: bool = False) -> Engine:
    """An engine for ``url`` (``sqlite:///path`` or ``postgresql://…``) set up as above."""
    parsed = normalize_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = _sqlite_engine(parsed, background_checkpoints=background_checkpoints)
    else:
        engine = create_engine(
            parsed,
            pool_pre_ping=True,
            pool_size=POSTGRES_POOL_SIZE,
            max_overflow=POSTGRES_MAX_OVERFLOW,
        )
    translate_outages(engine)
    return engine


def normalize_url(url: str) -> URL:
    """``url`` parsed, with a bare ``postgresql://`` pointed at the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def sqlite_path(url: str | URL) -> Path | None:
    """The database file of a file-backed SQLite URL, else ``None`` (in-memory, PostgreSQL)."""
    parsed = make_url(url) if isinstance(url, str) else url
    if parsed.get_backend_name() != "sqlite":
        return None
    database = parsed.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


_READ_ONLY = "ecb_files_read_only"
_sqlite_write_locks: weakref.WeakKeyDictionary[Engine, SqliteWriteLock] = (
    weakref.WeakKeyDictionary()
)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commits if the block succeeds, rolls back if it raises."""
    lock = _write_lock(factory)
    if lock is None:
        with factory() as session, session.begin():
            yield session
        return
    with lock, factory() as session, session.begin():
        yield session


class HeldConnection:
    """``transaction`` for one thread that writes all the time (the group commit): its
    connection is kept from one transaction to the next, and each transaction's session
    is bound to it. Checking a connection out of the pool and setting a session up on it
    cost that thread more than most of its statements (bench/README.md).

    A connection that failed in a transaction is given back (the pool drops it if it
    was lost), and one left unused for ``IDLE_SECONDS`` is swapped for a fresh one from
    the pool, which checks it first: a connection the server closed while it lay idle
    never fails a transaction.
    """

    IDLE_SECONDS = 1.0

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory
        self._engine = _engine_of(factory)
        self._lock = _write_lock(factory)
        self._connection: Connection | None = None
        self._last_used = 0.0

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """As ``transaction`` above: commits if the block succeeds, else rolls back."""
        with self._lock if self._lock is not None else nullcontext():
            connection = self._connection_for_use()
            try:
                with connection.begin(), self._factory(bind=connection) as session:
                    yield session
                    session.flush()  # what the session's own commit would have sent
            except BaseException:
                self.release()
                raise
            self._last_used = time.monotonic()

    def release(self) -> None:
        """Give the connection back to the pool (once the thread stops writing)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def _connection_for_use(self) -> Connection:
        if self._connection is not None and (
            time.monotonic() - self._last_used > self.IDLE_SECONDS
        ):
            self.release()
        if self._connection is None:
            self._connection = self._engine.connect()
        return self._connection


@contextmanager
def read_transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work that only reads: on SQLite it neither takes nor waits for the
    write lock. Writing in it is a bug (SQLite would refuse the upgrade when busy)."""
    with factory() as session, session.begin():
        session.connection(execution_options={_READ_ONLY: True})
        yield session


@contextmanager
def read_connection(factory: sessionmaker[Session]) -> Iterator[Connection]:
    """``read_transaction`` on a plain ``Connection``: no ``Session`` to set up and tear
    down, for the hot paths that run a few Core statements."""
    with _engine_of(factory).connect() as connection:
        yield connection.execution_options(**{_READ_ONLY: True})


@contextmanager
def writers_held(factory: sessionmaker[Session]) -> Iterator[None]:
    """No write transaction starts meanwhile, in this process or (on a SQLite file) any
    other: the write lock, held outside any transaction. Nothing on PostgreSQL."""
    lock = _write_lock(factory)
    with lock if lock is not None else nullcontext():
        yield


def _engine_of(factory: sessionmaker[Session]) -> Engine:
    engine = factory.kw.get("bind")
    if not isinstance(engine, Engine):
        raise TypeError("the session factory is not bound to an engine")
    return engine


def _write_lock(factory: sessionmaker[Session]) -> SqliteWriteLock | None:
    engine = factory.kw.get("bind")
    if not isinstance(engine, Engine) or engine.dialect.name != "sqlite":
        return None
    lock = _sqlite_write_locks.get(engine)
    if lock is None:
        database = sqlite_path(engine.url)
        path = None if database is None else database.with_name(database.name + ".write-lock")
        lock = _sqlite_write_locks.setdefault(engine, SqliteWriteLock(path))
    return lock


class SqliteWriteLock:
    """The queue of a SQLite database's writers (see the module doc). Re-entrant within a
    thread; ``path`` ``None`` (an in-memory database) queues this process's threads only."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._threads = threading.RLock()
        self._depth = 0
        self._fd: int | None = None
        self._pid = 0

    def __enter__(self) -> None:
        self._threads.acquire()
        try:
            if self._depth == 0 and self._path is not None:
                fcntl.flock(self._descriptor(), fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise
        self._depth += 1

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        try:
            if self._depth == 0 and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def _descriptor(self) -> int:
        # A flock belongs to an open file, which a forked child would share with its
        # parent: each process opens its own.
        if self._fd is None or self._pid != os.getpid():
            assert self._path is not None
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        return self._fd


def _sqlite_engine(url: URL, *, background_checkpoints: bool) -> Engine:
    path = sqlite_path(url)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    # A file's pool holds a connection for every worker thread: an overflow connection
    # is opened (schema read, pragmas) and closed again for each use.
    pooling: dict[str, Any] = {}
    if path is not None:
        pooling = {"pool_size": SQLITE_POOL_SIZE, "max_overflow": SQLITE_MAX_OVERFLOW}
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS}, **pooling)
    event.listen(engine, "connect", _configure_sqlite_connection)
    if background_checkpoints:
        event.listen(engine, "connect", _no_checkpoints_at_commit)
    event.listen(engine, "begin", _begin_immediate)
    return engine


def _configure_sqlite_connection(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # The SQLAlchemy-documented recipe: the sqlite3 module must not issue its own BEGIN,
    # so that the "begin" hook below decides how every transaction starts.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute(f"PRAGMA journal_size_limit = {SQLITE_LOG_KEPT_BYTES}")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _no_checkpoints_at_commit(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # SQLite copies the WAL into the database, with an fsync, in whichever commit passes
    # 1,000 pages: that commit, and every one queued behind it, waits. The process's
    # checkpointer thread (Database.checkpoint_in_background) does it beside the writers.
    dbapi_connection.execute("PRAGMA wal_autocheckpoint = 0")


def _begin_immediate(connection: Connection) -> None:
    if connection.get_execution_options().get(_READ_ONLY):
        driver.execute(connection, "BEGIN")
    else:
        driver.execute(connection, "BEGIN IMMEDIATE")
