"""``BodyReader``: a request body as an async iterator of ``Batch(data, last)``, fed straight
from an async iterator of chunks (no server). Batches for the worker threads off the event
loop (§6), memory O(1) in the body's size (§6), what arrived handed out promptly
(§3.2 step 2), and the idle bound (§9 Robustness)."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.types import Message

from ecb_files.api.body import BATCH_BYTES, LINGER_SECONDS, MIN_BATCH_BYTES, Batch, BodyReader
from ecb_files.api.body_watch import WatchedReceive
from ecb_files.api.idle_watch import MinBodyRate
from ecb_files.errors import RequestTimeout

T = TypeVar("T")

KIB = 1024
CHUNK = 64 * KIB  # what a server's receive typically brings
IDLE = 30.0  # the idle bound where a test is not about it: never reached
SHORT_IDLE = 0.1
# A lingering batch must reach its taker well before any idle bound: the linger, plus
# slack for a loaded machine.
PROMPT = 0.5


class Disconnected(Exception):
    """What a receive raises when the client went away (as Starlette's ClientDisconnect)."""


def run(main: Callable[[], Awaitable[T]]) -> T:
    async def wrapped() -> T:
        return await main()

    return asyncio.run(wrapped())


async def pieces(data: bytes, size: int = CHUNK) -> AsyncIterator[bytes]:
    """``data`` in chunks of ``size``, as fast as they can be taken (no wait between)."""
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def stalling(first: Iterable[bytes], never: asyncio.Event) -> AsyncIterator[bytes]:
    """``first``, then a sender that stops sending and never closes."""
    for chunk in first:
        yield chunk
    await never.wait()
    yield b"never sent"


def watched(
    chunks: AsyncIterator[bytes], idle: float, min_rate: MinBodyRate | None = None
) -> AsyncIterator[bytes]:
    """``chunks`` as a route reads them: an ASGI receive within the §9 bounds
    (``WatchedReceive``, as the middleware gives every request), read as Starlette's
    ``request.stream()`` reads it."""
    source = aiter(chunks)

    async def receive() -> Message:
        chunk = await anext(source, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.request", "body": chunk, "more_body": True}

    bounded = WatchedReceive(receive, idle_seconds=idle, min_rate=min_rate)

    async def stream() -> AsyncIterator[bytes]:
        while True:
            message = await bounded()
            if message.get("body"):
                yield message["body"]
            if not message.get("more_body", False):
                return

    return stream()


async def failing(first: Iterable[bytes], go: asyncio.Event | None = None) -> AsyncIterator[bytes]:
    """``first``, then (once ``go`` is set, if given) the client disconnects."""
    for chunk in first:
        yield chunk
    if go is not None:
        await go.wait()
    raise Disconnected("the client went away")


async def endless(size: int = CHUNK) -> AsyncIterator[bytes]:
    """A sender that never stops."""
    chunk = b"x" * size
    while True:
        yield chunk


async def paced(data: bytes, size: int, gap: float) -> AsyncIterator[bytes]:
    """``data`` in chunks of ``size``, one every ``gap`` seconds."""
    for start in range(0, len(data), size):
        await asyncio.sleep(gap)
        yield data[start : start + size]


def body_of(size: int) -> bytes:
    """``size`` bytes that are not all alike (so a reordering would show)."""
    pattern = bytes(range(251))
    return (pattern * (size // len(pattern) + 1))[:size]


async def read_all(reader: BodyReader, work: Callable[[bytes], Any] | None = None) -> list[Batch]:
    """What a route does: every batch, each handed to a worker thread (``work``) before
    the next is asked for."""
    batches: list[Batch] = []
    async for batch in reader:
        batches.append(batch)
        if work is not None:
            await asyncio.to_thread(work, batch.data)
    return batches


async def read_until_failure(reader: BodyReader) -> tuple[list[Batch], BaseException]:
    """The batches handed out before ``__anext__`` raised, and what it raised."""
    batches: list[Batch] = []
    try:
        async for batch in reader:
            batches.append(batch)
    except Exception as error:
        return batches, error
    raise AssertionError(f"the body ended without a failure: {batches}")


def other_tasks() -> set[asyncio.Task[Any]]:
    return asyncio.all_tasks() - {asyncio.current_task()}  # type: ignore[operator]


async def settle(reader: BodyReader) -> None:
    """What a route does after the answer: stop receiving, let cancellations land."""
    reader.close()
    await asyncio.sleep(0)
    await asyncio.sleep(0)


def assert_well_formed(batches: list[Batch]) -> None:
    """One last batch, at the end; every other batch carries bytes."""
    assert batches, "no batch at all"
    assert [b.last for b in batches] == [False] * (len(batches) - 1) + [True]
    assert all(b.data for b in batches[:-1]), "an empty batch before the last"


# --- a body that arrives at once (§6) -----------------------------------------------------


@pytest.mark.parametrize("size", [1, 4 * KIB, BATCH_BYTES], ids=["1B", "4KiB", "BATCH_BYTES"])
def test_a_body_that_arrives_at_once_is_one_last_batch_without_a_filler_task(size: int) -> None:
    """§6 off the loop: with its Content-Length, a body that came in one receive is one
    last batch (one worker hop for all of it), and no task is made to receive more."""
    body = body_of(size)

    async def main() -> tuple[Batch, set[asyncio.Task[Any]]]:
        reader = BodyReader(pieces(body, size), content_length=size)
        first = await anext(reader)
        tasks = other_tasks()
        with pytest.raises(StopAsyncIteration):
            await anext(reader)
        await settle(reader)
        return first, tasks

    first, tasks = run(main)
    assert first == Batch(body, last=True)
    assert tasks == set()


def test_a_body_without_content_length_is_read_whole() -> None:
    """Without a Content-Length the end is only known from the end of the stream."""
    body = body_of(10 * KIB)

    async def main() -> list[Batch]:
        reader = BodyReader(pieces(body, KIB))
        batches = await read_all(reader)
        await settle(reader)
        return batches

    batches = run(main)
    assert_well_formed(batches)
    assert b"".join(b.data for b in batches) == body


@pytest.mark.parametrize("declared", [None, 0], ids=["no-length", "content-length-0"])
def test_an_empty_body_is_one_empty_last_batch(declared: int | None) -> None:
    """§3.2 step 2 gets an end even for an empty body (the parser then refuses it)."""

    async def main() -> list[Batch]:
        reader = BodyReader(pieces(b""), content_length=declared)
        batches = await read_all(reader)
        await settle(reader)
        return batches

    assert run(main) == [Batch(b"", last=True)]


@pytest.mark.parametrize("size", [1, 5 * KIB, 3 * BATCH_BYTES + 7], ids=["1B", "5KiB", "3MiB"])
def test_with_a_content_length_the_body_ends_without_waiting_for_the_end_event(size: int) -> None:
    """The body is complete with its declared last byte: the last batch comes out even
    though the sender never signals the end of the stream."""
    body = body_of(size)

    async def main() -> list[Batch]:
        never = asyncio.Event()
        chunks = [body[i : i + CHUNK] for i in range(0, size, CHUNK)]
        reader = BodyReader(stalling(chunks, never), content_length=size)
        batches = await asyncio.wait_for(read_all(reader), PROMPT * 10)
        await settle(reader)
        return batches

    batches = run(main)
    assert_well_formed(batches)
    assert b"".join(b.data for b in batches) == body


def test_with_a_content_length_nothing_past_it_is_read() -> None:
    """What a sender puts past the declared length is not part of the body."""
    body = body_of(2000)

    async def main() -> list[Batch]:
        reader = BodyReader(pieces(body, 100), content_length=900)
        batches = await read_all(reader)
        await settle(reader)
        return batches

    batches = run(main)
    assert_well_formed(batches)
    assert b"".join(b.data for b in batches) == body[:900]


# --- batches (§6) -------------------------------------------------------------------------


@pytest.mark.parametrize("declared", [False, True], ids=["no-length", "content-length"])
def test_small_chunks_that_arrive_fast_are_handed_out_together(declared: bool) -> None:
    """§6: chunks of 64 KiB are gathered into batches of MIN_BATCH_BYTES to BATCH_BYTES
    (only the last may be smaller), far fewer batches than chunks, bytes in order."""
    body = body_of(5 * BATCH_BYTES // 2 + 123)

    async def main() -> list[Batch]:
        length = len(body) if declared else None
        reader = BodyReader(pieces(body), content_length=length)
        batches = await read_all(reader, work=lambda _data: None)
        await settle(reader)
        return batches

    batches = run(main)
    assert_well_formed(batches)
    assert b"".join(b.data for b in batches) == body
    assert all(MIN_BATCH_BYTES <= len(b.data) <= BATCH_BYTES for b in batches[:-1])
    assert len(batches) < len(body) // CHUNK


def test_at_most_two_batches_are_read_while_the_taker_is_busy() -> None:
    """§6 memory O(1) in the body's size: while the taker works on a batch, receiving
    stops once the next batch holds BATCH_BYTES."""
    pulled = 0

    async def counted() -> AsyncIterator[bytes]:
        nonlocal pulled
        async for chunk in endless():
            pulled += len(chunk)
            yield chunk

    async def main() -> tuple[int, int]:
        reader = BodyReader(counted())
        first = await anext(reader)
        await asyncio.sleep(0.1)  # a busy worker: the batch after is not asked for yet
        waiting = pulled - len(first.data)
        second = await anext(reader)
        await settle(reader)
        return waiting, len(second.data)

    waiting, second = run(main)
    assert waiting <= BATCH_BYTES + CHUNK
    assert waiting >= MIN_BATCH_BYTES  # ... but it did receive meanwhile
    assert second == waiting  # the next batch is what was received meanwhile


def test_the_receiving_goes_on_while_the_taker_works() -> None:
    """§6: the network and the worker overlap: after a batch is taken, the next one is
    received while its taker is busy, so it is ready at once."""
    body = body_of(4 * BATCH_BYTES)

    async def main() -> list[float]:
        reader = BodyReader(paced(body, CHUNK, 0.001))
        waits: list[float] = []
        await anext(reader)
        await asyncio.sleep(0.3)  # the worker on the first batch
        started = time.monotonic()
        await anext(reader)
        waits.append(time.monotonic() - started)
        await settle(reader)
        return waits

    assert run(main)[0] < 0.05


# --- what arrived is handed out at once (§3.2 step 2) --------------------------------------


@pytest.mark.parametrize("declared", [False, True], ids=["no-length", "content-length"])
def test_what_arrived_before_a_stall_is_handed_out_within_the_linger(declared: bool) -> None:
    """§3.2 step 2 and §9: bytes that came before the sender stopped are a batch within
    about LINGER_SECONDS, not held back for a full batch or the idle bound — so a fault
    in them is answered even if the rest never comes."""
    head = b'{"securityToken": "not a guid'

    async def main() -> tuple[Batch, float]:
        never = asyncio.Event()
        reader = BodyReader(
            stalling([head], never),
            content_length=10 * KIB if declared else None,
        )
        started = time.monotonic()
        batch = await asyncio.wait_for(anext(reader), IDLE / 2)
        elapsed = time.monotonic() - started
        await settle(reader)
        return batch, elapsed

    batch, elapsed = run(main)
    assert batch == Batch(head, last=False)
    assert elapsed < PROMPT
    assert elapsed >= LINGER_SECONDS / 2  # it did wait for more, a little


# --- the idle bound (§9) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "declared"),
    [
        pytest.param([], None, id="nothing-no-length"),
        pytest.param([], 100, id="nothing-content-length"),
        pytest.param([b"{", b'"a"'], None, id="a-few-bytes-no-length"),
        pytest.param([b"{", b'"a"'], 100, id="a-few-bytes-content-length"),
        pytest.param([b"x" * CHUNK] * 5, None, id="mid-batch-no-length"),
        pytest.param([b"x" * CHUNK] * 5, 10 * BATCH_BYTES, id="mid-batch-content-length"),
    ],
)
def test_a_body_that_stops_arriving_raises_request_timeout(
    sent: list[bytes], declared: int | None
) -> None:
    """§9 Robustness: no byte for the idle bound → 408 GenericError, from the batch being
    gathered when the sender stopped; what arrived before is handed out first."""

    async def main() -> tuple[list[Batch], BaseException, float]:
        never = asyncio.Event()
        reader = BodyReader(watched(stalling(sent, never), SHORT_IDLE), content_length=declared)
        started = time.monotonic()
        batches, error = await read_until_failure(reader)
        elapsed = time.monotonic() - started
        # The bound cancelled a receive; the request's own task is not left cancelling.
        task = asyncio.current_task()
        assert task is not None
        assert task.cancelling() == 0
        await asyncio.sleep(0)  # and no cancellation is still on its way to it
        await settle(reader)
        return batches, error, elapsed

    batches, error, elapsed = run(main)
    assert isinstance(error, RequestTimeout)
    assert error.status == 408
    assert error.reason == "body_idle_timeout"
    assert not any(b.last for b in batches)
    assert b"".join(b.data for b in batches) == b"".join(sent)
    assert SHORT_IDLE <= elapsed < 5.0


def test_a_request_timeout_leaves_the_request_task_usable() -> None:
    """§9: after the 408 the route still answers: its task awaits normally again."""

    async def main() -> str:
        never = asyncio.Event()
        reader = BodyReader(watched(stalling([], never), SHORT_IDLE), content_length=100)
        with pytest.raises(RequestTimeout):
            await anext(reader)
        await asyncio.sleep(0.01)
        await settle(reader)
        return "answered"

    assert run(main) == "answered"


def test_a_slow_but_steady_body_is_not_cut_off() -> None:
    """§9: the bound is on a silence, not on the whole body: chunks every fifth of the
    bound, over several bounds, are all read."""
    body = body_of(12 * KIB)

    async def main() -> list[Batch]:
        reader = BodyReader(
            watched(paced(body, KIB, SHORT_IDLE / 5), SHORT_IDLE), content_length=len(body)
        )
        batches = await read_all(reader)
        await settle(reader)
        return batches

    batches = run(main)
    assert_well_formed(batches)
    assert b"".join(b.data for b in batches) == body


def test_time_the_taker_takes_does_not_count_as_idle() -> None:
    """§9: while a busy worker keeps the reader from receiving (backpressure), the sender
    is not idle."""
    body = body_of(3 * BATCH_BYTES)
    calls = 0

    def work(_data: bytes) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            time.sleep(3 * SHORT_IDLE)

    async def main() -> list[Batch]:
        reader = BodyReader(watched(pieces(body), SHORT_IDLE))
        batches = await read_all(reader, work)
        await settle(reader)
        return batches

    batches = run(main)
    assert b"".join(b.data for b in batches) == body


# A minimum rate of 100 KiB/s after 0.1 s: a chunk of 1 KiB every 50 ms is far below it
# (20 KiB/s) yet never idle for the bound.
RATE = MinBodyRate(100 * KIB, 0.1)


def test_a_body_slower_than_the_minimum_rate_raises_request_timeout() -> None:
    """§9 Robustness: a body that keeps trickling, never idle for the bound, is cut off
    once the grace has passed and its average rate is under the minimum."""
    body = body_of(200 * KIB)

    async def main() -> tuple[BaseException, float]:
        reader = BodyReader(watched(paced(body, KIB, 0.05), IDLE, RATE), content_length=len(body))
        started = time.monotonic()
        _batches, error = await read_until_failure(reader)
        elapsed = time.monotonic() - started
        await settle(reader)
        return error, elapsed

    error, elapsed = run(main)
    assert isinstance(error, RequestTimeout)
    assert error.reason == "body_too_slow"
    assert "bytes/s" in error.description
    assert RATE.grace_seconds <= elapsed < 5.0


def test_time_the_taker_takes_does_not_count_against_the_rate() -> None:
    """§9: a body held back by a busy worker (backpressure) is not taken for a slow one:
    only time spent waiting for the sender counts."""
    body = body_of(3 * BATCH_BYTES)
    calls = 0

    def work(_data: bytes) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            time.sleep(5 * RATE.grace_seconds)

    async def main() -> list[Batch]:
        # 1 GiB/s: met by chunks that come at once, not by the wall clock of the test.
        rate = MinBodyRate(1024 * 1024 * KIB, RATE.grace_seconds)
        reader = BodyReader(watched(pieces(body), IDLE, rate))
        batches = await read_all(reader, work)
        await settle(reader)
        return batches

    batches = run(main)
    assert b"".join(b.data for b in batches) == body


# --- failures and close() -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "declared"),
    [
        pytest.param([], 100, id="first-receive-content-length"),
        pytest.param([], None, id="first-receive-no-length"),
        pytest.param([b"x" * CHUNK] * 6, None, id="after-a-batch"),
        pytest.param([b"x" * CHUNK] * 6, 10 * BATCH_BYTES, id="after-a-batch-content-length"),
    ],
)
def test_a_receive_side_failure_surfaces_on_the_next_anext(
    sent: list[bytes], declared: int | None
) -> None:
    """A dropped connection is raised to the taker, as it is, on the ``__anext__`` after
    it happened; it never passes for the end of the body (§3.4 all or nothing)."""

    async def main() -> tuple[list[Batch], BaseException]:
        reader = BodyReader(failing(sent), content_length=declared)
        result = await read_until_failure(reader)
        await settle(reader)
        return result

    batches, error = run(main)
    assert isinstance(error, Disconnected)
    assert not any(b.last for b in batches)


def test_a_failure_while_the_taker_is_busy_waits_for_the_next_anext() -> None:
    """The failure does not interrupt the taker's batch: it comes with the next ask."""

    async def main() -> tuple[Batch, BaseException]:
        go = asyncio.Event()
        reader = BodyReader(failing([b"x" * CHUNK] * 6, go))
        first = await anext(reader)
        go.set()
        await asyncio.sleep(0.05)  # the filler meets the failure meanwhile
        with pytest.raises(Disconnected) as caught:
            await anext(reader)
        await settle(reader)
        return first, caught.value

    first, _error = run(main)
    assert not first.last
    assert len(first.data) >= MIN_BATCH_BYTES


def test_close_cancels_the_filler() -> None:
    """Once the answer is decided, ``close()`` stops receiving body bytes nobody reads."""
    stopped = asyncio.Event()

    async def main() -> tuple[set[asyncio.Task[Any]], set[asyncio.Task[Any]]]:
        async def sender() -> AsyncIterator[bytes]:
            try:
                async for chunk in endless():
                    await asyncio.sleep(0)
                    yield chunk
            finally:
                stopped.set()

        chunks = sender()
        reader = BodyReader(chunks)
        await anext(reader)
        before = other_tasks()
        await settle(reader)
        await asyncio.sleep(0.01)
        after = other_tasks()
        await chunks.aclose()
        return before, after

    before, after = run(main)
    assert len(before) == 1  # the filler
    assert after == set()


def test_close_retrieves_a_failure_nobody_asked_for() -> None:
    """A receive failure met after the answer was decided is not reported as a task
    exception never retrieved (the route closes the reader without asking again)."""
    reported: list[dict[str, Any]] = []

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda _loop, ctx: reported.append(ctx))
        go = asyncio.Event()
        reader = BodyReader(failing([b"x" * CHUNK] * 6, go))
        await anext(reader)
        go.set()
        await asyncio.sleep(0.05)  # the filler fails meanwhile
        reader.close()
        del reader
        gc.collect()
        await asyncio.sleep(0)

    run(main)
    gc.collect()
    assert reported == []


def test_close_before_the_first_batch_and_twice_is_harmless() -> None:
    async def main() -> None:
        reader = BodyReader(pieces(b"abc"), content_length=3)
        reader.close()
        reader.close()
        await settle(reader)

    run(main)


# --- every byte once, in order ------------------------------------------------------------

chunkings = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=3 * CHUNK), st.sampled_from(["none", "yield", "sleep"])
    ),
    max_size=24,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(chunking=chunkings, declared=st.booleans(), busy_taker=st.booleans())
def test_every_byte_is_handed_out_once_in_order(
    chunking: list[tuple[int, str]], declared: bool, busy_taker: bool
) -> None:
    """§3.4 stored bytes are exactly the bytes sent: however the body is cut into chunks
    and however they are spaced, the batches are the body, in order, each byte once; the
    last batch ends it and no other batch is empty or over BATCH_BYTES plus one chunk."""
    sizes = [size for size, _ in chunking]
    body = body_of(sum(sizes))

    async def sender() -> AsyncIterator[bytes]:
        at = 0
        for size, pause in chunking:
            if pause == "yield":
                await asyncio.sleep(0)
            elif pause == "sleep":
                await asyncio.sleep(LINGER_SECONDS * 2)
            yield body[at : at + size]
            at += size

    async def main() -> list[Batch]:
        reader = BodyReader(sender(), content_length=len(body) if declared else None)
        work = (lambda _data: time.sleep(0.001)) if busy_taker else None
        batches = await read_all(reader, work)
        await settle(reader)
        return batches

    batches = run(main)
    assert_well_formed(batches)
    assert b"".join(b.data for b in batches) == body
    largest = max(sizes, default=0)
    assert all(len(b.data) <= BATCH_BYTES + largest for b in batches)
