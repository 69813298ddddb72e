"""Idempotent retries (§3.4): one record per (client, endpoint, key), shared by all processes.

A record is ``in_flight`` from the moment a request's headers arrive until its answer is
known, then ``done`` with the answer for 24 h. An in-flight record holds a lease that
its process renews every third of the lease (``ECB_FILES_IDEMPOTENCY_LEASE``, default
45 s); a process that dies stops renewing, so its keys are free again within the lease.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, delete, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ecb_files.db import models
from ecb_files.db.session import transaction
from ecb_files.errors import InvalidRequest, RequestInProgress

_CLAIM_ATTEMPTS = 3


def parse_idempotency_key(raw: str | None, max_chars: int) -> str | None:
    """The key of an ``Idempotency-Key`` header, bare or as a structured-field string."""
    if raw is None:
        return None
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        value = value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    if not value:
        raise InvalidRequest("Idempotency-Key: must not be empty")
    if len(value) > max_chars:
        raise InvalidRequest(f"Idempotency-Key: longer than {max_chars} characters")
    if not all("\x21" <= ch <= "\x7e" for ch in value):
        raise InvalidRequest("Idempotency-Key: only visible ASCII characters are allowed")
    return value


@dataclass(frozen=True)
class IdempotencyScope:
    client_id: str
    endpoint: str
    key: str


@dataclass(frozen=True)
class RememberedAnswer:
    status: int
    body: bytes
    request_sha256: str


class IdempotencyStore:
    def __init__(
        self, factory: sessionmaker[Session], *, ttl_seconds: int, lease_seconds: int
    ) -> None:
        self._factory = factory
        self._ttl = timedelta(seconds=ttl_seconds)
        self._lease = timedelta(seconds=lease_seconds)
        self.heartbeat_seconds = lease_seconds / 3
        self.owner = uuid.uuid4().hex

    def claim(self, scope: IdempotencyScope, now: datetime) -> RememberedAnswer | None:
        """Mark the key in flight for this process, or return the answer already given.

        Raises ``RequestInProgress`` while another live request holds the key.
        """
        for _ in range(_CLAIM_ATTEMPTS):
            try:
                with transaction(self._factory) as session:
                    return self._claim(session, scope, now)
            except IntegrityError:
                continue  # a concurrent first request inserted it; look again
        raise RequestInProgress(f"a request with Idempotency-Key '{scope.key}' is in progress")

    def _claim(
        self, session: Session, scope: IdempotencyScope, now: datetime
    ) -> RememberedAnswer | None:
        record = session.get(
            models.IdempotencyRecord,
            (scope.client_id, scope.endpoint, scope.key),
            with_for_update=True,
        )
        if record is not None and record.expires_at > now:
            if record.state == "done":
                assert record.status_code is not None
                assert record.response_body is not None
                return RememberedAnswer(
                    record.status_code,
                    record.response_body.encode(),
                    record.request_sha256 or "",
                )
            if record.lease_until > now:
                raise RequestInProgress(
                    f"a request with Idempotency-Key '{scope.key}' is still in progress"
                )
        if record is None:
            record = models.IdempotencyRecord(
                client_id=scope.client_id, endpoint=scope.endpoint, key=scope.key
            )
            session.add(record)
        record.state = "in_flight"
        record.owner = self.owner
        record.lease_until = now + self._lease
        record.created_at = now
        record.expires_at = now + self._ttl
        record.request_sha256 = None
        record.status_code = None
        record.response_body = None
        session.flush()
        return None

    def record_answer(
        self,
        session: Session,
        scope: IdempotencyScope,
        *,
        status: int,
        body: bytes,
        request_sha256: str,
    ) -> None:
        """Store the answer in the caller's transaction (the one that commits the files)."""
        session.execute(
            update(models.IdempotencyRecord)
            .where(*self._ours(scope))
            .values(
                state="done",
                status_code=status,
                response_body=body.decode(),
                request_sha256=request_sha256,
            )
        )

    def remember(
        self, scope: IdempotencyScope, *, status: int, body: bytes, request_sha256: str
    ) -> None:
        with transaction(self._factory) as session:
            self.record_answer(
                session, scope, status=status, body=body, request_sha256=request_sha256
            )

    def release(self, scope: IdempotencyScope) -> None:
        """Forget an in-flight key whose answer is not to be remembered (5xx, dropped)."""
        with transaction(self._factory) as session:
            session.execute(delete(models.IdempotencyRecord).where(*self._ours(scope)))

    def renew_leases(self, now: datetime) -> int:
        with transaction(self._factory) as session:
            result = session.execute(
                update(models.IdempotencyRecord)
                .where(
                    models.IdempotencyRecord.owner == self.owner,
                    models.IdempotencyRecord.state == "in_flight",
                )
                .values(lease_until=now + self._lease)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def _ours(self, scope: IdempotencyScope) -> tuple[ColumnElement[bool], ...]:
        table = models.IdempotencyRecord
        return (
            table.client_id == scope.client_id,
            table.endpoint == scope.endpoint,
            table.key == scope.key,
            table.owner == self.owner,
            table.state == "in_flight",
        )


def utcnow() -> datetime:
    return datetime.now(UTC)
