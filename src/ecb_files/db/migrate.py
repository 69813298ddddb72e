"""Bring a database to the newest schema, safely when several processes start at once.

Every command and every server process calls ``upgrade`` first, so a fresh data dir
just works. Two processes starting together must not both create the tables: on SQLite
they take an exclusive lock on a file beside the database, on PostgreSQL a session-level
advisory lock; the second one then finds the schema current and does nothing.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection

from ecb_files.db.session import make_engine, sqlite_path

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# Any fixed 64-bit number shared by every ecb-files process; spells "ecbfiles".
POSTGRES_LOCK_KEY = 0x6563_6266_696C_6573


def alembic_config(connection: Connection | None = None) -> Config:
    """The Alembic configuration, built in code: no ``alembic.ini`` is needed at run time."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the migrations directory has no revision"
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine_or_url: Engine | str) -> None:
    """Apply every pending migration; a no-op on a current database.

    Raises ``DatabaseUnavailable`` (translated by the engine, ``db.errors``) when the
    database cannot be reached or opened.
    """
    if isinstance(engine_or_url, str):
        engine = make_engine(engine_or_url)
        try:
            _upgrade(engine)
        finally:
            engine.dispose()
    else:
        _upgrade(engine_or_url)


def _upgrade(engine: Engine) -> None:
    with _file_lock(sqlite_path(engine.url)), engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            _upgrade_holding_advisory_lock(connection)
        else:
            command.upgrade(alembic_config(connection), "head")


def _upgrade_holding_advisory_lock(connection: Connection) -> None:
    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": POSTGRES_LOCK_KEY})
    # A session-level lock outlives this commit; Alembic then runs its own transaction.
    connection.commit()
    try:
        command.upgrade(alembic_config(connection), "head")
    finally:
        connection.rollback()
        connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": POSTGRES_LOCK_KEY})
        connection.commit()


@contextmanager
def _file_lock(database: Path | None) -> Iterator[None]:
    if database is None:
        yield
        return
    database.parent.mkdir(parents=True, exist_ok=True)
    # A separate file: locking the database file itself and closing that descriptor
    # would drop SQLite's own POSIX locks held by this process.
    lock_path = database.with_name(database.name + ".migrate-lock")
    with lock_path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
