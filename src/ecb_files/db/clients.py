"""OAuth clients for the token endpoint (§2): the client a request names, and
the client assertions already used (a replayed ``jti`` is refused in every process)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ecb_files.db.database import Transaction
from ecb_files.db.models import OAuthClient, UsedAssertion


def find_client(unit: Transaction, client_id: str) -> OAuthClient | None:
    """The client ``client_id`` (matched exactly), its registered keys loaded."""
    return unit.scalar(select(OAuthClient).where(OAuthClient.client_id == client_id))


def record_assertion_use(unit: Transaction, issuer: str, jti: str, keep_until: datetime) -> bool:
    """Remember that ``issuer`` used the assertion ``jti``; ``False`` when it already had.

    The primary key decides, so two processes given the same assertion at once accept
    it once. The row is inserted in a savepoint: a refused insert leaves the unit usable.
    """
    try:
        with unit.begin_nested():
            unit.add(UsedAssertion(issuer=issuer, jti=jti, expires_at=keep_until))
    except IntegrityError:
        return False
    return True
