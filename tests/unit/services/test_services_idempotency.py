"""``ecb_files.services.idempotency``: the Idempotency-Key header, which answers are
remembered, and this process's claims, answers, releases and lease heartbeat (§3.4, §9)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from ecb_files.db import Database, models
from ecb_files.errors import (
    ClaimIsClosed,
    ClaimNotFound,
    DatabaseUnavailable,
    EcbError,
    GenericError,
    IdempotencyKeyReused,
    InvalidRequest,
    InvalidSecurityToken,
    PayloadTooLarge,
    RequestInProgress,
    RequestTimeout,
    StorageFull,
    StorageUnavailable,
    UnsupportedMediaType,
    UserNotFound,
)
from ecb_files.services import idempotency as module
from ecb_files.services.idempotency import (
    Idempotency,
    IdempotencyScope,
    RememberedAnswer,
    is_remembered,
    parse_idempotency_key,
)

SCOPE = IdempotencyScope("aage-backend", "submitForCase", "key-1")
ANSWER = RememberedAnswer(200, b'{"success": true}', "cd" * 32)
HEARTBEAT_THREAD = "ecb-files leases"


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    database = Database.open(database_url)
    yield database
    database.close()


@pytest.fixture
def make(database: Database) -> Iterator[Callable[..., Idempotency]]:
    """An ``Idempotency`` per process of a deployment (each its own owner); closed at the
    end."""
    made: list[Idempotency] = []

    def build(lease_seconds: int = 45, ttl_seconds: int = 24 * 3600) -> Idempotency:
        idempotency = Idempotency(database, ttl_seconds=ttl_seconds, lease_seconds=lease_seconds)
        made.append(idempotency)
        return idempotency

    yield build
    for idempotency in made:
        idempotency.close()


def lease_until(database: Database, scope: IdempotencyScope = SCOPE) -> datetime:
    with database.read() as unit:
        found = unit.get(models.IdempotencyRecord, (scope.client_id, scope.endpoint, scope.key))
        assert found is not None
        return found.lease_until


def heartbeats() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == HEARTBEAT_THREAD]


# --- the header ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        pytest.param(None, None, id="absent"),
        pytest.param("abc", "abc", id="bare"),
        pytest.param('"abc"', "abc", id="quoted"),
        pytest.param("  abc  ", "abc", id="surrounding-space"),
        pytest.param('"a\\"b\\\\c"', 'a"b\\c', id="quoted-escapes"),
        pytest.param(
            "!#$%&'()*+,-./:;<=>?@[]^_`{|}~", "!#$%&'()*+,-./:;<=>?@[]^_`{|}~", id="punct"
        ),
        pytest.param("k" * 255, "k" * 255, id="255-chars"),
    ],
)
def test_a_well_formed_header_gives_its_key(raw: str | None, key: str | None) -> None:
    """§3.4: 1–255 visible ASCII characters, bare or as a quoted string."""
    assert parse_idempotency_key(raw, 255) == key


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param('""', id="empty-quoted"),
        pytest.param("k" * 256, id="256-chars"),
        pytest.param('"' + "k" * 256 + '"', id="256-chars-quoted"),
        pytest.param("a b", id="inner-space"),
        pytest.param("clé", id="non-ascii"),
        pytest.param("a\tb", id="tab"),
        pytest.param("a\x7f", id="del"),
    ],
)
def test_a_malformed_header_is_invalid_request(raw: str) -> None:
    """§9: an empty, over-long or non-visible-ASCII key → 400 InvalidRequest naming the
    header."""
    with pytest.raises(InvalidRequest) as caught:
        parse_idempotency_key(raw, 255)
    assert caught.value.status == 400
    assert "Idempotency-Key" in caught.value.description


def test_the_length_bound_is_the_configured_one() -> None:
    assert parse_idempotency_key("k" * 10, 10) == "k" * 10
    with pytest.raises(InvalidRequest, match="10 characters"):
        parse_idempotency_key("k" * 11, 10)


# --- which answers are remembered ---------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        InvalidRequest("bad"),
        InvalidSecurityToken("bad"),
        UserNotFound("bad"),
        ClaimNotFound("bad"),
        ClaimIsClosed("bad"),
        UnsupportedMediaType("bad", reason="extension_not_allowed"),
        IdempotencyKeyReused("bad"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_4xx_refusals_are_remembered(error: EcbError) -> None:
    """§9: 4xx answers are remembered."""
    assert is_remembered(error)


@pytest.mark.parametrize(
    "error",
    [
        PayloadTooLarge("big", reason="request_too_large"),
        RequestTimeout("slow", reason="body_idle_timeout"),
        GenericError("boom"),
        DatabaseUnavailable("down"),
        StorageUnavailable("down"),
        StorageFull("full"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_413_408_and_5xx_are_not_remembered(error: EcbError) -> None:
    """§3.4 and §9: 5xx answers are not remembered, nor 408, nor 413."""
    assert not is_remembered(error)


# --- claim, remember, release -------------------------------------------------------------


def test_a_first_claim_holds_the_key(make: Callable[..., Idempotency]) -> None:
    """§3.4: in flight from the moment its headers arrive; a second claim → 409."""
    idempotency = make()
    assert idempotency.claim(SCOPE) is None
    with pytest.raises(RequestInProgress) as caught:
        idempotency.claim(SCOPE)
    assert caught.value.status == 409
    assert "key-1" in caught.value.description


def test_another_process_sees_the_key_in_progress(make: Callable[..., Idempotency]) -> None:
    """§6 scale-out: a key held by one process is in progress for every other one."""
    first, second = make(), make()
    assert first.owner != second.owner
    first.claim(SCOPE)
    with pytest.raises(RequestInProgress):
        second.claim(SCOPE)


def test_a_remembered_answer_is_returned_to_every_later_claim(
    make: Callable[..., Idempotency],
) -> None:
    """§3.4: the first answer, from any process, for 24 h."""
    first, second = make(), make()
    first.claim(SCOPE)
    first.remember(SCOPE, ANSWER)
    assert first.claim(SCOPE) == ANSWER
    assert second.claim(SCOPE) == ANSWER


def test_remember_in_stores_the_answer_with_the_units_other_writes(
    make: Callable[..., Idempotency], database: Database
) -> None:
    """§3.4: the answer commits or rolls back with the unit it is given."""
    idempotency = make()
    idempotency.claim(SCOPE)

    def remember_then_fail() -> None:
        with database.write() as unit:
            idempotency.remember_in(unit, SCOPE, ANSWER)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        remember_then_fail()
    with pytest.raises(RequestInProgress):
        idempotency.claim(SCOPE)
    with database.write() as unit:
        idempotency.remember_in(unit, SCOPE, ANSWER)
    assert idempotency.claim(SCOPE) == ANSWER


def test_a_released_key_is_served_as_new(make: Callable[..., Idempotency]) -> None:
    """§3.4: after a 5xx/408/413 the key is let go: a retry is served as new."""
    first, second = make(), make()
    first.claim(SCOPE)
    first.release(SCOPE)
    assert second.claim(SCOPE) is None


def test_a_failed_release_is_logged_not_raised(
    make: Callable[..., Idempotency],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """§3.4: releasing runs while a request unwinds; if it fails, the lease runs out
    instead (the key is free within the lease), and the request's own error stands."""
    idempotency = make()
    idempotency.claim(SCOPE)

    def broken(*_args: object) -> None:
        raise DatabaseUnavailable("the database is down")

    monkeypatch.setattr(module.records, "let_go", broken)
    with caplog.at_level(logging.WARNING, logger="ecb_files.idempotency"):
        idempotency.release(SCOPE)
    assert "lease will run out" in caplog.text


# --- leases and the heartbeat -------------------------------------------------------------


def test_renew_leases_pushes_this_processs_leases_forward(
    make: Callable[..., Idempotency], database: Database
) -> None:
    """§3.4: the lease of a live process's keys is renewed, by the lease's length."""
    idempotency = make(lease_seconds=30)
    other = make(lease_seconds=30)
    idempotency.claim(SCOPE)
    theirs = IdempotencyScope("aage-backend", "submitForCase", "theirs")
    other.claim(theirs)
    before, their_before = lease_until(database), lease_until(database, theirs)
    time.sleep(0.01)
    assert idempotency.renew_leases() == 1
    assert lease_until(database) > before
    assert lease_until(database, theirs) == their_before


def test_no_heartbeat_before_the_first_claim(make: Callable[..., Idempotency]) -> None:
    """A process that never takes a keyed request runs no heartbeat thread."""
    already = heartbeats()
    make(lease_seconds=1)
    assert heartbeats() == already


def test_the_heartbeat_starts_at_the_first_claim_and_keeps_the_key(
    make: Callable[..., Idempotency], database: Database
) -> None:
    """§3.4: while the process lives, its keys stay in flight past their first lease:
    another process still gets 409 after several leases."""
    holder, other = make(lease_seconds=1), make(lease_seconds=1)
    holder.claim(SCOPE)
    first_lease = lease_until(database)
    assert holder.heartbeat_seconds == pytest.approx(1 / 3)
    time.sleep(2.5)
    assert lease_until(database) > first_lease
    assert lease_until(database) > datetime.now(UTC)
    with pytest.raises(RequestInProgress):
        other.claim(SCOPE)


def test_after_close_the_lease_runs_out_and_the_key_is_taken_over(
    make: Callable[..., Idempotency],
) -> None:
    """§3.4 "if that process dies, its key is free again within 60 s": once the heartbeat
    stops, the key is free within the lease."""
    holder, other = make(lease_seconds=1), make(lease_seconds=1)
    holder.claim(SCOPE)
    holder.close()
    time.sleep(1.2)
    assert other.claim(SCOPE) is None


def test_close_stops_the_heartbeat_thread(make: Callable[..., Idempotency]) -> None:
    """Closing the service stops its heartbeat thread (and waits for it)."""
    idempotency = make(lease_seconds=1)
    before = set(heartbeats())
    idempotency.claim(SCOPE)
    started = [t for t in heartbeats() if t not in before]
    assert len(started) == 1
    assert started[0].daemon
    idempotency.close()
    assert not started[0].is_alive()


def test_close_without_a_claim_and_twice_is_harmless(make: Callable[..., Idempotency]) -> None:
    idempotency = make()
    idempotency.close()
    idempotency.close()


def test_one_heartbeat_per_process_however_many_claims(make: Callable[..., Idempotency]) -> None:
    """The heartbeat renews every key of the process in one statement: one thread."""
    idempotency = make(lease_seconds=1)
    before = set(heartbeats())
    for i in range(5):
        idempotency.claim(IdempotencyScope("c", "submitForCase", f"k{i}"))
    assert len([t for t in heartbeats() if t not in before]) == 1


def test_the_heartbeat_survives_a_failed_renewal(
    make: Callable[..., Idempotency],
    database: Database,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """§3.4: a database hiccup does not stop the heartbeat; the next beat renews."""
    idempotency = make(lease_seconds=1)
    real = module.records.renew_leases
    failures = {"left": 1}

    def flaky(*args: object, **kwargs: object) -> int:
        if failures["left"]:
            failures["left"] -= 1
            raise DatabaseUnavailable("the database is down")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(module.records, "renew_leases", flaky)
    with caplog.at_level(logging.WARNING, logger="ecb_files.idempotency"):
        idempotency.claim(SCOPE)
        first_lease = lease_until(database)
        time.sleep(1.5)
    assert failures["left"] == 0
    assert "could not renew" in caplog.text
    assert lease_until(database) > first_lease
