"""Group commit: units of many threads share a transaction, yet each caller meets its own
outcome, as if its unit had run alone (CONTRACT §3.4: durable before 200, all or nothing)."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ecb_files.db import Database, models
from ecb_files.db.group_commit import GroupCommitter

EXPIRES = datetime(2030, 1, 1, tzinfo=UTC)
QUEUE_TIMEOUT = 10.0
Unit = Callable[[Session], str]


class Refused(Exception):
    """What a unit raises to refuse (as a closed case would)."""


class Commits:
    """Counts the engine's commits, and how many units ran in each committed transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.units_per_commit: list[int] = []
        self._units = 0
        event.listen(engine, "commit", self._on_commit)
        event.listen(engine, "rollback", self._on_rollback)

    def unit_ran(self) -> None:
        # Units run one at a time (only the leader runs them), so no lock is needed.
        self._units += 1

    @property
    def count(self) -> int:
        return len(self.units_per_commit)

    def close(self) -> None:
        event.remove(self.engine, "commit", self._on_commit)
        event.remove(self.engine, "rollback", self._on_rollback)

    def _on_commit(self, _connection: object) -> None:
        self.units_per_commit.append(self._units)
        self._units = 0

    def _on_rollback(self, _connection: object) -> None:
        self._units = 0


@pytest.fixture
def database(engine: Engine) -> Database:
    return Database(engine)


@pytest.fixture
def commits(engine: Engine) -> Iterator[Commits]:
    counter = Commits(engine)
    yield counter
    counter.close()


def write(session: Session, jti: str) -> None:
    session.add(models.UsedAssertion(issuer="group-commit", jti=jti, expires_at=EXPIRES))
    session.flush()


def stored_jtis(database: Database) -> set[str]:
    with database.sessions() as session:
        return set(session.scalars(select(models.UsedAssertion.jti)))


def wait_for_queue(committer: GroupCommitter, size: int) -> None:
    """Until ``size`` units wait for the next batch (a peek at the committer's queue)."""
    deadline = time.monotonic() + QUEUE_TIMEOUT
    while len(committer._pending) < size:
        if time.monotonic() > deadline:
            raise AssertionError(f"{size} units did not queue within {QUEUE_TIMEOUT} s")
        time.sleep(0.002)


def run_behind_a_leader(
    committer: GroupCommitter, units: list[Unit], commits: Commits | None = None
) -> list[Future[str]]:
    """``units`` from one thread each, all queued while a first unit holds the lead.

    The leader's own batch is that first unit alone; it finishes only once every other
    unit waits, so they are offered to the committer together afterwards.
    """
    leading = threading.Event()

    def leader(session: Session) -> str:
        leading.set()
        wait_for_queue(committer, len(units))
        if commits is not None:
            commits.unit_ran()
        write(session, "leader")
        return "leader"

    pool = ThreadPoolExecutor(max_workers=len(units) + 1)
    try:
        first = pool.submit(committer.run, leader)
        assert leading.wait(QUEUE_TIMEOUT)
        futures = [pool.submit(committer.run, unit) for unit in units]
        assert first.result(timeout=60) == "leader"
        for future in futures:
            future.exception(timeout=60)  # finished, whatever its outcome
        return futures
    finally:
        pool.shutdown(wait=True)


def writer(jti: str, commits: Commits | None = None) -> Unit:
    def unit(session: Session) -> str:
        if commits is not None:
            commits.unit_ran()
        write(session, jti)
        return f"result of {jti}"

    return unit


def test_one_unit_returns_its_result_and_is_committed(database: Database) -> None:
    committer = GroupCommitter(database)
    assert committer.run(writer("alone")) == "result of alone"
    assert stored_jtis(database) == {"alone"}


def test_concurrent_units_share_commits_and_each_caller_gets_its_own_result(
    database: Database, commits: Commits
) -> None:
    """§3.4 durable before 200: every unit's row is committed when its caller returns."""
    committer = GroupCommitter(database)
    jtis = [f"unit-{i}" for i in range(31)]
    futures = run_behind_a_leader(committer, [writer(jti) for jti in jtis])
    assert [f.result() for f in futures] == [f"result of {jti}" for jti in jtis]
    assert stored_jtis(database) == {"leader", *jtis}
    # The leader's batch (itself), then everyone who queued meanwhile: 32 units, 2 commits.
    assert commits.count == 2


def test_a_refused_unit_fails_alone_and_leaves_no_writes(
    database: Database,
) -> None:
    """§3.4 all or nothing: a refusal takes neither its own rows nor its batch's."""
    committer = GroupCommitter(database)
    raised: list[Refused] = []

    def refused(session: Session) -> str:
        write(session, "refused")
        raised.append(Refused("the case closed meanwhile"))
        raise raised[-1]

    good = [f"good-{i}" for i in range(6)]
    units = [writer(jti) for jti in good[:3]] + [refused] + [writer(jti) for jti in good[3:]]
    futures = run_behind_a_leader(committer, units)
    error = futures[3].exception()
    assert isinstance(error, Refused)
    assert error is raised[-1]  # the very exception of its own (last) run
    assert [f.result() for i, f in enumerate(futures) if i != 3] == [
        f"result of {jti}" for jti in good
    ]
    assert stored_jtis(database) == {"leader", *good}


def test_a_constraint_violation_fails_only_its_unit(database: Database) -> None:
    """A unit whose write breaks a constraint poisons the shared transaction (PostgreSQL
    aborts it); the others are committed all the same."""
    committer = GroupCommitter(database)
    committer.run(writer("taken"))
    futures = run_behind_a_leader(committer, [writer("a"), writer("taken"), writer("b")])
    assert isinstance(futures[1].exception(), IntegrityError)
    assert (futures[0].result(), futures[2].result()) == ("result of a", "result of b")
    assert stored_jtis(database) == {"leader", "taken", "a", "b"}


def test_units_of_a_failed_batch_are_rerun_alone_with_their_own_new_results(
    database: Database,
) -> None:
    """A unit may run twice; its caller gets what the run that was committed returned,
    and only that run's writes remain."""
    committer = GroupCommitter(database)
    runs: list[str] = []

    def fresh_each_run(session: Session) -> str:
        jti = f"run-{uuid.uuid4().hex}"
        runs.append(jti)
        write(session, jti)
        return jti

    def refused(session: Session) -> str:
        raise Refused("refused")

    futures = run_behind_a_leader(committer, [fresh_each_run, refused])
    assert isinstance(futures[1].exception(), Refused)
    assert len(runs) == 2  # once in the batch, once alone
    assert futures[0].result() == runs[-1]
    assert stored_jtis(database) == {"leader", runs[-1]}


def test_no_transaction_holds_more_than_max_batch_units(
    database: Database, commits: Commits
) -> None:
    committer = GroupCommitter(database, max_batch=2)
    jtis = [f"unit-{i}" for i in range(9)]
    futures = run_behind_a_leader(committer, [writer(jti, commits) for jti in jtis], commits)
    assert [f.result() for f in futures] == [f"result of {jti}" for jti in jtis]
    assert stored_jtis(database) == {"leader", *jtis}
    assert sum(commits.units_per_commit) == 10
    assert max(commits.units_per_commit) == 2  # batched, but never past the bound


@pytest.mark.parametrize("max_batch", [0, -1])
def test_max_batch_below_one_is_refused(database: Database, max_batch: int) -> None:
    with pytest.raises(ValueError, match="max_batch"):
        GroupCommitter(database, max_batch=max_batch)


def test_the_committer_is_idle_again_after_a_burst(database: Database) -> None:
    """The lead is handed back: a unit after the burst runs (and does not hang)."""
    committer = GroupCommitter(database)
    run_behind_a_leader(committer, [writer(f"unit-{i}") for i in range(4)])
    with ThreadPoolExecutor(max_workers=1) as pool:
        later = pool.submit(committer.run, writer("later"))
        assert later.result(timeout=QUEUE_TIMEOUT) == "result of later"
    assert "later" in stored_jtis(database)


# --- before_commit: writes queued by the units, written once per transaction ------------

_QUEUED_JTIS = "test.queued_jtis"


class QueuedWrites:
    """Units that queue their row in the session, and a ``before_commit`` that writes
    every queued row of the transaction together (as ``intake.insert_queued`` does)."""

    def __init__(self, refuse: str | None = None) -> None:
        self.refuse = refuse  # a jti whose presence makes before_commit raise
        self.calls: list[list[str]] = []  # the jtis each before_commit call found
        self.raised: list[Refused] = []
        self.unit_runs: list[str] = []

    def unit(self, jti: str) -> Unit:
        def queue(session: Session) -> str:
            self.unit_runs.append(jti)
            session.info.setdefault(_QUEUED_JTIS, []).append(jti)
            return f"queued {jti}"

        return queue

    def before_commit(self, session: Session) -> None:
        jtis: list[str] = session.info.pop(_QUEUED_JTIS, [])
        self.calls.append(jtis)
        if self.refuse is not None and self.refuse in jtis:
            self.raised.append(Refused(f"{self.refuse} refused at commit"))
            raise self.raised[-1]
        for jti in jtis:
            write(session, jti)


def test_before_commit_runs_once_per_transaction_after_its_units(
    database: Database, commits: Commits
) -> None:
    """§3.4 durable before 200: the rows the units queued are written in their own
    transaction, by one before_commit call per batch."""
    queued = QueuedWrites()
    committer = GroupCommitter(database, before_commit=queued.before_commit)
    jtis = [f"unit-{i}" for i in range(8)]
    futures = run_behind_a_leader(committer, [queued.unit(jti) for jti in jtis])
    assert [f.result() for f in futures] == [f"queued {jti}" for jti in jtis]
    assert stored_jtis(database) == {"leader", *jtis}
    # The leader's transaction (its unit writes directly), then one for the whole batch.
    assert queued.calls == [[], jtis]
    assert commits.count == len(queued.calls)


def test_before_commit_runs_for_a_unit_alone(database: Database) -> None:
    queued = QueuedWrites()
    committer = GroupCommitter(database, before_commit=queued.before_commit)
    assert committer.run(queued.unit("alone")) == "queued alone"
    assert queued.calls == [["alone"]]
    assert stored_jtis(database) == {"alone"}


def test_before_commit_runs_again_for_each_unit_rerun_alone(
    database: Database,
) -> None:
    """A batch whose unit refused is rerun unit by unit: each rerun that succeeds has its
    queued row written by a before_commit of its own transaction."""
    queued = QueuedWrites()
    committer = GroupCommitter(database, before_commit=queued.before_commit)

    def refused(session: Session) -> str:
        queued.unit("refused")(session)
        raise Refused("the case closed meanwhile")

    units = [queued.unit("a"), refused, queued.unit("b")]
    futures = run_behind_a_leader(committer, units)
    assert isinstance(futures[1].exception(), Refused)
    assert (futures[0].result(), futures[2].result()) == ("queued a", "queued b")
    assert stored_jtis(database) == {"leader", "a", "b"}
    # The leader's, then none for the failed batch (a unit raised first), then one per
    # unit rerun alone that got as far as its commit.
    assert queued.calls == [[], ["a"], ["b"]]


def test_a_before_commit_failure_reruns_every_unit_alone_with_its_own_outcome(
    database: Database,
) -> None:
    """A batch whose before_commit raises is rolled back whole; each unit is run again
    alone, so only the unit whose queued write is refused fails."""
    queued = QueuedWrites(refuse="bad")
    committer = GroupCommitter(database, before_commit=queued.before_commit)
    names = ["good-0", "bad", "good-1", "good-2"]
    futures = run_behind_a_leader(committer, [queued.unit(name) for name in names])
    outcome = futures[1].exception()
    assert isinstance(outcome, Refused)
    assert outcome is queued.raised[-1]  # raised by its own, lone transaction
    assert [futures[i].result() for i in (0, 2, 3)] == [
        "queued good-0",
        "queued good-1",
        "queued good-2",
    ]
    assert stored_jtis(database) == {"leader", "good-0", "good-1", "good-2"}
    assert queued.calls == [[], names, ["good-0"], ["bad"], ["good-1"], ["good-2"]]
    assert sorted(queued.unit_runs) == sorted(names * 2)  # in the batch, then alone


def test_a_constraint_violated_at_before_commit_fails_only_its_unit(
    database: Database,
) -> None:
    """The realistic refusal at commit time: a queued row breaks a unique constraint
    (PostgreSQL aborts the whole transaction); the other units are committed."""
    queued = QueuedWrites()
    committer = GroupCommitter(database, before_commit=queued.before_commit)
    committer.run(queued.unit("taken"))
    futures = run_behind_a_leader(
        committer, [queued.unit("a"), queued.unit("taken"), queued.unit("b")]
    )
    assert isinstance(futures[1].exception(), IntegrityError)
    assert (futures[0].result(), futures[2].result()) == ("queued a", "queued b")
    assert stored_jtis(database) == {"leader", "taken", "a", "b"}


# --- submit: a future per unit, for callers that must not block -----------------------------

FUTURE_TIMEOUT = 30.0


def submit_behind_a_leader(
    committer: GroupCommitter, units: list[Unit], commits: Commits | None = None
) -> tuple[Future[str], list[Future[str]]]:
    """``units`` submitted from one thread each, all at once, while a first unit holds the
    committing thread until every one of them waits in the queue."""
    leading = threading.Event()

    def leader(session: Session) -> str:
        leading.set()
        wait_for_queue(committer, len(units))
        if commits is not None:
            commits.unit_ran()
        write(session, "leader")
        return "leader"

    first = committer.submit(leader)
    assert leading.wait(QUEUE_TIMEOUT)
    start = threading.Barrier(len(units))

    def submit(unit: Unit) -> Future[str]:
        start.wait(QUEUE_TIMEOUT)
        return committer.submit(unit)

    with ThreadPoolExecutor(max_workers=len(units)) as pool:
        futures = list(pool.map(submit, units))
    return first, futures


def test_submit_returns_a_future_that_ends_once_the_unit_is_committed(
    database: Database,
) -> None:
    """§3.4 durable before 200: the future of ``submit`` is done only once the unit's
    transaction has committed — its row is readable from another session by then."""
    committer = GroupCommitter(database)
    seen_when_done: list[set[str]] = []
    callback_ran = threading.Event()

    def on_done(_done: Future[str]) -> None:
        seen_when_done.append(stored_jtis(database))
        callback_ran.set()

    future = committer.submit(writer("via-future"))
    assert isinstance(future, Future)
    future.add_done_callback(on_done)
    assert future.result(timeout=FUTURE_TIMEOUT) == "result of via-future"
    assert "via-future" in stored_jtis(database)
    # The callback (on the committing thread, or here if already done) saw the row.
    assert callback_ran.wait(FUTURE_TIMEOUT)
    assert seen_when_done == [{"via-future"}]
    committer.close()


def test_submit_does_not_block_its_caller(database: Database) -> None:
    """§6 the event loop only receives: ``submit`` queues the unit and returns at once,
    while the committing thread is still busy with an earlier one."""
    committer = GroupCommitter(database)
    release = threading.Event()

    def slow(session: Session) -> str:
        assert release.wait(QUEUE_TIMEOUT)
        write(session, "slow")
        return "slow"

    busy = committer.submit(slow)
    queued = committer.submit(writer("queued"))
    assert not busy.done()
    assert not queued.done()
    release.set()
    assert queued.result(timeout=FUTURE_TIMEOUT) == "result of queued"
    assert busy.result(timeout=FUTURE_TIMEOUT) == "slow"
    assert stored_jtis(database) == {"slow", "queued"}
    committer.close()


def test_units_submitted_from_several_threads_share_transactions(
    database: Database, commits: Commits
) -> None:
    """§3.4 durable before 200, with one commit for many: units submitted at once from
    many threads are committed in fewer transactions than there are units."""
    committer = GroupCommitter(database)
    jtis = [f"thread-{i}" for i in range(12)]
    first, futures = submit_behind_a_leader(
        committer, [writer(jti, commits) for jti in jtis], commits
    )
    assert first.result(timeout=FUTURE_TIMEOUT) == "leader"
    assert [f.result(timeout=FUTURE_TIMEOUT) for f in futures] == [
        f"result of {jti}" for jti in jtis
    ]
    assert stored_jtis(database) == {"leader", *jtis}
    assert commits.count < len(jtis) + 1
    assert commits.units_per_commit == [1, len(jtis)]
    committer.close()


def test_an_exception_in_a_submitted_unit_reaches_only_its_future(
    database: Database,
) -> None:
    """§3.4 all or nothing, per request: the refusal is that unit's future's exception;
    the others of its batch are committed and their futures hold their results."""
    committer = GroupCommitter(database)
    raised: list[Refused] = []

    def refused(session: Session) -> str:
        write(session, "refused")
        raised.append(Refused("refused"))
        raise raised[-1]

    units = [writer("a"), refused, writer("b"), writer("c")]
    first, futures = submit_behind_a_leader(committer, units)
    first.result(timeout=FUTURE_TIMEOUT)
    error = futures[1].exception(timeout=FUTURE_TIMEOUT)
    assert isinstance(error, Refused)
    assert error is raised[-1]
    assert [futures[i].result(timeout=FUTURE_TIMEOUT) for i in (0, 2, 3)] == [
        "result of a",
        "result of b",
        "result of c",
    ]
    assert stored_jtis(database) == {"leader", "a", "b", "c"}
    # The committer goes on serving.
    assert committer.submit(writer("later")).result(timeout=FUTURE_TIMEOUT) == "result of later"
    committer.close()


class Fatal(BaseException):
    """An exception that is not an ``Exception`` (as ``asyncio.CancelledError`` is not)."""


def test_a_base_exception_in_a_batched_unit_reaches_only_its_future(
    database: Database,
) -> None:
    """§3.4: "a unit's caller gets back exactly what the unit returned or raised" —
    whatever it raised: a BaseException in one unit of a shared batch must neither stop
    the committing thread nor leave the other units' futures unfinished."""
    committer = GroupCommitter(database)

    def fatal(session: Session) -> str:
        raise Fatal("not an Exception")

    first, futures = submit_behind_a_leader(committer, [writer("a"), fatal, writer("b")])
    first.result(timeout=FUTURE_TIMEOUT)
    try:
        assert isinstance(futures[1].exception(timeout=5), Fatal)
        assert futures[0].result(timeout=5) == "result of a"
        assert futures[2].result(timeout=5) == "result of b"
        assert stored_jtis(database) == {"leader", "a", "b"}
        assert committer._thread is not None
        assert committer._thread.is_alive()
    finally:
        if committer._thread is not None and committer._thread.is_alive():
            committer.close()


def test_close_commits_what_is_queued_then_stops_the_thread(database: Database) -> None:
    """§3.4 durable before 200, at shut-down: units queued when ``close`` is called are
    still committed (their futures end with their results); then the thread ends."""
    committer = GroupCommitter(database)
    jtis = [f"queued-{i}" for i in range(5)]
    leading = threading.Event()

    def leader(session: Session) -> str:
        leading.set()
        wait_for_queue(committer, len(jtis))
        write(session, "leader")
        return "leader"

    first = committer.submit(leader)
    assert leading.wait(QUEUE_TIMEOUT)
    futures = [committer.submit(writer(jti)) for jti in jtis]
    committer.close()
    assert first.done()
    assert all(f.done() for f in futures)
    assert [f.result() for f in futures] == [f"result of {jti}" for jti in jtis]
    assert stored_jtis(database) == {"leader", *jtis}
    assert committer._thread is not None
    assert not committer._thread.is_alive()


def test_submit_after_close_is_refused(database: Database) -> None:
    """§3.4: after shut-down nothing can be accepted any more — a unit is refused at
    once rather than left waiting on a future that would never end."""
    committer = GroupCommitter(database)
    committer.run(writer("before"))
    committer.close()
    with pytest.raises(RuntimeError, match="closed"):
        committer.submit(writer("after"))
    with pytest.raises(RuntimeError, match="closed"):
        committer.run(writer("after"))
    assert stored_jtis(database) == {"before"}


def test_close_without_any_unit_starts_no_thread(database: Database) -> None:
    """§3.4: a committer that never got a unit closes at once (no thread to stop)."""
    committer = GroupCommitter(database)
    committer.close()
    assert committer._thread is None
    with pytest.raises(RuntimeError, match="closed"):
        committer.submit(writer("after"))


# --- submit_on_loop: the caller is a coroutine ----------------------------------------


class CountedLoop(asyncio.SelectorEventLoop):
    """Counts the callbacks other threads hand to the loop."""

    handed_over = 0

    def call_soon_threadsafe(self, *args: Any, **kwargs: Any) -> Any:
        self.handed_over += 1
        return super().call_soon_threadsafe(*args, **kwargs)


def test_a_batchs_outcomes_reach_the_loop_in_one_call_once_committed(
    database: Database,
) -> None:
    """§3.4 durable before 200: each coroutine gets its own unit's result or refusal, only
    after the commit; the batch's outcomes reach the loop in a single hand-over."""
    committer = GroupCommitter(database)
    holding, release = threading.Event(), threading.Event()

    def hold(_session: Session) -> str:
        holding.set()
        assert release.wait(QUEUE_TIMEOUT)
        return "held"

    def refused(_session: Session) -> str:
        raise Refused("no")

    async def three_in_one_batch() -> list[Any]:
        held = committer.submit(hold)
        assert await asyncio.to_thread(holding.wait, QUEUE_TIMEOUT)
        futures = [
            committer.submit_on_loop(writer("on-loop-1")),
            committer.submit_on_loop(refused),
            committer.submit_on_loop(writer("on-loop-2")),
        ]
        loop.handed_over = 0
        release.set()
        assert await asyncio.wrap_future(held) == "held"
        outcomes = await asyncio.gather(*futures, return_exceptions=True)
        assert stored_jtis(database) >= {"on-loop-1", "on-loop-2"}
        return outcomes

    loop = CountedLoop()
    try:
        first, second, third = loop.run_until_complete(three_in_one_batch())
    finally:
        loop.close()
    committer.close()
    assert (first, third) == ("result of on-loop-1", "result of on-loop-2")
    assert isinstance(second, Refused)
    # The batch failed on the refusal and each unit ran again alone: still one hand-over
    # for the three outcomes, plus the one of wrap_future for the held unit.
    assert loop.handed_over == 2


def test_a_coroutine_that_stopped_waiting_does_not_stop_the_committer(
    database: Database,
) -> None:
    """A request whose client went away cancels its wait; its unit still commits, and
    the units after it are served (a closed loop too is passed over)."""
    committer = GroupCommitter(database)

    async def cancel_one() -> None:
        future = committer.submit_on_loop(writer("cancelled-wait"))
        future.cancel()

    asyncio.run(cancel_one())  # the loop is closed before the outcome can reach it
    assert committer.run(writer("after")) == "result of after"
    assert {"cancelled-wait", "after"} <= stored_jtis(database)
    committer.close()
