"""The per-client rate limiter (§12.2): GCRA buckets in the database, leased in chunks
by each process; run on a real database with a clock the test moves."""

from __future__ import annotations

import pytest

from ecb_files.config import Rate
from ecb_files.db import Database
from ecb_files.db.group_commit import GroupCommitter
from ecb_files.errors import TooManyRequests
from ecb_files.services.rate_limits import NS, Bucket, Charge, RateLimiter

START = 1_800_000_000 * NS


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> int:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += int(seconds * NS)


def _charge(rate: Rate, cost: int = 1, key: str = "submit:client") -> tuple[Charge, ...]:
    return (Charge(key, rate, cost, "requests"),)


def _admitted(limiter: RateLimiter, charges: tuple[Charge, ...]) -> bool:
    try:
        if not limiter.admit_known(charges):
            limiter.admit(charges)
    except TooManyRequests:
        return False
    return True


def test_the_bucket_pays_its_whole_budget_at_once_then_refills_at_the_rate() -> None:
    """§12.2: N per period is a burst of N, then one more every period / N."""
    bucket = Bucket(Rate(60, 60))
    tat = None
    for _ in range(60):
        assert bucket.available(tat, START) >= 1
        tat = bucket.take(tat, START, 1)
    assert bucket.available(tat, START) == 0
    assert bucket.wait_ns(tat, START, 1) == NS
    assert bucket.available(tat, START + NS) == 1


def test_a_limit_is_refused_past_its_budget_with_a_retry_after(database: Database) -> None:
    """§12.2: 429 TooManyRequests with Retry-After, the seconds until one more fits."""
    clock = Clock()
    limiter = RateLimiter(database, clock)
    charges = _charge(Rate(10, 60))
    assert sum(_admitted(limiter, charges) for _ in range(15)) == 10
    with pytest.raises(TooManyRequests) as refused:
        limiter.admit(charges)
    assert refused.value.headers() == {"Retry-After": "6"}
    assert "10 requests/minute" in refused.value.description
    clock.advance(6)
    assert _admitted(limiter, charges)


def test_two_processes_share_one_budget_within_ten_percent(database: Database) -> None:
    """§12.2: two limiters on one database (two processes) admit together no more than
    the budget and at least 90 % of it, leasing in chunks."""
    clock = Clock()
    first, second = RateLimiter(database, clock), RateLimiter(database, clock)
    charges = _charge(Rate(6400, 3600))  # leases of 100
    admitted = 0
    for turn in range(8000):
        admitted += _admitted(first if turn % 3 else second, charges)
    assert 5760 <= admitted <= 6400


def test_a_new_process_finds_the_budget_spent(database: Database) -> None:
    """§12.2: the budget survives a process's restart (it is rows)."""
    clock = Clock()
    charges = _charge(Rate(5, 60))
    before = RateLimiter(database, clock)
    assert sum(_admitted(before, charges) for _ in range(5)) == 5
    restarted = RateLimiter(database, clock)
    assert not _admitted(restarted, charges)


def test_bytes_are_admitted_only_if_they_fit_what_is_left(database: Database) -> None:
    """§12.2: a request's declared bytes must fit the rest of the byte budget; a smaller
    one that fits is still admitted."""
    limiter = RateLimiter(database, Clock())
    rate = Rate(10_000, 60)
    assert _admitted(limiter, _charge(rate, 6000, "bytes:c"))
    assert not _admitted(limiter, _charge(rate, 6000, "bytes:c"))
    assert _admitted(limiter, _charge(rate, 4000, "bytes:c"))


def test_more_than_the_whole_budget_is_refused_for_a_whole_period(database: Database) -> None:
    """§12.2: one request larger than the whole byte budget gets 429 too."""
    limiter = RateLimiter(database, Clock())
    with pytest.raises(TooManyRequests) as refused:
        limiter.admit_known((Charge("bytes:c", Rate(1024, 3600), 1025, "bytes"),))
    assert refused.value.headers() == {"Retry-After": "3600"}
    assert "1 KiB/hour" in refused.value.description


def test_a_refused_charge_pays_nothing_of_the_others(database: Database) -> None:
    """§12.2: a request refused for its bytes does not spend a request of the budget."""
    limiter = RateLimiter(database, Clock())
    requests, size = Rate(2, 60), Rate(100, 60)
    big = (Charge("submit:c", requests, 1, "requests"), Charge("bytes:c", size, 90, "bytes"))
    assert _admitted(limiter, big)
    assert not _admitted(limiter, big)
    small = (Charge("submit:c", requests, 1, "requests"), Charge("bytes:c", size, 10, "bytes"))
    assert _admitted(limiter, small)


def test_a_known_refusal_is_made_from_memory(database: Database) -> None:
    """A process refused by the shared bucket refuses again without asking until the
    bucket can have refilled: ``admit_known`` raises instead of asking for ``admit``."""
    clock = Clock()
    limiter = RateLimiter(database, clock)
    charges = _charge(Rate(1, 60))
    assert _admitted(limiter, charges)
    with pytest.raises(TooManyRequests):
        limiter.admit(charges)
    with pytest.raises(TooManyRequests):
        limiter.admit_known(charges)
    clock.advance(60)
    assert limiter.admit_known(charges) is False  # may fit now: the database decides
    assert _admitted(limiter, charges)


def test_clients_have_budgets_of_their_own(database: Database) -> None:
    """§12.2: the limits are per OAuth client."""
    limiter = RateLimiter(database, Clock())
    rate = Rate(1, 60)
    assert _admitted(limiter, _charge(rate, key="submit:a"))
    assert not _admitted(limiter, _charge(rate, key="submit:a"))
    assert _admitted(limiter, _charge(rate, key="submit:b"))


def test_leases_can_share_the_servers_group_commit(database: Database) -> None:
    """The server's limiter leases through its group committer: the same budget holds."""
    commits = GroupCommitter(database)
    try:
        limiter = RateLimiter(database, Clock(), commits=commits)
        charges = _charge(Rate(640, 60))  # leases of 10
        assert sum(_admitted(limiter, charges) for _ in range(700)) == 640
    finally:
        commits.close()
