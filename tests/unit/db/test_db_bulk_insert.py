"""Rows inserted in one statement on the driver (db/bulk_insert.py) are stored exactly as
the ORM stores them (§3.2 step 4), on SQLite and PostgreSQL, however many there are."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session, sessionmaker
from tests.db_support import World, file_for, submission_for

from ecb_files.db import bulk_insert, models
from ecb_files.db.bulk_insert import MAX_PARAMETERS, BulkInsert
from ecb_files.db.driver import run
from ecb_files.db.session import transaction

NOW = datetime(2026, 12, 6, 1, 2, 3, 456789, tzinfo=UTC)


def submission(world: World, **overrides: Any) -> dict[str, Any]:
    return submission_for(world, created_at=NOW, **overrides)


def file_of(parent: dict[str, Any], number: int) -> dict[str, Any]:
    """Files that differ in every column that can: NULLs, flags, times."""
    return file_for(parent, f"ø-{number}.jpg", f"file {number}".encode()) | {
        "description": None if number % 2 else f"described {number}",
        "is_restricted": number % 3 == 0,
        "is_damage_image": number % 3 == 1,
        "created_at": NOW + timedelta(microseconds=number),
    }


def as_stored(row: object, keys: list[str]) -> dict[str, Any]:
    return {key: getattr(row, key) for key in keys}


def test_rows_read_back_through_the_models_as_they_were_given(
    factory: sessionmaker[Session], world: World
) -> None:
    """UUIDs, aware UTC times to the microsecond, booleans, NULLs, text and bytes."""
    parent = submission(world, timestamp="2026-12-06", idempotency_key=None)
    files = [file_of(parent, number) for number in range(4)]
    contents = [{"blob_id": row["blob_id"], "content": bytes(range(256))} for row in files]
    with transaction(factory) as session:
        connection = session.connection()
        BulkInsert(models.Submission).execute(connection, [parent])
        BulkInsert(models.StoredFile).execute(connection, files)
        BulkInsert(models.SmallFileContent).execute(connection, contents)
    with transaction(factory) as session:
        stored = session.get(models.Submission, parent["id"])
        assert stored is not None
        assert as_stored(stored, list(parent)) == parent
        rows = session.scalars(select(models.StoredFile).order_by(models.StoredFile.created_at))
        assert [as_stored(row, list(files[0])) for row in rows] == files
        kept = session.scalars(select(models.SmallFileContent)).all()
        assert {row.blob_id: row.content for row in kept} == {
            row["blob_id"]: row["content"] for row in contents
        }


def test_more_rows_than_one_statement_may_bind_take_several_statements(
    factory: sessionmaker[Session], world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch of many files is split so that no statement binds more than
    MAX_PARAMETERS values, and every row is stored."""
    parent = submission(world)
    columns = len(models.StoredFile.__table__.columns)
    per_statement = MAX_PARAMETERS // columns
    files = [file_of(parent, number) for number in range(2 * per_statement + 1)]
    sent: list[int] = []

    def counted(connection: Connection, statement: str, parameters: Sequence[Any]) -> Any:
        if statement.startswith("INSERT INTO files"):
            sent.append(len(parameters))
        return run(connection, statement, parameters)

    monkeypatch.setattr(bulk_insert.driver, "run", counted)
    with transaction(factory) as session:
        connection = session.connection()
        BulkInsert(models.Submission).execute(connection, [parent])
        BulkInsert(models.StoredFile).execute(connection, files)
    monkeypatch.undo()
    assert sent == [per_statement * columns, per_statement * columns, columns]
    with transaction(factory) as session:
        stored = set(session.scalars(select(models.StoredFile.id)))
    assert stored == {row["id"] for row in files}
