"""Many rows of one table in one ``INSERT … VALUES (…), (…)`` on the driver, for the
group commit's hot path.

SQLAlchemy's own forms cost the commit thread: ``executemany`` steps SQLite once per
row, and every step hands the interpreter over to the event loop and waits to get it
back; its multi-row ``insertmanyvalues`` renders the statement's text anew and
processes the parameters through the compiled statement on every call. Here the text
is made once per table, dialect and row count, and each value goes through its
column's own bind processor (the conversion SQLAlchemy applies: a UUID to SQLite's
hex text, an aware UTC time to a naive one): the rows land exactly as an ORM insert
would store them (tests/unit/db/test_db_bulk_insert.py reads them back through the
models). Columns with defaults are not supported: every row names every column.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.engine import Dialect

from ecb_files.db import driver
from ecb_files.db.base import Base

# SQLite before 3.32 takes at most 999 parameters in one statement; kept for any driver.
MAX_PARAMETERS = 999

_Processor = Callable[[Any], Any] | None


class BulkInsert:
    """Inserts rows (mappings of every column's key to its value) into ``model``'s table."""

    def __init__(self, model: type[Base]) -> None:
        table = model.__table__
        assert isinstance(table, Table)
        self._table = table
        self._keys = [column.key for column in table.columns]
        self._rows_per_statement = max(1, MAX_PARAMETERS // len(self._keys))
        self._processors: dict[str, list[_Processor]] = {}
        self._texts: dict[tuple[str, int], str] = {}

    def execute(self, connection: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        dialect = connection.dialect
        processors = self._processors_for(dialect)
        keyed = list(zip(self._keys, processors, strict=True))
        step = self._rows_per_statement
        for start in range(0, len(rows), step):
            chunk = rows[start : start + step]
            values = [
                value if (value := row[key]) is None or process is None else process(value)
                for row in chunk
                for key, process in keyed
            ]
            driver.run(connection, self._text(dialect, len(chunk)), values)

    def _processors_for(self, dialect: Dialect) -> list[_Processor]:
        found = self._processors.get(dialect.name)
        if found is None:
            found = [
                column.type.dialect_impl(dialect).bind_processor(dialect)
                for column in self._table.columns
            ]
            self._processors[dialect.name] = found
        return found

    def _text(self, dialect: Dialect, rows: int) -> str:
        text = self._texts.get((dialect.name, rows))
        if text is None:
            quoting = dialect.identifier_preparer
            names = ", ".join(quoting.quote(column.name) for column in self._table.columns)
            marker = "?" if dialect.paramstyle == "qmark" else "%s"
            one_row = "(" + ", ".join([marker] * len(self._keys)) + ")"
            # Names from the models and markers only: every value is a bound parameter.
            into = f"INSERT INTO {quoting.format_table(self._table)} ({names}) VALUES "  # noqa: S608
            text = into + ", ".join([one_row] * rows)
            self._texts[(dialect.name, rows)] = text
        return text
