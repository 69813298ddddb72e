"""Blocking work off the event loop, in the loop's thread pool.

``anyio.to_thread.run_sync`` does more on the event loop per call than
``loop.run_in_executor`` (async-library detection, a capacity limiter, a Python-level
queue), and every small submission makes such a hop (bench/README.md has the
measurement); the service's own code uses this instead. Like anyio's, a cancelled
caller still waits for its thread: a thread cannot be stopped, and what it is writing
must not be cleaned up under it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def worker_pool(threads: int) -> ThreadPoolExecutor:
    """The pool to install as the loop's default executor (the app's lifespan does);
    ``Settings.worker_threads`` says how many."""
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="ecb-files worker")


async def in_thread(function: Callable[[], T]) -> T:
    """``function()`` in a worker thread of the running loop's default executor."""
    future = asyncio.get_running_loop().run_in_executor(None, function)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await wait_through_cancels(future)
        raise


async def wait_through_cancels(future: asyncio.Future[Any]) -> None:
    """Wait for ``future`` (a thread's work) to end, through any number of cancellations;
    if one came meanwhile, raise ``CancelledError`` once it has ended. Its outcome is
    retrieved and dropped: the caller is unwinding already."""
    cancelled = False
    while not future.done():
        try:
            await asyncio.wait([future])
        except asyncio.CancelledError:
            cancelled = True
    if not future.cancelled():
        future.exception()
    if cancelled:
        raise asyncio.CancelledError
