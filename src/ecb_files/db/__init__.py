"""Persistence: SQLAlchemy 2 models, engine set-up, query modules and migrations.

Use cases hold a ``Database`` and open units of work on it (``write``, ``read``); the
query modules here take a unit and flush, never commit. SQLAlchemy is imported in this
package only, and its outages leave it as ``ecb_files.errors.DatabaseUnavailable``.
"""

from ecb_files.db.database import Database, ReadConnection, Transaction

__all__ = ["Database", "ReadConnection", "Transaction"]
