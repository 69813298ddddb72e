"""Engine and session setup: SQLite durability and locking, PostgreSQL URLs, transactions."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from ecb_files.db import models
from ecb_files.db.migrate import upgrade
from ecb_files.db.session import (
    make_engine,
    make_session_factory,
    safe_url,
    sqlite_path,
    transaction,
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


def test_transaction_commits_on_success(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:
        session.add(models.InsuranceCompany(alias="a", name="A"))
    with transaction(factory) as session:
        assert session.scalar(select(models.InsuranceCompany.alias)) == "a"


def test_transaction_rolls_back_on_error(factory: sessionmaker[Session]) -> None:
    def fail_after_writing() -> None:
        with transaction(factory) as session:
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
