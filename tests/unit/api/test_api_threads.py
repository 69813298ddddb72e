"""Worker-thread hops (``in_thread``) and the pool they run in (``worker_pool``): blocking
work stays off the event loop (§6), and a cancelled caller never leaves a thread
working on what it is about to clean up."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from ecb_files.api.threads import in_thread, worker_pool

WORK_SECONDS = 0.2
TIMEOUT = 10.0


class Boom(Exception):
    """What the function in the thread raises."""


def test_in_thread_returns_the_value_of_the_function_run_in_another_thread() -> None:
    """§6: the function runs off the event loop's thread."""

    async def main() -> tuple[int, int]:
        def work() -> int:
            return threading.get_ident()

        return threading.get_ident(), await in_thread(work)

    loop_thread, worker_thread = asyncio.run(main())
    assert worker_thread != loop_thread


def test_in_thread_passes_the_value_through_unchanged() -> None:
    value = {"answer": [42]}

    async def main() -> object:
        return await in_thread(lambda: value)

    assert asyncio.run(main()) is value


def test_in_thread_raises_the_functions_own_exception() -> None:
    raised = Boom("refused in the worker")

    def work() -> None:
        raise raised

    async def main() -> None:
        await in_thread(work)

    with pytest.raises(Boom) as caught:
        asyncio.run(main())
    assert caught.value is raised


def test_the_loop_keeps_running_while_the_thread_works() -> None:
    """§6: small requests keep flowing while a hop blocks its thread."""
    release = threading.Event()

    async def main() -> int:
        hop = asyncio.ensure_future(in_thread(lambda: release.wait(TIMEOUT)))
        ticks = 0
        while ticks < 10:
            await asyncio.sleep(0.001)
            ticks += 1
        assert not hop.done()
        release.set()
        assert await hop
        return ticks

    assert asyncio.run(main()) == 10


def test_a_cancelled_caller_waits_for_its_thread_to_finish() -> None:
    """A thread cannot be stopped: CancelledError reaches the caller only once the function
    has returned, so nothing it writes to is cleaned up under it."""
    started = threading.Event()
    finished: list[float] = []

    def work() -> None:
        started.set()
        time.sleep(WORK_SECONDS)
        finished.append(time.monotonic())

    async def main() -> None:
        caller = asyncio.ensure_future(in_thread(work))
        assert await asyncio.to_thread(started.wait, TIMEOUT)
        caller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await caller
        assert finished, "CancelledError came before the thread had finished"
        assert caller.cancelled()

    asyncio.run(main())


def test_a_caller_cancelled_again_while_waiting_still_waits() -> None:
    started = threading.Event()
    finished: list[float] = []

    def work() -> None:
        started.set()
        time.sleep(WORK_SECONDS)
        finished.append(time.monotonic())

    async def main() -> None:
        caller = asyncio.ensure_future(in_thread(work))
        assert await asyncio.to_thread(started.wait, TIMEOUT)
        caller.cancel()
        await asyncio.sleep(WORK_SECONDS / 4)
        assert not caller.done()
        caller.cancel()
        await asyncio.sleep(WORK_SECONDS / 4)
        caller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await caller
        assert finished, "CancelledError came before the thread had finished"

    asyncio.run(main())


def test_a_cancelled_caller_whose_function_fails_still_gets_cancelled_error() -> None:
    """The caller was cancelled: it ends cancelled, whatever the thread did meanwhile."""
    started = threading.Event()

    def work() -> None:
        started.set()
        time.sleep(WORK_SECONDS)
        raise Boom("after the caller gave up")

    async def main() -> None:
        caller = asyncio.ensure_future(in_thread(work))
        assert await asyncio.to_thread(started.wait, TIMEOUT)
        caller.cancel()
        with pytest.raises(asyncio.CancelledError):
            await caller

    asyncio.run(main())


@pytest.mark.parametrize("threads", [1, 8, 32])
def test_worker_pool_has_the_given_number_of_threads(threads: int) -> None:
    pool = worker_pool(threads)
    try:
        assert pool._max_workers == threads
    finally:
        pool.shutdown(wait=True)


def test_worker_pool_threads_are_named_for_the_service() -> None:
    pool = worker_pool(2)
    try:
        names = {pool.submit(lambda: threading.current_thread().name).result() for _ in range(4)}
    finally:
        pool.shutdown(wait=True)
    assert names
    assert all(name.startswith("ecb-files worker") for name in names), names


def test_in_thread_uses_the_pool_installed_as_the_default_executor() -> None:
    """As the app's lifespan installs it: every hop runs in one of its threads."""

    async def main() -> set[str]:
        asyncio.get_running_loop().set_default_executor(worker_pool(2))
        return {await in_thread(lambda: threading.current_thread().name) for _ in range(4)}

    names = asyncio.run(main())
    assert all(name.startswith("ecb-files worker") for name in names), names


def test_a_pool_of_n_threads_runs_n_hops_at_once_and_no_more() -> None:
    threads = 3
    running = 0
    most = 0
    changed = threading.Condition()

    def work() -> None:
        nonlocal running, most
        with changed:
            running += 1
            most = max(most, running)
            changed.notify_all()
            # Hold the thread until the pool is full (or it never will be).
            changed.wait_for(lambda: running >= threads, timeout=1.0)
        time.sleep(0.01)
        with changed:
            running -= 1

    async def main() -> None:
        asyncio.get_running_loop().set_default_executor(worker_pool(threads))
        await asyncio.gather(*(in_thread(work) for _ in range(3 * threads)))

    asyncio.run(main())
    assert most == threads
