"""The idempotency records (``ecb_files.db.idempotency``): claim, answer, let go, leases —
on SQLite, and on PostgreSQL when ``ECB_FILES_TEST_POSTGRES_URL`` is set (§3.4 idempotent
retries, §6 "every shared state … lives in the database")."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from ecb_files.db import Database, models
from ecb_files.db.idempotency import (
    Held,
    RecordKey,
    StoredAnswer,
    claim,
    let_go,
    renew_leases,
    store_answer,
)

SCOPE = RecordKey("aage-backend", "submitForCase", "key-1")
LEASE = timedelta(seconds=45)
TTL = timedelta(hours=24)
T0 = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
ANSWER = StoredAnswer(200, b'{"success": true, "payload": {"files": []}}', "ab" * 32)


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    database = Database.open(database_url)
    yield database
    database.close()


def take(
    database: Database, scope: RecordKey = SCOPE, *, owner: str = "p1", now: datetime = T0
) -> StoredAnswer | None:
    return claim(database, scope, owner=owner, now=now, lease=LEASE, ttl=TTL)


def record(database: Database, scope: RecordKey = SCOPE) -> models.IdempotencyRecord | None:
    with database.read() as unit:
        found = unit.get(models.IdempotencyRecord, (scope.client_id, scope.endpoint, scope.key))
        if found is not None:
            unit.expunge(found)
        return found


def answer(database: Database, scope: RecordKey = SCOPE, *, owner: str = "p1") -> None:
    with database.write() as unit:
        store_answer(unit, scope, owner, ANSWER)


# --- claim --------------------------------------------------------------------------------


def test_a_new_key_is_claimed_in_flight_under_a_lease(database: Database) -> None:
    """§3.4: a request is in flight from the moment it claims its key; the lease and the
    24 h lifetime start then."""
    assert take(database) is None
    found = record(database)
    assert found is not None
    assert (found.state, found.owner) == ("in_flight", "p1")
    assert found.lease_until == T0 + LEASE
    assert found.created_at == T0
    assert found.expires_at == T0 + TTL
    assert found.status_code is None


@pytest.mark.parametrize("owner", ["p2", "p1"], ids=["another-process", "the-same-process"])
def test_a_key_in_flight_under_a_live_lease_is_held(database: Database, owner: str) -> None:
    """§3.4 "while the first is still in flight → 409": any second claim, from any
    process, is refused while the lease lasts."""
    take(database)
    with pytest.raises(Held):
        take(database, owner=owner, now=T0 + LEASE - timedelta(seconds=1))
    found = record(database)
    assert found is not None
    assert (found.owner, found.lease_until) == ("p1", T0 + LEASE)


def test_an_expired_lease_is_taken_over(database: Database) -> None:
    """§3.4: if the process holding a key dies, its lease runs out and a retry is then
    served as new, under the new process's lease."""
    take(database)
    later = T0 + LEASE + timedelta(seconds=1)
    assert take(database, owner="p2", now=later) is None
    found = record(database)
    assert found is not None
    assert (found.state, found.owner, found.lease_until) == ("in_flight", "p2", later + LEASE)


def test_a_stored_answer_is_returned_to_the_next_claim(database: Database) -> None:
    """§3.4: a retry gets the first answer (status, body, and the body's SHA-256 to
    compare with), long after the lease ran out."""
    take(database)
    answer(database)
    found = take(database, owner="p2", now=T0 + TTL - timedelta(seconds=1))
    assert found == ANSWER
    kept = record(database)
    assert kept is not None
    assert (kept.state, kept.owner) == ("done", "p1")


def test_a_done_record_past_its_ttl_is_treated_as_new(database: Database) -> None:
    """§3.4 "within 24 h": after the TTL the key is claimed afresh, its answer forgotten."""
    take(database)
    answer(database)
    later = T0 + TTL + timedelta(seconds=1)
    assert take(database, owner="p2", now=later) is None
    found = record(database)
    assert found is not None
    assert (found.state, found.owner, found.status_code) == ("in_flight", "p2", None)
    assert found.response_body is None
    assert found.request_sha256 is None
    assert found.expires_at == later + TTL


def test_keys_are_scoped_per_client_and_endpoint(database: Database) -> None:
    """§9: the same key of another client or on another endpoint is another record."""
    take(database)
    answer(database)
    for scope in (
        RecordKey("other-client", SCOPE.endpoint, SCOPE.key),
        RecordKey(SCOPE.client_id, "submitForDamageNotification", SCOPE.key),
    ):
        assert take(database, scope) is None


def test_concurrent_first_claims_let_exactly_one_through(database: Database) -> None:
    """§6 scale-out: processes racing to insert the same new key agree: one holds it,
    the others see it held."""
    contenders = 6
    start = threading.Barrier(contenders)
    outcomes: list[str] = []
    lock = threading.Lock()

    def contend(owner: str) -> None:
        start.wait()
        try:
            take(database, owner=owner)
            outcome = "claimed"
        except Held:
            outcome = "held"
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=contend, args=(f"p{i}",)) for i in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(outcomes) == ["claimed"] + ["held"] * (contenders - 1)


# --- store_answer -------------------------------------------------------------------------


def test_an_answer_is_stored_in_the_callers_unit_of_work(database: Database) -> None:
    """§3.4 "committed in the same transaction as the files": if the unit rolls back,
    the answer is not stored and the key stays in flight."""
    take(database)

    def answer_then_fail() -> None:
        with database.write() as unit:
            store_answer(unit, SCOPE, "p1", ANSWER)
            raise RuntimeError("the files could not be committed")

    with pytest.raises(RuntimeError):
        answer_then_fail()
    found = record(database)
    assert found is not None
    assert found.state == "in_flight"


def test_only_the_holder_stores_an_answer(database: Database) -> None:
    """A process whose lease was taken over cannot overwrite the new holder's record."""
    take(database)
    answer(database, owner="p2")
    found = record(database)
    assert found is not None
    assert (found.state, found.owner) == ("in_flight", "p1")


# --- let_go -------------------------------------------------------------------------------


def test_let_go_frees_the_key(database: Database) -> None:
    """§3.4: after a 5xx, 408 or 413 the key is let go and a retry is served as new."""
    take(database)
    with database.write() as unit:
        let_go(unit, SCOPE, "p1")
    assert record(database) is None
    assert take(database, owner="p2") is None


def test_let_go_by_another_owner_changes_nothing(database: Database) -> None:
    """A process cannot free a key that another process now holds."""
    take(database)
    with database.write() as unit:
        let_go(unit, SCOPE, "p2")
    with pytest.raises(Held):
        take(database, owner="p3")


def test_let_go_keeps_a_stored_answer(database: Database) -> None:
    """A remembered answer is never let go: only an in-flight record is."""
    take(database)
    answer(database)
    with database.write() as unit:
        let_go(unit, SCOPE, "p1")
    assert take(database, owner="p2") == ANSWER


# --- renew_leases -------------------------------------------------------------------------


def test_renew_leases_extends_the_owners_keys_in_flight_only(database: Database) -> None:
    """§3.4: a live process keeps its keys; another process's keys and answered keys are
    not touched."""
    mine = [RecordKey("c", "submitForCase", f"mine-{i}") for i in range(3)]
    theirs = RecordKey("c", "submitForCase", "theirs")
    done = RecordKey("c", "submitForCase", "done")
    for scope in mine:
        take(database, scope)
    take(database, theirs, owner="p2")
    take(database, done)
    answer(database, done)
    until = T0 + timedelta(minutes=10)
    with database.write() as unit:
        assert renew_leases(unit, "p1", until) == 3
    for scope in mine:
        found = record(database, scope)
        assert found is not None
        assert found.lease_until == until
    other, answered = record(database, theirs), record(database, done)
    assert other is not None
    assert answered is not None
    assert other.lease_until == T0 + LEASE
    assert answered.lease_until == T0 + LEASE


def test_a_renewed_lease_is_not_taken_over(database: Database) -> None:
    """§3.4: a key whose lease its owner renews stays in flight past the first lease."""
    take(database)
    with database.write() as unit:
        renew_leases(unit, "p1", T0 + 2 * LEASE)
    with pytest.raises(Held):
        take(database, owner="p2", now=T0 + LEASE + timedelta(seconds=1))


def test_renew_leases_without_keys_renews_nothing(database: Database) -> None:
    with database.write() as unit:
        assert renew_leases(unit, "p1", T0) == 0
