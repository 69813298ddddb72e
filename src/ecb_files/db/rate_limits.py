"""The §12.2 rate limits as rows, shared by every process of a deployment: each
client's buckets (``RateBucket``) and the token endpoint's failed authentications
(``AuthFailure``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from ecb_files.db.database import Transaction
from ecb_files.db.models import AuthFailure, RateBucket


def bucket_tat(unit: Transaction, key: str) -> int | None:
    """The bucket's theoretical arrival time (ns), ``None`` for a bucket never used."""
    return unit.scalar(select(RateBucket.tat_ns).where(RateBucket.key == key))


def swap_bucket_tat(unit: Transaction, key: str, seen: int | None, tat_ns: int) -> bool:
    """Set the bucket's time to ``tat_ns`` if it is still ``seen`` (compare and swap);
    ``False`` when another process changed it first (read it again and retry)."""
    if seen is None:
        # A first use: insert, unless another process just did (then it is a conflict).
        dialect = unit.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert(RateBucket)
            .values(key=key, tat_ns=tat_ns)
            .on_conflict_do_nothing(index_elements=[RateBucket.key])
            .returning(RateBucket.key)
        )
        # RETURNING, not rowcount: drivers disagree on an upsert's rowcount.
        return unit.execute(statement).scalar() is not None
    changed = unit.execute(
        update(RateBucket)
        .where(RateBucket.key == key, RateBucket.tat_ns == seen)
        .values(tat_ns=tat_ns)
    )
    assert isinstance(changed, CursorResult)
    return int(changed.rowcount) == 1


def add_auth_failure(
    unit: Transaction, address: str, client_sha256: str | None, at: datetime
) -> None:
    unit.add(AuthFailure(address=address, client_sha256=client_sha256, failed_at=at))
    unit.flush()


def auth_failure_times(
    unit: Transaction,
    address: str,
    since: datetime,
    *,
    client_sha256: str | None = None,
    newest: int,
) -> list[datetime]:
    """The ``newest`` latest failures from ``address`` after ``since`` (of one client
    when ``client_sha256`` is given), newest first."""
    query = select(AuthFailure.failed_at).where(
        AuthFailure.address == address, AuthFailure.failed_at > since
    )
    if client_sha256 is not None:
        query = query.where(AuthFailure.client_sha256 == client_sha256)
    return list(unit.scalars(query.order_by(AuthFailure.failed_at.desc()).limit(newest)))


def drop_auth_failures_before(unit: Transaction, before: datetime) -> None:
    """Forget the failures too old to count, of every address."""
    unit.execute(delete(AuthFailure).where(AuthFailure.failed_at <= before))
