"""The server's token-signing keys as rows (§2): shared by every process."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, text

from ecb_files.db.database import Transaction
from ecb_files.db.models import SigningKey


def signing_keys(unit: Transaction) -> list[SigningKey]:
    """Every stored signing key, oldest first."""
    return list(unit.scalars(select(SigningKey).order_by(SigningKey.created_at)))


def has_signing_key(unit: Transaction) -> bool:
    return unit.scalar(select(SigningKey.kid).limit(1)) is not None


def add_first_signing_key(
    unit: Transaction, kid: str, private_pem: str, created_at: datetime
) -> bool:
    """Store this key unless some key is stored; ``True`` when it was stored.

    Processes starting together each make a key, and one is stored: on SQLite the write
    units are serialised already, on PostgreSQL the table lock (held to the end of the
    unit, and taken by no one else) makes the check and the insert one step.
    """
    if unit.get_bind().dialect.name == "postgresql":
        unit.execute(text("LOCK TABLE signing_keys IN SHARE ROW EXCLUSIVE MODE"))
    if has_signing_key(unit):
        return False
    add_signing_key(unit, kid, private_pem, created_at)
    return True


def add_signing_key(unit: Transaction, kid: str, private_pem: str, created_at: datetime) -> None:
    unit.add(SigningKey(kid=kid, private_pem=private_pem, created_at=created_at, retired_at=None))
    unit.flush()


def retire_signing_key(unit: Transaction, key: SigningKey, at: datetime) -> None:
    """Stop signing with ``key`` from ``at``; it stays published."""
    key.retired_at = at
    unit.flush()


def drop_signing_key(unit: Transaction, key: SigningKey) -> None:
    unit.delete(key)
    unit.flush()
