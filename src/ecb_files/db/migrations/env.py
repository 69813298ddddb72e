"""Alembic environment: migrates over the connection ``ecb_files.db.migrate`` hands in.

Run by ``ecb_files.db.migrate.upgrade``, which builds the Alembic ``Config`` in code and
passes an open connection in ``config.attributes["connection"]``. Without one (a
developer running ``alembic`` by hand, e.g. to autogenerate a revision) the database of
``sqlalchemy.url`` or, failing that, of the ``ECB_FILES_*`` environment is used.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from alembic import context
from sqlalchemy.engine import Connection

from ecb_files.config import Settings
from ecb_files.db import models  # noqa: F401  (registers every table on Base.metadata)
from ecb_files.db.base import Base
from ecb_files.db.session import make_engine


def _run(connection: Connection) -> None:
    is_sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds tables instead.
        render_as_batch=is_sqlite,
        # Our SQLite engine opens real transactions (BEGIN IMMEDIATE), so DDL is
        # transactional there too: a failed migration leaves nothing half-done.
        transactional_ddl=True,
        compare_type=True,
    )
    with _foreign_keys_off_on_sqlite(connection), context.begin_transaction():
        context.run_migrations()
        if is_sqlite:
            _check_foreign_keys(connection)


@contextmanager
def _foreign_keys_off_on_sqlite(connection: Connection) -> Iterator[None]:
    """SQLite's own procedure for a table rebuild (batch mode): with foreign keys
    enforced, dropping a table that others refer to fails, so enforcement is off while
    the migration runs (the pragma only takes effect outside a transaction) and the
    references are checked before the commit instead (``_check_foreign_keys``)."""
    if connection.dialect.name != "sqlite" or connection.in_transaction():
        yield
        return
    raw = connection.connection.driver_connection
    assert raw is not None
    raw.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        raw.execute("PRAGMA foreign_keys = ON")


def _check_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"the migration left rows whose references are broken: {broken[:5]}")


def _main() -> None:
    given = context.config.attributes.get("connection")
    if isinstance(given, Connection):
        _run(given)
        return
    url = context.config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


_main()
