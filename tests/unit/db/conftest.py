"""Database fixtures (SQLite, and PostgreSQL when configured) from ``tests.db_support``."""

from tests.db_support import database, database_url, engine, factory, store, world

__all__ = ["database", "database_url", "engine", "factory", "store", "world"]
