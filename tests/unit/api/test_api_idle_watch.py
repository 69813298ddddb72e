"""``IdleWatch``: the bounds on receiving a body (§9 Robustness: a body that stops
arriving, or arrives under the minimum rate after the grace, is cut off), with one timer
per request instead of one per chunk.

Driven under a real event loop with small bounds; a "receive" is ``begin(task)``, a wait,
and ``end()``, as the watched receive (api/body_watch.py) does around each chunk.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from ecb_files.api.idle_watch import Expiry, IdleWatch, MinBodyRate

BOUND = 0.05
# Every wait that must not trip the bound is this short: a tenth of it, so a loaded
# machine's scheduling delays cannot make it look idle.
SHORT = BOUND / 10
# How long a test gives a timer that should fire (or cancel) before giving up on it.
PATIENCE = 5.0


def run(main: Callable[[], Awaitable[None]]) -> None:
    async def wrapped() -> None:
        await main()

    asyncio.run(wrapped())


def current() -> asyncio.Task[object]:
    task = asyncio.current_task()
    assert task is not None
    return task


def watch_timers(watch: IdleWatch) -> list[asyncio.Handle]:
    """The loop's live timers that call back into ``watch``: those in its heap, and one
    that has come due but not run yet (a loaded machine can wake a task first, in the
    same loop iteration that moved the timer to the ready queue)."""
    loop = asyncio.get_running_loop()
    scheduled: list[asyncio.Handle] = list(loop._scheduled)  # type: ignore[attr-defined]
    due: list[asyncio.Handle] = list(loop._ready)  # type: ignore[attr-defined]
    return [
        handle
        for handle in scheduled + due
        if not handle.cancelled() and handle._callback == watch._check  # type: ignore[attr-defined]
    ]


def test_a_wait_longer_than_the_bound_cancels_the_waiting_task() -> None:
    """§9: a body that stops arriving is cut off after the idle bound, and only then."""

    async def main() -> None:
        watch = IdleWatch(BOUND)
        loop = asyncio.get_running_loop()
        began = 0.0

        async def receive() -> None:
            nonlocal began
            began = loop.time()
            watch.begin(current())
            try:
                await asyncio.sleep(PATIENCE)  # the chunk never comes
            finally:
                watch.end()

        task = asyncio.ensure_future(receive())
        with pytest.raises(asyncio.CancelledError):
            await task
        waited = loop.time() - began
        assert watch.expired
        assert BOUND <= waited < PATIENCE
        watch.close()

    run(main)


def test_a_wait_that_ends_in_time_is_not_cancelled() -> None:
    async def main() -> None:
        watch = IdleWatch(BOUND)
        watch.begin(current())
        await asyncio.sleep(SHORT)
        watch.end()
        await asyncio.sleep(3 * BOUND)  # the timer fires meanwhile, and finds no wait
        assert not watch.expired
        watch.close()

    run(main)


def test_chunks_more_often_than_the_bound_never_trigger_it() -> None:
    """§9: the bound is on each silence, not on the whole body: a body that keeps coming
    for many times the bound is never cut off."""

    async def main() -> None:
        watch = IdleWatch(BOUND)
        loop = asyncio.get_running_loop()
        started = loop.time()
        receives = 0
        while loop.time() - started < 6 * BOUND:
            watch.begin(current())
            await asyncio.sleep(SHORT)
            watch.end()
            receives += 1
        assert not watch.expired
        assert receives > 6  # many receives, over several bounds' time
        watch.close()

    run(main)


def test_time_between_receives_does_not_count() -> None:
    """§9: only waiting for a byte counts: a pause in which the server does not read (a
    worker busy with the last batch) is not the client's silence."""

    async def main() -> None:
        watch = IdleWatch(BOUND)
        watch.begin(current())
        await asyncio.sleep(SHORT)
        watch.end()
        await asyncio.sleep(4 * BOUND)  # not receiving, for longer than the bound
        watch.begin(current())
        await asyncio.sleep(SHORT)
        watch.end()
        assert not watch.expired
        watch.close()

    run(main)


def test_the_bound_counts_from_the_begin_of_the_current_wait() -> None:
    """A wait that begins just before the timer was due gets the whole bound: the timer
    moves itself instead of cancelling."""

    async def main() -> None:
        watch = IdleWatch(BOUND)
        loop = asyncio.get_running_loop()
        watch.begin(current())  # arms the timer for BOUND from now
        await asyncio.sleep(SHORT)
        watch.end()
        await asyncio.sleep(BOUND / 2)

        began = 0.0

        async def receive() -> None:
            nonlocal began
            began = loop.time()
            watch.begin(current())  # the timer is due in less than the bound
            try:
                await asyncio.sleep(PATIENCE)
            finally:
                watch.end()

        task = asyncio.ensure_future(receive())
        with pytest.raises(asyncio.CancelledError):
            await task
        assert watch.expired
        assert loop.time() - began >= BOUND
        watch.close()

    run(main)


def test_close_cancels_the_timer() -> None:
    """Once the body has been read (or the answer is decided), nothing is cut off."""

    async def main() -> None:
        watch = IdleWatch(BOUND)
        watch.begin(current())
        timer = watch._timer
        assert timer is not None
        watch.close()
        assert watch._timer is None
        assert timer.cancelled()
        assert watch_timers(watch) == []
        await asyncio.sleep(3 * BOUND)  # this task was "waiting" when close() came
        assert not watch.expired

    run(main)


def test_close_without_a_receive_is_harmless() -> None:
    async def main() -> None:
        watch = IdleWatch(BOUND)
        watch.close()
        watch.close()
        assert watch._timer is None
        assert not watch.expired

    run(main)


def test_one_timer_serves_every_receive() -> None:
    """No timer is made per chunk: repeated begin()s keep the one timer armed first, and
    the loop never holds more than one timer of the watch."""

    async def main() -> None:
        watch = IdleWatch(BOUND)
        watch.begin(current())
        first = watch._timer
        assert first is not None
        for _ in range(20):
            watch.end()
            watch.begin(current())
            assert watch._timer is first
            assert len(watch_timers(watch)) == 1
            await asyncio.sleep(0)
        watch.end()
        watch.close()

    run(main)


def test_at_most_one_timer_over_many_bounds() -> None:
    """The timer re-arms itself when it finds a wait younger than the bound: still one."""

    async def main() -> None:
        watch = IdleWatch(BOUND)
        loop = asyncio.get_running_loop()
        started = loop.time()
        handles: list[asyncio.TimerHandle] = []  # kept alive, so their ids stay distinct
        while loop.time() - started < 5 * BOUND:
            watch.begin(current())
            assert watch._timer is not None
            handles.append(watch._timer)
            assert len(watch_timers(watch)) == 1
            await asyncio.sleep(SHORT)
            watch.end()
            assert len(watch_timers(watch)) <= 1
        assert not watch.expired
        assert len({id(handle) for handle in handles}) > 1  # it fired and moved itself
        watch.close()
        assert watch_timers(watch) == []

    run(main)


def test_a_timer_that_fires_between_receives_is_armed_again_by_the_next() -> None:
    async def main() -> None:
        watch = IdleWatch(BOUND)
        watch.begin(current())
        watch.end()
        await asyncio.sleep(3 * BOUND)  # fired with nobody waiting: not re-armed
        assert watch._timer is None
        assert watch_timers(watch) == []
        watch.begin(current())
        assert watch._timer is not None
        assert len(watch_timers(watch)) == 1
        watch.end()
        watch.close()

    run(main)


def test_under_the_minimum_rate_after_the_grace_cancels_as_too_slow() -> None:
    """§9: receives that keep coming, each well within the idle bound, but bring fewer
    bytes per second than the minimum → cancelled once the grace has passed, as too slow."""

    async def main() -> None:
        watch = IdleWatch(PATIENCE, MinBodyRate(1_000_000, BOUND))
        loop = asyncio.get_running_loop()
        began = loop.time()

        async def trickle() -> None:
            while True:
                watch.begin(current())
                try:
                    await asyncio.sleep(SHORT)
                finally:
                    watch.end(1)

        with pytest.raises(asyncio.CancelledError):
            await asyncio.ensure_future(trickle())
        assert watch.expired is Expiry.TOO_SLOW
        assert BOUND <= loop.time() - began < PATIENCE
        watch.close()

    run(main)


def test_at_the_minimum_rate_nothing_is_cancelled() -> None:
    """§9: a sender above the minimum rate is never cut off, however long it sends."""

    async def main() -> None:
        watch = IdleWatch(PATIENCE, MinBodyRate(1000, BOUND))
        for _ in range(40):  # 8 grace periods
            watch.begin(current())
            await asyncio.sleep(SHORT)
            watch.end(1000)  # 1000 bytes per SHORT: 200 kB/s
        assert watch.expired is None
        watch.close()

    run(main)
