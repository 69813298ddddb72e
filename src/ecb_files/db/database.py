"""``Database``: the one handle the use cases hold on the database of a deployment.

It owns the engine (set up by ``db.session``, outages translated by ``db.errors``) and
opens the units of work the use cases run their queries in. The use cases decide where a
unit begins and ends; the statements live in this package's query modules, which take
the unit and flush, never commit. Nothing outside ``ecb_files.db`` imports SQLAlchemy.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import PoolProxiedConnection

from ecb_files.db.errors import safe_url, unavailable_on_pool_timeout
from ecb_files.db.migrate import current_revision, upgrade
from ecb_files.db.session import (
    HeldConnection,
    make_engine,
    make_session_factory,
    read_connection,
    read_transaction,
    transaction,
    writers_held,
)

log = logging.getLogger("ecb_files.db")

# What a unit of work is, for the use cases' type hints: they pass it to the query
# functions of this package and never call it themselves.
Transaction = Session
ReadConnection = Connection


class Timings(Protocol):
    """Where the time of each unit of work goes (the service's metrics, §12.3):
    ``operation`` is ``write``, ``read`` or ``read_connection``."""

    def observe(self, operation: str, seconds: float) -> None: ...


class _Untimed:
    def observe(self, operation: str, seconds: float) -> None:
        pass


# How often a server process copies SQLite's write-ahead log into the database.
CHECKPOINT_SECONDS = 0.5
# The pages a checkpoint may still have to copy with the writers held off: a few ms.
CHECKPOINT_TAIL_PAGES = 128
# Passive checkpoints in a row, each copying what arrived during the one before.
CHECKPOINT_ROUNDS = 4


class Database:
    def __init__(self, engine: Engine, *, timings: Timings | None = None) -> None:
        """On an engine made by ``db.session.make_engine``; ``open`` makes one from a URL.

        ``timings``: told how long each unit of work took, from its start to its commit
        or rollback (a unit that waits for the pool counts its wait too)."""
        self.engine = engine
        self._timings: Timings = timings or _Untimed()
        self.sessions: sessionmaker[Session] = make_session_factory(engine)
        self._checkpoints: threading.Thread | None = None
        self._closing = threading.Event()

    @classmethod
    def open(
        cls,
        url: str,
        *,
        migrate: bool = True,
        serving: bool = False,
        timings: Timings | None = None,
    ) -> Database:
        """The database at ``url``, brought to the newest schema unless ``migrate`` is off.

        ``serving``: for a server process, whose commits should never wait for SQLite's
        checkpoints: a thread of its own runs them (no effect on PostgreSQL).
        """
        database = cls(make_engine(url, background_checkpoints=serving), timings=timings)
        if serving and database.engine.dialect.name == "sqlite":
            database._checkpoints = threading.Thread(
                target=database._checkpoint_until_closed, name="ecb-files checkpoints", daemon=True
            )
            database._checkpoints.start()
        if migrate:
            try:
                database.upgrade()
            except BaseException:
                database.close()
                raise
        return database

    @property
    def display_url(self) -> str:
        """The database's URL for messages and logs, any password masked."""
        return safe_url(self.engine.url)

    def upgrade(self) -> None:
        upgrade(self.engine)

    def revision(self) -> str | None:
        """The schema revision the database is at (``None`` before the first migration)."""
        with unavailable_on_pool_timeout(self.engine):
            return current_revision(self.engine)

    @contextmanager
    def write(self) -> Iterator[Transaction]:
        """A unit of work that commits if the block succeeds and rolls back if it raises."""
        began = time.perf_counter()
        try:
            with unavailable_on_pool_timeout(self.engine), transaction(self.sessions) as unit:
                yield unit
        finally:
            self._timings.observe("write", time.perf_counter() - began)

    def held_writes(self) -> HeldWrites:
        """``write`` for one thread that writes all the time, on a connection it keeps."""
        return HeldWrites(self.engine, self.sessions, self._timings)

    @contextmanager
    def read(self) -> Iterator[Transaction]:
        """A unit of work that only reads (on SQLite it never waits for the writers)."""
        began = time.perf_counter()
        try:
            with unavailable_on_pool_timeout(self.engine), read_transaction(self.sessions) as unit:
                yield unit
        finally:
            self._timings.observe("read", time.perf_counter() - began)

    @contextmanager
    def read_connection(self) -> Iterator[ReadConnection]:
        """``read`` without an ORM session, for hot paths that run a few Core statements."""
        began = time.perf_counter()
        try:
            with unavailable_on_pool_timeout(self.engine), read_connection(self.sessions) as unit:
                yield unit
        finally:
            self._timings.observe("read_connection", time.perf_counter() - began)

    def ping(self) -> None:
        """Return if the database answers, else raise ``DatabaseUnavailable``."""
        with unavailable_on_pool_timeout(self.engine), self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def close(self) -> None:
        self._closing.set()
        if self._checkpoints is not None:
            self._checkpoints.join()
        self.engine.dispose()

    def _checkpoint_until_closed(self) -> None:
        """``checkpoint_to_restart`` every ``CHECKPOINT_SECONDS``."""
        while not self._closing.wait(CHECKPOINT_SECONDS):
            try:
                self.checkpoint_to_restart()
            except Exception:
                log.warning("SQLite checkpoint failed; will retry", exc_info=True)

    def checkpoint(self) -> tuple[int, int]:
        """One passive checkpoint of SQLite's write-ahead log (outside any transaction,
        which SQLite requires): the log's pages, and how many of them are now in the
        database file."""
        connection = self.engine.raw_connection()
        try:
            _busy, log_pages, copied = _passive_checkpoint(connection)
        finally:
            connection.close()
        return log_pages, copied

    def checkpoint_to_restart(self) -> bool:
        """The whole write-ahead log copied into the database, so that the next commit
        starts the log over from its beginning; whether that was reached.

        A passive checkpoint copies while writers go on appending, so under a steady
        load it never reaches the log's end, the log never starts over, and the file
        only grows (GBs within minutes): each commit then appends to it, and its flush
        carries the file's new size through the file system's journal, where it waits
        for the database file's own writes. Here passive checkpoints run back to back,
        each copying what arrived during the one before, until that is at most
        ``CHECKPOINT_TAIL_PAGES``; the last one runs with the writers held off (the
        write lock, a few milliseconds) and leaves nothing behind. A reader still on
        older pages, another connection's checkpoint at work, or a tail that does not
        shrink leaves it to the next time.
        """
        connection = self.engine.raw_connection()
        try:
            previous: int | None = None
            for _ in range(CHECKPOINT_ROUNDS):
                busy, log_pages, copied = _passive_checkpoint(connection)
                if busy or copied < log_pages:
                    return False  # another checkpoint runs, or a reader needs the log
                if log_pages == 0 or (previous is not None and log_pages <= previous):
                    return True  # nothing arrived meanwhile, or the log started over
                if previous is not None and log_pages - previous <= CHECKPOINT_TAIL_PAGES:
                    with writers_held(self.sessions):
                        busy, log_pages, copied = _passive_checkpoint(connection)
                    return not busy and copied == log_pages
                previous = log_pages
            return False
        finally:
            connection.close()


class HeldWrites:
    """``Database.write`` on one connection held between units (``session.HeldConnection``);
    for the one thread that uses it, which calls ``close`` when it stops."""

    def __init__(self, engine: Engine, sessions: sessionmaker[Session], timings: Timings) -> None:
        self._engine = engine
        self._held = HeldConnection(sessions)
        self._timings = timings

    @contextmanager
    def write(self) -> Iterator[Transaction]:
        began = time.perf_counter()
        try:
            with unavailable_on_pool_timeout(self._engine), self._held.transaction() as unit:
                yield unit
        finally:
            self._timings.observe("write", time.perf_counter() - began)

    def close(self) -> None:
        self._held.release()


def _passive_checkpoint(connection: PoolProxiedConnection) -> tuple[bool, int, int]:
    """Whether another checkpoint kept this one from running, the log's pages, and how
    many of them are in the database file."""
    cursor = connection.cursor()
    try:
        cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
        row = cursor.fetchone()
        assert row is not None  # the pragma always answers one row
        busy, log_pages, copied = row
    finally:
        cursor.close()
    return bool(busy), int(log_pages), int(copied)
