"""Statements on the driver's cursor (db/driver.py), on SQLite and PostgreSQL: the values
SQLAlchemy would give, its errors, its outage translation (§3.2) and its cursor events."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, bindparam, event, exc, select, text
from tests.db_support import COMPANY_ALIAS, OPEN_CASE, OPEN_DN, World

from ecb_files.db import driver, models
from ecb_files.errors import DatabaseUnavailable

CASE = select(
    models.Case.id, models.Case.company_id, models.Case.status, models.Case.created_at
).where(models.Case.id == bindparam("case_id"))


def test_a_select_gives_the_values_sqlalchemy_gives(engine: Engine, world: World) -> None:
    """UUIDs, integers, text and aware times come back converted by their column types."""
    parameters = {"case_id": OPEN_CASE}
    with engine.connect() as connection:
        expected = [tuple(row) for row in connection.execute(CASE, parameters)]
        rows = driver.DriverSelect(CASE).rows(connection, parameters)
    assert rows == expected
    assert rows[0][0] == OPEN_CASE
    assert rows[0][3].tzinfo is not None


def test_a_select_without_rows_gives_an_empty_list(engine: Engine, world: World) -> None:
    parameters = {"case_id": OPEN_DN}  # not a case's id
    with engine.connect() as connection:
        assert driver.DriverSelect(CASE).rows(connection, parameters) == []


def test_a_statement_outside_a_transaction_begins_one(engine: Engine) -> None:
    values = {"alias": "rolled-back", "name": "Rolled back"}
    insert = compiled_insert(engine, values)
    with engine.connect() as connection:
        driver.run(connection, insert.string, driver_parameters(engine, insert, values))
        assert connection.in_transaction()
        connection.rollback()
    with engine.connect() as connection:
        found = connection.execute(select(models.InsuranceCompany.alias)).scalars().all()
    assert "rolled-back" not in found


def test_a_constraint_violation_is_sqlalchemys_error(engine: Engine, world: World) -> None:
    """Not an outage: it passes through as the IntegrityError any statement raises."""
    values = {"alias": COMPANY_ALIAS, "name": "Twice"}
    insert = compiled_insert(engine, values)
    with engine.connect() as connection, pytest.raises(exc.IntegrityError):
        driver.run(connection, insert.string, driver_parameters(engine, insert, values))


def test_listeners_of_cursor_events_see_the_statement(engine: Engine) -> None:
    seen: list[str] = []

    def before(*args: Any) -> None:
        seen.append(args[2])

    event.listen(engine, "before_cursor_execute", before)
    try:
        with engine.connect() as connection:
            driver.run(connection, "SELECT 1", ())
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert seen[-1] == "SELECT 1"  # after SQLite's BEGIN IMMEDIATE


def test_a_lost_connection_is_database_unavailable(engine: Engine) -> None:
    """§3.2: the server ends the session under a statement; the caller sees the
    project's outage error, and the pool's next connection works."""
    if engine.dialect.name != "postgresql":
        pytest.skip("only a server can end a session from outside")
    with engine.connect() as victim:
        pid = victim.execute(text("SELECT pg_backend_pid()")).scalar_one()
        victim.rollback()
        with engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            other.commit()
        with pytest.raises(DatabaseUnavailable):
            driver.run(victim, "SELECT 1", ())
        assert victim.invalidated
    with engine.connect() as connection:
        assert driver.run(connection, "SELECT 1", ()) == [(1,)]


def compiled_insert(engine: Engine, values: dict[str, Any]) -> Any:
    return models.InsuranceCompany.__table__.insert().compile(
        dialect=engine.dialect, column_keys=list(values)
    )


def driver_parameters(engine: Engine, compiled: Any, values: dict[str, Any]) -> Any:
    """``values`` in the compiled insert's paramstyle (positional for SQLite)."""
    names = compiled.positiontup
    if engine.dialect.paramstyle in ("named", "pyformat"):
        return {name: values.get(name) for name in compiled.binds}
    return tuple(values.get(name) for name in names)
