"""Group commit: many requests' small write units share one transaction and one commit.

A durable commit costs a log flush (SQLite's WAL fsync with ``synchronous=FULL``,
PostgreSQL's WAL flush), and on SQLite writers also take turns on one write lock. With
one transaction per request, concurrent submissions queue on that lock and each waits
for every earlier commit in turn. Here one thread of the process commits: it takes every
unit waiting, runs them in one transaction and commits once, while units arriving
meanwhile queue for the next batch. A unit's caller gets back exactly what the unit
returned or raised, as if it had run alone: from ``run`` (blocking), or through the
future of ``submit`` (which an event loop can await without a thread of its own).

A unit must be safe to run again: when one unit of a batch raises (a target closed
since it was checked, a constraint), or the commit fails, the whole batch is rolled
back and each unit is run again alone, so that one refusal never takes the others with
it and each caller sees its own outcome.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from ecb_files.db.database import Database, Transaction

T = TypeVar("T")

# Enough to fill a commit on a busy server, few enough that a batch's rows stay small.
DEFAULT_MAX_BATCH = 64


@dataclass(eq=False)
class _Slot(Generic[T]):
    unit: Callable[[Transaction], T]
    future: Future[T] = field(default_factory=Future)


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
        slot: _Slot[T] = _Slot(unit)
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
        return slot.future

    def close(self) -> None:
        """Commit what is queued, then stop the committing thread."""
        with self._ready:
            self._closed = True
            self._ready.notify()
            thread = self._thread
        if thread is not None:
            thread.join()

    def _commit_until_closed(self) -> None:
        while True:
            with self._ready:
                while not self._pending and not self._closed:
                    self._ready.wait()
                if not self._pending:
                    return
                batch = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
            self._commit(batch)

    def _commit(self, batch: list[_Slot[Any]]) -> None:
        if len(batch) > 1 and self._commit_together(batch):
            return
        for slot in batch:
            try:
                with self._database.write() as transaction:
                    result = slot.unit(transaction)
                    if self._before_commit is not None:
                        self._before_commit(transaction)
            except BaseException as error:  # the caller's to handle, whatever it is
                slot.future.set_exception(error)
            else:
                slot.future.set_result(result)

    def _commit_together(self, batch: list[_Slot[Any]]) -> bool:
        """The batch in one transaction; ``False`` (nothing committed) if anything failed."""
        results = []
        try:
            with self._database.write() as transaction:
                for slot in batch:
                    results.append(slot.unit(transaction))
                if self._before_commit is not None:
                    self._before_commit(transaction)
        except BaseException:
            return False  # each unit runs again alone, and meets its own outcome
        for slot, result in zip(batch, results, strict=True):
            slot.future.set_result(result)
        return True
