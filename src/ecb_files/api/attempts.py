"""Driving an attempt (``services.attempt``) with a request's body: what every write
endpoint does between its headers and its answer (§3.4: the key claimed before the
body, everything abandoned after any failure)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

from starlette.requests import Request

from ecb_files.api.body import BodyReader
from ecb_files.api.threads import in_thread
from ecb_files.services.attempt import Answer, Attempt

A = TypeVar("A", bound=Attempt[Any])


def declared_length(value: str | None) -> int | None:
    """The ``Content-Length`` a request declares, if it declares a usable one."""
    return int(value) if value is not None and value.strip().isdigit() else None


async def answer_of(
    attempt: A,
    request: Request,
    *,
    content_length: int | None,
    read: Callable[[A, BodyReader], Awaitable[Answer]] | None = None,
) -> Answer:
    """The attempt's answer to the request's body, read by ``read`` (default: each
    batch in a worker thread); after any failure the attempt is abandoned."""
    body = BodyReader(request.stream(), content_length=content_length)
    try:
        if attempt.holds_a_key:
            await in_thread(attempt.claim)
        return await (read or read_in_threads)(attempt, body)
    except BaseException:
        await in_thread(attempt.abandon)
        raise
    finally:
        body.close()


async def read_in_threads(attempt: Attempt[Any], body: BodyReader) -> Answer:
    """Each batch parsed in a worker thread; the last bytes and the answer in one hop."""
    async for batch in body:
        if batch.last:
            return await in_thread(partial(attempt.finish, batch.data))
        await in_thread(partial(attempt.feed, batch.data))
    raise AssertionError("a body always ends with its last batch")


def answer_headers(answer: Answer, location: str | None = None) -> dict[str, str] | None:
    """``Idempotent-Replayed`` for a remembered answer, and ``Location`` when given."""
    headers = {}
    if answer.replayed:
        headers["Idempotent-Replayed"] = "true"
    if location is not None:
        headers["Location"] = location
    return headers or None
