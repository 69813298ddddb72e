"""Statements run on the driver's own cursor, inside SQLAlchemy's transaction: for the
group commit's hot path.

Through ``Connection.execute`` a statement costs tens of microseconds of SQLAlchemy
(execution context, result objects, events) around the driver's few; on the one thread
that commits for a whole process, sharing the interpreter with the event loop, that was
most of the thread's time (bench/README.md). Here a statement is compiled once per
dialect; its values go through the bind processors of their types and its columns
through their result processors, the conversions SQLAlchemy applies. A driver error is
handed to SQLAlchemy's own handling, so it is wrapped, a lost connection invalidated,
and an outage translated by ``errors`` exactly as for any other statement; listeners of
the cursor events are called as for any other statement too.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Select
from sqlalchemy.engine import Dialect

Row = tuple[Any, ...]
_Processor = Callable[[Any], Any] | None


def run(
    connection: Connection, statement: str, parameters: Sequence[Any] | Mapping[str, Any]
) -> list[Row]:
    """``statement`` on the driver's cursor of ``connection``, in a transaction (begun
    here if none is, as ``Connection.execute`` does); its rows, if it has any."""
    if not connection.in_transaction():
        connection.begin()
    return execute(connection, statement, parameters)


def execute(
    connection: Connection, statement: str, parameters: Sequence[Any] | Mapping[str, Any] = ()
) -> list[Row]:
    """``run`` without beginning a transaction: for the statement that begins one."""
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    # Listeners of the engine's cursor events see these statements as any others.
    listened = connection._has_events or connection.engine._has_events
    if listened:
        for before in connection.dispatch.before_cursor_execute:
            statement, parameters = before(connection, cursor, statement, parameters, None, False)
    try:
        cursor.execute(statement, parameters)
        rows: list[Row] = list(cursor.fetchall()) if cursor.description else []
    except connection.dialect.loaded_dbapi.Error as error:
        # SQLAlchemy's handling of any statement's driver error: wrap, invalidate, events.
        connection._handle_dbapi_exception(error, statement, parameters, cursor, None)
    if listened:
        for after in connection.dispatch.after_cursor_execute:
            after(connection, cursor, statement, parameters, None, False)
    cursor.close()
    return rows


class DriverSelect:
    """A Core ``SELECT`` compiled once per dialect and run by ``run``."""

    def __init__(self, select: Select[*tuple[Any, ...]]) -> None:
        self._select = select
        self._compiled: dict[str, _Compiled] = {}

    def rows(self, connection: Connection, parameters: Mapping[str, Any]) -> list[Row]:
        """The rows of the select with its bound parameters set from ``parameters``."""
        compiled = self._compiled.get(connection.dialect.name)
        if compiled is None:
            compiled = _Compiled(self._select, connection.dialect)
            self._compiled[connection.dialect.name] = compiled
        raw = run(connection, compiled.text, compiled.values(parameters))
        return [compiled.converted(row) for row in raw]


class _Compiled:
    def __init__(self, select: Select[*tuple[Any, ...]], dialect: Dialect) -> None:
        compiled = select.compile(dialect=dialect)
        self.text = compiled.string
        # The parameters in the order the driver takes them, each with its conversion.
        names = compiled.positiontup
        if names is None:  # a named paramstyle: the order of first appearance
            names = list(dict.fromkeys(compiled.binds))
        self._named = dialect.paramstyle in ("named", "pyformat")
        self._binds = [
            (name, compiled.binds[name].type.dialect_impl(dialect).bind_processor(dialect))
            for name in names
        ]
        self._results = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in select.selected_columns
        ]

    def values(self, parameters: Mapping[str, Any]) -> Any:
        converted = [
            (
                name,
                value if (value := parameters[name]) is None or process is None else process(value),
            )
            for name, process in self._binds
        ]
        if self._named:
            return dict(converted)
        return tuple(value for _, value in converted)

    def converted(self, row: Row) -> Row:
        return tuple(
            value if value is None or process is None else process(value)
            for value, process in zip(row, self._results, strict=True)
        )
