"""Alembic migrations of the schema, run by ``ecb_files.db.migrate.upgrade`` (no alembic.ini)."""
