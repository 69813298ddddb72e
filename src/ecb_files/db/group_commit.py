"""Group commit: many requests' small write units share one transaction and one commit.

A durable commit costs a log flush (SQLite's WAL fsync with ``synchronous=FULL``,
PostgreSQL's WAL flush), and on SQLite writers also take turns on one write lock. With
one transaction per request, concurrent submissions queue on that lock and each waits
for every earlier commit in turn. Here one thread of the process commits: it takes every
unit waiting, runs them in one transaction and commits once, while units arriving
meanwhile queue for the next batch. A unit's caller gets back exactly what the unit
returned or raised, as if it had run alone: from ``run`` (blocking), through the
future of ``submit``, or through the event loop's own future of ``submit_on_loop``.

The committing thread keeps its connection from one transaction to the next
(``Database.held_writes``). The outcomes of a batch reach an event loop in one call:
one wake-up of the loop per commit rather than one per unit, and none of the loop's
callbacks run on this thread, where each would wait for the interpreter
(bench/README.md).

A unit must be safe to run again: when one unit of a batch raises (a target closed
since it was checked, a constraint), or the commit fails, the whole batch is rolled
back and each unit is run again alone, so that one refusal never takes the others with
it and each caller sees its own outcome.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ecb_files.db.database import Database, HeldWrites, Transaction

T = TypeVar("T")

# Enough to fill a commit on a busy server, few enough that a batch's rows stay small.
DEFAULT_MAX_BATCH = 64


@dataclass(eq=False)
class _Slot(Generic[T]):
    unit: Callable[[Transaction], T]
    future: Future[T] | asyncio.Future[T]
    loop: asyncio.AbstractEventLoop | None = None  # the loop of an asyncio future


@dataclass(eq=False)
class _Outcome:
    slot: _Slot[Any]
    result: Any = None
    error: BaseException | None = None


class GroupCommitter:
    """Runs write units from many callers in shared transactions (see the module doc)."""

    def __init__(
        self,
        database: Database,
        *,
        max_batch: int = DEFAULT_MAX_BATCH,
        before_commit: Callable[[Transaction], None] | None = None,
    ) -> None:
        """``before_commit(unit)`` runs once per transaction after its units: where units
        that queued their writes (instead of running one statement each) have them
        written together."""
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._database = database
        self._max_batch = max_batch
        self._before_commit = before_commit
        self._ready = threading.Condition()
        self._pending: list[_Slot[Any]] = []
        self._thread: threading.Thread | None = None
        self._closed = False

    def run(self, unit: Callable[[Transaction], T]) -> T:
        """``unit(transaction)`` inside a committed transaction; blocks until it is durable."""
        return self.submit(unit).result()

    def submit(self, unit: Callable[[Transaction], T]) -> Future[T]:
        """``unit`` queued for the next transaction; the future ends once it is durable."""
        future: Future[T] = Future()
        self._queue(_Slot(unit, future))
        return future

    def submit_on_loop(self, unit: Callable[[Transaction], T]) -> asyncio.Future[T]:
        """``submit`` from a coroutine: the running loop's future, ended on the loop."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue(_Slot(unit, future, loop))
        return future

    def _queue(self, slot: _Slot[Any]) -> None:
        with self._ready:
            if self._closed:
                raise RuntimeError("the group committer is closed")
            self._pending.append(slot)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._commit_until_closed, name="ecb-files commits", daemon=True
                )
                self._thread.start()
            self._ready.notify()

    def close(self) -> None:
        """Commit what is queued, then stop the committing thread."""
        with self._ready:
            self._closed = True
            self._ready.notify()
            thread = self._thread
        if thread is not None:
            thread.join()

    def _commit_until_closed(self) -> None:
        writes = self._database.held_writes()
        try:
            while True:
                with self._ready:
                    while not self._pending and not self._closed:
                        self._ready.wait()
                    if not self._pending:
                        return
                    batch = self._pending[: self._max_batch]
                    del self._pending[: self._max_batch]
                self._commit(writes, batch)
        finally:
            writes.close()

    def _commit(self, writes: HeldWrites, batch: list[_Slot[Any]]) -> None:
        outcomes = self._commit_together(writes, batch) if len(batch) > 1 else None
        if outcomes is None:
            outcomes = [self._commit_alone(writes, slot) for slot in batch]
        _deliver(outcomes)

    def _commit_alone(self, writes: HeldWrites, slot: _Slot[Any]) -> _Outcome:
        try:
            with writes.write() as transaction:
                result = slot.unit(transaction)
                if self._before_commit is not None:
                    self._before_commit(transaction)
        except BaseException as error:  # the caller's to handle, whatever it is
            return _Outcome(slot, error=error)
        return _Outcome(slot, result)

    def _commit_together(
        self, writes: HeldWrites, batch: list[_Slot[Any]]
    ) -> list[_Outcome] | None:
        """The batch in one transaction; ``None`` (nothing committed) if anything failed."""
        outcomes = []
        try:
            with writes.write() as transaction:
                for slot in batch:
                    outcomes.append(_Outcome(slot, slot.unit(transaction)))
                if self._before_commit is not None:
                    self._before_commit(transaction)
        except BaseException:
            return None  # each unit runs again alone, and meets its own outcome
        return outcomes


def _deliver(outcomes: list[_Outcome]) -> None:
    """Each outcome to its future: at once for a thread's, in one call per event loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Outcome]] = {}
    for outcome in outcomes:
        loop = outcome.slot.loop
        if loop is None:
            _settle(outcome)
        else:
            by_loop.setdefault(loop, []).append(outcome)
    for loop, settled_there in by_loop.items():
        # A loop that has closed has nobody left to wait for these futures.
        with suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle_all, settled_there)


def _settle_all(outcomes: list[_Outcome]) -> None:
    for outcome in outcomes:
        _settle(outcome)


def _settle(outcome: _Outcome) -> None:
    future = outcome.slot.future
    if future.cancelled():
        return  # an asyncio caller that stopped waiting (its client went away)
    if outcome.error is not None:
        future.set_exception(outcome.error)
    else:
        future.set_result(outcome.result)
