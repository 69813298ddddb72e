"""The idempotency records: one per (client, endpoint, key), shared by every process.

A record is ``in_flight`` while a request holds its key, under a lease its owner renews,
and ``done`` with the answer afterwards until it expires. What is remembered and when a
key is let go are the use case's decisions (``services.idempotency``); this module only
reads and writes the records, under row locks, so concurrent processes agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, CursorResult, delete, update
from sqlalchemy.exc import IntegrityError

from ecb_files.db.database import Database, Transaction
from ecb_files.db.models import IdempotencyRecord

_CLAIM_ATTEMPTS = 3


@dataclass(frozen=True)
class RecordKey:
    client_id: str
    endpoint: str
    key: str


@dataclass(frozen=True)
class StoredAnswer:
    status: int
    body: bytes
    request_sha256: str


class Held(Exception):
    """Another live request holds the key (its lease has not run out)."""


def claim(
    database: Database,
    scope: RecordKey,
    *,
    owner: str,
    now: datetime,
    lease: timedelta,
    ttl: timedelta,
) -> StoredAnswer | None:
    """Mark the key in flight for ``owner``, or return the answer stored for it.

    Raises ``Held`` while another live request holds the key.
    """
    for _ in range(_CLAIM_ATTEMPTS):
        try:
            with database.write() as unit:
                return _claim(unit, scope, owner=owner, now=now, lease=lease, ttl=ttl)
        except IntegrityError:
            continue  # a concurrent first request inserted it; look again
    raise Held


def _claim(
    unit: Transaction,
    scope: RecordKey,
    *,
    owner: str,
    now: datetime,
    lease: timedelta,
    ttl: timedelta,
) -> StoredAnswer | None:
    record = unit.get(
        IdempotencyRecord, (scope.client_id, scope.endpoint, scope.key), with_for_update=True
    )
    if record is not None and record.expires_at > now:
        if record.state == "done":
            assert record.status_code is not None
            assert record.response_body is not None
            return StoredAnswer(
                record.status_code, record.response_body.encode(), record.request_sha256 or ""
            )
        if record.lease_until > now:
            raise Held
    if record is None:
        record = IdempotencyRecord(
            client_id=scope.client_id, endpoint=scope.endpoint, key=scope.key
        )
        unit.add(record)
    record.state = "in_flight"
    record.owner = owner
    record.lease_until = now + lease
    record.created_at = now
    record.expires_at = now + ttl
    record.request_sha256 = None
    record.status_code = None
    record.response_body = None
    unit.flush()
    return None


def store_answer(unit: Transaction, scope: RecordKey, owner: str, answer: StoredAnswer) -> bool:
    """The answer for ``owner``'s in-flight key, in the caller's unit of work; ``False``
    when ``owner`` no longer holds the key (its lease ran out and another took it)."""
    result = unit.execute(
        update(IdempotencyRecord)
        .where(*_held_by(scope, owner))
        .values(
            state="done",
            status_code=answer.status,
            response_body=answer.body.decode(),
            request_sha256=answer.request_sha256,
        )
    )
    assert isinstance(result, CursorResult)
    return int(result.rowcount) == 1


def let_go(unit: Transaction, scope: RecordKey, owner: str) -> None:
    """Forget ``owner``'s in-flight key: a retry is then served as new."""
    unit.execute(delete(IdempotencyRecord).where(*_held_by(scope, owner)))


def renew_leases(unit: Transaction, owner: str, until: datetime) -> int:
    """Extend the lease of every key ``owner`` holds; returns how many."""
    result = unit.execute(
        update(IdempotencyRecord)
        .where(IdempotencyRecord.owner == owner, IdempotencyRecord.state == "in_flight")
        .values(lease_until=until)
    )
    assert isinstance(result, CursorResult)
    return int(result.rowcount)


def _held_by(scope: RecordKey, owner: str) -> tuple[ColumnElement[bool], ...]:
    return (
        IdempotencyRecord.client_id == scope.client_id,
        IdempotencyRecord.endpoint == scope.endpoint,
        IdempotencyRecord.key == scope.key,
        IdempotencyRecord.owner == owner,
        IdempotencyRecord.state == "in_flight",
    )
