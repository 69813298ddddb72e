"""Group commit: many threads' small write units share one transaction and one commit.

A durable commit costs a log flush (SQLite's WAL fsync with ``synchronous=FULL``,
PostgreSQL's WAL flush), and on SQLite writers also take turns on one write lock. With
one transaction per request, concurrent submissions queue on that lock and each waits
for every earlier commit in turn. Here the first thread to arrive leads: it takes every
unit waiting, runs them in one transaction and commits once, while threads arriving
meanwhile queue for the next batch. A unit's caller gets back exactly what the unit
returned or raised, as if it had run alone.

A unit must be safe to run again: when one unit of a batch raises (a target closed
since it was checked, a constraint), or the commit fails, the whole batch is rolled
back and each unit is run again alone, so that one refusal never takes the others with
it and each caller sees its own outcome.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, cast

from ecb_files.db.database import Database, Transaction

T = TypeVar("T")

# Enough to fill a commit on a busy server, few enough that a batch's rows stay small.
DEFAULT_MAX_BATCH = 64


class _Unfinished(Exception):
    """A unit whose batch ended without an outcome for it (never reaches a caller)."""


class _Signal:
    """A one-shot wake-up for one waiter: a bare lock, cheaper than an ``Event``."""

    __slots__ = ("_lock", "_set")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._lock.acquire()
        self._set = False

    def set(self) -> None:
        if not self._set:  # set twice at most, one after the other: never concurrently
            self._set = True
            self._lock.release()

    def wait(self) -> None:
        self._lock.acquire()


@dataclass(eq=False)
class _Slot(Generic[T]):
    unit: Callable[[Transaction], T]
    wake: _Signal = field(default_factory=_Signal)
    finished: bool = False
    lead: bool = False
    result: T | None = None
    error: BaseException | None = None

    def finish(self, result: T | None, error: BaseException | None) -> None:
        self.result, self.error, self.finished = result, error, True
        self.wake.set()

    def outcome(self) -> T:
        if self.error is not None:
            raise self.error
        return cast(T, self.result)


class GroupCommitter:
    """Runs write units from many threads in shared transactions (see the module doc)."""

    def __init__(
        self,
        database: Database,
        *,
        max_batch: int = DEFAULT_MAX_BATCH,
        before_commit: Callable[[Transaction], None] | None = None,
    ) -> None:
        """``before_commit(session)`` runs once per transaction after its units: where
        units that queued their writes (instead of running one statement each) have
        them written together."""
        if max_batch < 1:
            raise ValueError("max_batch must be at least 1")
        self._database = database
        self._max_batch = max_batch
        self._before_commit = before_commit
        self._mutex = threading.Lock()
        self._pending: list[_Slot[Any]] = []
        self._leading = False

    def run(self, unit: Callable[[Transaction], T]) -> T:
        """``unit(session)`` inside a committed transaction; blocks until it is durable."""
        slot: _Slot[T] = _Slot(unit)
        with self._mutex:
            self._pending.append(slot)
            leads = not self._leading
            self._leading = True
        if not leads:
            slot.wake.wait()
            if not slot.lead:
                return slot.outcome()
        self._lead(slot)
        return slot.outcome()

    def _lead(self, own: _Slot[Any]) -> None:
        """Commit batches until ``own`` is done, then hand the lead to the oldest waiter."""
        batch: list[_Slot[Any]] = []
        try:
            while True:
                with self._mutex:
                    if own.finished or not self._pending:
                        self._hand_over()
                        return
                    batch = self._pending[: self._max_batch]
                    del self._pending[: self._max_batch]
                self._commit(batch)
                batch = []
        except BaseException as error:
            # Not an outcome of a unit (those are caught in _commit): an interrupt or a
            # bug. Whoever was in the batch learns of it; the lead passes on.
            for slot in batch:
                if not slot.finished:
                    slot.finish(None, _Unfinished(f"the batch was interrupted: {error!r}"))
            with self._mutex:
                self._hand_over()
            raise

    def _hand_over(self) -> None:
        # Called with the mutex held.
        if self._pending:
            successor = self._pending[0]
            successor.lead = True
            successor.wake.set()
        else:
            self._leading = False

    def _commit(self, batch: list[_Slot[Any]]) -> None:
        if len(batch) > 1 and self._commit_together(batch):
            return
        for slot in batch:
            try:
                with self._database.write() as session:
                    result = slot.unit(session)
                    if self._before_commit is not None:
                        self._before_commit(session)
            except Exception as error:
                slot.finish(None, error)
            else:
                slot.finish(result, None)

    def _commit_together(self, batch: list[_Slot[Any]]) -> bool:
        """The batch in one transaction; ``False`` (nothing committed) if anything failed."""
        results = []
        try:
            with self._database.write() as session:
                for slot in batch:
                    results.append(slot.unit(session))
                if self._before_commit is not None:
                    self._before_commit(session)
        except Exception:
            return False  # each unit runs again alone, and meets its own outcome
        for slot, result in zip(batch, results, strict=True):
            slot.finish(result, None)
        return True
