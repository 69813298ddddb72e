"""Persistence: SQLAlchemy 2 models, engine/session setup, queries and migrations.

Queries flush and never commit; the use cases in ``ecb_files.services`` own the
transaction (``ecb_files.db.session.transaction``).
"""
