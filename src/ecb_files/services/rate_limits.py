"""Per-client rate limits (§12.2), shared by every process of a deployment.

Each limit of each OAuth client is one GCRA bucket in the database (``RateBucket``): a
single number, the *theoretical arrival time* (TAT), the moment the bucket would be full
again. A rate of ``amount`` per ``seconds`` holds at most ``amount`` units (the whole
budget, as one burst) and refills at ``amount / seconds``.

A process does not ask the database on every request. It *leases* units in chunks
(``LEASE_FRACTION`` of the budget, at least what the request needs) with one atomic
compare-and-swap on the bucket's row, and spends them from memory on the event loop.
So a busy client costs one database write per chunk, not per request, and a quiet
client one per request (which is what a small limit needs to be exact anyway).

What this keeps (bench/README.md and docs/behaviour.md §12.2):

- Never more than the budget across all processes: every unit spent was first taken
  from the shared bucket. A process can at most spend later what it leased earlier,
  so a burst can exceed the budget by the units leased but unspent: under
  ``LEASE_FRACTION`` per process.
- A refusal is only made when the shared bucket cannot pay: the units another process
  holds unspent (again under ``LEASE_FRACTION`` each) are the most a client can be
  short of its budget.
- A process restarting loses only its unspent lease: the buckets are rows.

A refused process remembers the bucket's TAT it read. Other processes can only move a
TAT forward, so until enough time has passed for the request to fit at that TAT, the
refusal is certain and is made from memory: a client hammering past its limit costs no
database write per request either.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from ecb_files.config import GIB, KIB, MIB, Rate, RateLimits
from ecb_files.db import Database, Transaction
from ecb_files.db import rate_limits as rows
from ecb_files.db.group_commit import GroupCommitter
from ecb_files.errors import DatabaseUnavailable, TooManyRequests

NS = 1_000_000_000
# A lease is this share of the budget (at least one unit, at least what is needed).
LEASE_FRACTION = 64
# Compare-and-swap retries before giving up: only PostgreSQL under heavy contention for
# one client's row ever needs a second (SQLite serialises writers).
MAX_SWAPS = 100


class Charge(NamedTuple):
    """``cost`` units of the bucket ``key`` limited to ``rate``; ``unit`` names them in a
    refusal ("requests", "bytes"). A tuple: one or two are made per request."""

    key: str
    rate: Rate
    cost: int
    unit: str


@dataclass(frozen=True)
class Bucket:
    """The GCRA arithmetic of one rate, in integer nanoseconds (no I/O)."""

    rate: Rate

    @property
    def period_ns(self) -> int:
        return self.rate.seconds * NS

    def span(self, units: int) -> int:
        """How long ``units`` take to refill."""
        return -(-units * self.period_ns // self.rate.amount)

    def available(self, tat: int | None, now: int) -> int:
        """The units the bucket can pay at ``now``."""
        base = now if tat is None else max(tat, now)
        free = now + self.period_ns - base
        return free * self.rate.amount // self.period_ns

    def wait_ns(self, tat: int | None, now: int, units: int) -> int:
        """How long until the bucket can pay ``units`` (which fit in it when full)."""
        base = now if tat is None else max(tat, now)
        return max(0, base + self.span(units) - self.period_ns - now)

    def take(self, tat: int | None, now: int, units: int) -> int:
        """The TAT after paying ``units``."""
        base = now if tat is None else max(tat, now)
        return base + self.span(units)

    @property
    def lease(self) -> int:
        return max(1, self.rate.amount // LEASE_FRACTION)


@dataclass
class _Held:
    """What this process knows of one bucket: the units it leased and has not spent,
    and the bucket's TAT when it last read it (a lower bound of the TAT now)."""

    tokens: int = 0
    tat_seen: int | None = None
    leasing: threading.Lock = field(default_factory=threading.Lock)


class ClientLimits:
    """The charges of one request of an OAuth client (§12.2): a submission (the two
    submit endpoints and FNoL share one bucket of requests and one of bytes) or a read
    of the §11.2 API. A limit that is off charges nothing."""

    def __init__(self, limits: RateLimits, max_request_bytes: int) -> None:
        self._limits = limits
        # A body without Content-Length declares nothing: it is charged the most it
        # may carry, since the decision is made before any of it is read.
        self._undeclared = max_request_bytes
        # A client's request charges are always the same: made once (clients are few).
        self._submissions: dict[str, tuple[Charge, ...]] = {}
        self._reads: dict[str, tuple[Charge, ...]] = {}

    def submission(self, client_id: str, declared_bytes: int | None) -> tuple[Charge, ...]:
        requests = self._submissions.get(client_id)
        if requests is None:
            rate = self._limits.submissions
            charge = () if rate is None else (Charge(f"submit:{client_id}", rate, 1, "requests"),)
            requests = self._submissions[client_id] = charge
        size = self._undeclared if declared_bytes is None else declared_bytes
        bytes_rate = self._limits.submission_bytes
        if bytes_rate is None or size <= 0:
            return requests
        return (*requests, Charge(f"bytes:{client_id}", bytes_rate, size, "bytes"))

    def read(self, client_id: str) -> tuple[Charge, ...]:
        charges = self._reads.get(client_id)
        if charges is None:
            rate = self._limits.reads
            charges = () if rate is None else (Charge(f"read:{client_id}", rate, 1, "requests"),)
            self._reads[client_id] = charges
        return charges


class RateLimiter:
    def __init__(
        self,
        database: Database,
        clock: Callable[[], int] = time.time_ns,
        *,
        commits: GroupCommitter | None = None,
    ) -> None:
        """``commits``: the server's group committer, so that a lease shares the commit
        (and the log flush) of the submissions being committed at the same moment
        instead of paying one of its own; without it, a transaction per lease."""
        self._database = database
        self._clock = clock
        self._commits = commits
        self._held: dict[str, _Held] = {}
        self._lock = threading.Lock()  # guards every _Held's tokens and tat_seen

    def admit_known(self, charges: Sequence[Charge]) -> bool:
        """Pay every charge from this process's leases, never blocking: ``True`` when
        paid, ``False`` when the database must be asked (``admit``, off the event loop).
        ``TooManyRequests`` when a charge surely cannot be paid yet."""
        with self._lock:
            held = self._held
            for charge in charges:
                known = held.get(charge.key)
                if known is None or known.tokens < charge.cost:
                    break
            else:  # the path of nearly every request: no clock, no allocation
                for charge in charges:
                    held[charge.key].tokens -= charge.cost
                return True
            now = self._clock()
            for charge in charges:
                self._refuse_if_certain(charge, self._held_for(charge.key), now)
        return False

    def admit(self, charges: Sequence[Charge]) -> None:
        """Pay every charge, leasing from the shared buckets as needed (blocking), or
        ``TooManyRequests`` with nothing paid."""
        paid: list[Charge] = []
        try:
            for charge in charges:
                self._pay(charge)
                paid.append(charge)
        except BaseException:
            with self._lock:
                for charge in paid:  # back to this process's lease, not lost
                    self._held_for(charge.key).tokens += charge.cost
            raise

    def _held_for(self, key: str) -> _Held:
        held = self._held.get(key)
        if held is None:
            held = self._held[key] = _Held()
        return held

    def _refuse_if_certain(self, charge: Charge, held: _Held, now: int) -> None:
        bucket = Bucket(charge.rate)
        if charge.cost > charge.rate.amount:
            raise _too_large(charge)
        if held.tat_seen is None:
            return
        need = charge.cost - held.tokens
        if bucket.available(held.tat_seen, now) < need:
            raise _refusal(charge, bucket.wait_ns(held.tat_seen, now, need))

    def _pay(self, charge: Charge) -> None:
        with self._lock:
            held = self._held_for(charge.key)
        with held.leasing:  # one lease at a time per bucket in this process
            while True:
                now = self._clock()
                with self._lock:
                    if held.tokens >= charge.cost:
                        held.tokens -= charge.cost
                        return
                    self._refuse_if_certain(charge, held, now)
                    need = charge.cost - held.tokens
                granted, tat = self._lease(charge, need)
                with self._lock:
                    held.tat_seen = tat
                    held.tokens += granted
                if not granted:
                    bucket = Bucket(charge.rate)
                    raise _refusal(charge, bucket.wait_ns(tat, self._clock(), need))

    def _lease(self, charge: Charge, need: int) -> tuple[int, int | None]:
        """Take ``need`` units (or a chunk, if the bucket has them) from the shared
        bucket: (units granted, the TAT after). Nothing is granted when ``need`` does
        not fit; the TAT returned then is the one read."""
        bucket = Bucket(charge.rate)

        def lease(unit: Transaction) -> tuple[int, int | None] | None:
            # Safe to run again (a group commit may): it reads the row afresh each time.
            seen = rows.bucket_tat(unit, charge.key)
            now = self._clock()
            available = bucket.available(seen, now)
            if available < need:
                return 0, seen
            granted = min(available, max(need, bucket.lease))
            tat = bucket.take(seen, now, granted)
            if rows.swap_bucket_tat(unit, charge.key, seen, tat):
                return granted, tat
            return None  # another process moved the row first: read it again

        for _ in range(MAX_SWAPS):
            if self._commits is not None:
                outcome = self._commits.run(lease)
            else:
                with self._database.write() as unit:
                    outcome = lease(unit)
            if outcome is not None:
                return outcome
        raise DatabaseUnavailable(f"rate limit {charge.key!r}: the bucket stayed contended")


def _seconds(wait_ns: int) -> int:
    return max(1, math.ceil(wait_ns / NS))


def _shown(charge: Charge) -> str:
    """The rate as configured: ``600 requests/minute``, ``20 GiB/hour``."""
    amount, period = str(charge.rate).split("/")
    if charge.unit == "bytes":
        for size, name in ((GIB, "GiB"), (MIB, "MiB"), (KIB, "KiB")):
            if charge.rate.amount % size == 0:
                return f"{charge.rate.amount // size} {name}/{period}"
    return f"{amount} {charge.unit}/{period}"


def _refusal(charge: Charge, wait_ns: int) -> TooManyRequests:
    seconds = _seconds(wait_ns)
    return TooManyRequests(
        f"the client's rate limit of {_shown(charge)} is reached; retry after {seconds} s",
        retry_after=seconds,
    )


def _too_large(charge: Charge) -> TooManyRequests:
    return TooManyRequests(
        f"the request's {charge.cost} {charge.unit} are more than the client's whole rate "
        f"limit of {_shown(charge)}",
        retry_after=charge.rate.seconds,
    )
