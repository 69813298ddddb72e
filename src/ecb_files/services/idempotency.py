"""Idempotent retries (§3.4): which answers are remembered, and when a key is let go.

A request with an ``Idempotency-Key`` claims it once its headers have passed (answers
decided from the headers alone are never remembered: they come out the same on a
retry). Its answer is then remembered if it is a 200 or a 4xx other than 408 and 413,
for 24 h; after anything else (5xx, 408, 413, a dropped connection) the key is let go
and a retry is served as new. While a request runs, its key is in flight under a lease
that a heartbeat thread of this process renews every third of the lease
(``ECB_FILES_IDEMPOTENCY_LEASE``, default 45 s): a process that dies stops renewing, so
its keys come free within the lease.
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import UTC, datetime, timedelta

from ecb_files.db import Database, Transaction
from ecb_files.db import idempotency as records
from ecb_files.db.idempotency import RecordKey, StoredAnswer
from ecb_files.errors import (
    EcbError,
    InvalidRequest,
    PayloadTooLarge,
    RequestInProgress,
    RequestTimeout,
)

log = logging.getLogger("ecb_files.idempotency")

IdempotencyScope = RecordKey
RememberedAnswer = StoredAnswer


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


def is_remembered(error: EcbError) -> bool:
    """A refusal whose answer a retry with the same key gets again."""
    return 400 <= error.status < 500 and not isinstance(error, (PayloadTooLarge, RequestTimeout))


class Idempotency:
    """This process's side of the shared records: claims, answers, releases, leases."""

    def __init__(self, database: Database, *, ttl_seconds: int, lease_seconds: int) -> None:
        self._database = database
        self._ttl = timedelta(seconds=ttl_seconds)
        self._lease = timedelta(seconds=lease_seconds)
        self.heartbeat_seconds = lease_seconds / 3
        self.owner = uuid.uuid4().hex
        self._heartbeat: threading.Thread | None = None
        self._heartbeat_lock = threading.Lock()
        self._stopped = threading.Event()

    def claim(self, scope: IdempotencyScope) -> RememberedAnswer | None:
        """Hold the key for this request, or return the answer already given for it.

        Raises ``RequestInProgress`` while another live request holds the key.
        """
        self._start_heartbeat()
        try:
            return records.claim(
                self._database,
                scope,
                owner=self.owner,
                now=utcnow(),
                lease=self._lease,
                ttl=self._ttl,
            )
        except records.Held:
            raise RequestInProgress(
                f"a request with Idempotency-Key '{scope.key}' is still in progress"
            ) from None

    def remember_in(self, unit: Transaction, scope: IdempotencyScope, answer: StoredAnswer) -> None:
        """Remember ``answer`` in the unit of work that commits what it reports.

        Raises ``RequestInProgress`` (rolling the unit back) when this process no longer
        holds the key: its lease ran out and another request took the key over, and
        committing both would store the files twice.
        """
        if not records.store_answer(unit, scope, self.owner, answer):
            raise RequestInProgress(
                f"a request with Idempotency-Key '{scope.key}' took over this one's key"
            )

    def remember(self, scope: IdempotencyScope, answer: StoredAnswer) -> None:
        with self._database.write() as unit:
            records.store_answer(unit, scope, self.owner, answer)

    def release(self, scope: IdempotencyScope) -> None:
        """Let the key go; if even that fails, its lease runs out instead."""
        try:
            with self._database.write() as unit:
                records.let_go(unit, scope, self.owner)
        except Exception:
            log.warning("could not release Idempotency-Key %r; its lease will run out", scope.key)

    def renew_leases(self) -> int:
        with self._database.write() as unit:
            return records.renew_leases(unit, self.owner, utcnow() + self._lease)

    def close(self) -> None:
        self._stopped.set()
        if self._heartbeat is not None:
            self._heartbeat.join(timeout=5)

    def _start_heartbeat(self) -> None:
        if self._heartbeat is not None:
            return
        with self._heartbeat_lock:
            if self._heartbeat is None:
                self._heartbeat = threading.Thread(
                    target=self._renew_until_closed, name="ecb-files leases", daemon=True
                )
                self._heartbeat.start()

    def _renew_until_closed(self) -> None:
        while not self._stopped.wait(self.heartbeat_seconds):
            try:
                self.renew_leases()
            except Exception:
                log.warning("could not renew idempotency leases; will retry", exc_info=True)


def utcnow() -> datetime:
    return datetime.now(UTC)
