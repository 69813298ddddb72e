"""``BodyReader``, the async driver of the ingest core, fed straight from an async iterator
of chunks (no server): the size and idle bounds of CONTRACT §3.1 and §9, batches handed
to worker threads off the event loop (§6), and the body's SHA-256 for idempotent
replays (§3.4)."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest

from ecb_files.api.body import BATCH_BYTES, LINGER_SECONDS, MIN_BATCH_BYTES, BodyReader
from ecb_files.config import Limits
from ecb_files.errors import PayloadTooLarge, RequestTimeout

T = TypeVar("T")

KIB = 1024
CHUNK = 64 * KIB  # what a server's receive typically brings
IDLE = 30.0  # the idle bound where a test is not about it: never reached
SHORT_IDLE = 0.1
# A lingering batch must reach its worker well before any idle bound: the linger, plus
# slack for a loaded machine.
PROMPT = 0.5
WORK_SECONDS = 0.2
LIMITS = Limits()


class Refused(Exception):
    """What ``consume`` raises on a fault in the bytes (as the ingest core would)."""


class CountingExecutor(ThreadPoolExecutor):
    """The loop's default executor, counting the hops made to it."""

    def __init__(self) -> None:
        super().__init__(max_workers=4, thread_name_prefix="body-test")
        self.hops = 0

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        self.hops += 1
        return super().submit(fn, *args, **kwargs)


@dataclass
class Consumer:
    """``consume`` and ``finish`` for a reader, recording what each call got, and where."""

    fail_on_call: int | None = None  # 1-based: which consume call raises Refused
    hold_first_call: float = 0.0  # seconds the first consume call takes
    batches: list[bytes] = field(default_factory=list)
    consume_threads: list[int] = field(default_factory=list)
    consumed_at: list[float] = field(default_factory=list)
    digests: list[str] = field(default_factory=list)
    finish_threads: list[int] = field(default_factory=list)
    first_call_started: threading.Event = field(default_factory=threading.Event)
    first_call_done: threading.Event = field(default_factory=threading.Event)

    def consume(self, data: bytes) -> None:
        self.consumed_at.append(time.monotonic())
        self.consume_threads.append(threading.get_ident())
        self.batches.append(data)
        call = len(self.batches)
        if call == 1:
            self.first_call_started.set()
            if self.hold_first_call:
                time.sleep(self.hold_first_call)
            self.first_call_done.set()
        if call == self.fail_on_call:
            raise Refused(f"a fault in batch {call}")

    def finish(self, digest: str) -> str:
        self.finish_threads.append(threading.get_ident())
        self.digests.append(digest)
        return "finished"

    @property
    def consumed(self) -> bytes:
        return b"".join(self.batches)


def run(main: Callable[[], Awaitable[T]], executor: ThreadPoolExecutor | None = None) -> T:
    async def wrapped() -> T:
        if executor is not None:
            asyncio.get_running_loop().set_default_executor(executor)
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


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def settle(reader: BodyReader) -> None:
    """What a route does after the answer: stop receiving, let cancellations land."""
    reader.close()
    await asyncio.sleep(0)
    await asyncio.sleep(0)


# --- one hop for a body that arrives at once (§6) -----------------------------------------


@pytest.mark.parametrize("size", [1, 4 * KIB, BATCH_BYTES], ids=["1B", "4KiB", "BATCH_BYTES"])
def test_a_body_that_arrives_at_once_takes_one_worker_hop(size: int) -> None:
    """§6 off the loop: with its Content-Length, a body that came in one receive is
    consumed and finished in one hop, in one thread, once each."""
    body = body_of(size)
    consumer = Consumer()
    executor = CountingExecutor()

    async def main() -> int:
        reader = BodyReader(
            pieces(body, size), limits=LIMITS, idle_timeout=IDLE, content_length=size
        )
        read = await reader.run(consumer.consume, consumer.finish)
        assert read.result == "finished"
        await settle(reader)
        return threading.get_ident()

    loop_thread = run(main, executor)
    assert executor.hops == 1
    assert consumer.batches == [body]
    assert len(consumer.finish_threads) == 1
    assert consumer.consume_threads == consumer.finish_threads
    assert consumer.finish_threads[0] != loop_thread


def test_a_body_without_content_length_is_still_consumed_whole() -> None:
    """Without a Content-Length the end is only known from the end of the stream."""
    body = body_of(10 * KIB)
    consumer = Consumer()

    async def main() -> None:
        reader = BodyReader(pieces(body), limits=LIMITS, idle_timeout=IDLE)
        await reader.run(consumer.consume, consumer.finish)
        await settle(reader)

    run(main)
    assert consumer.consumed == body
    assert len(consumer.digests) == 1


def test_an_empty_body_is_finished_without_consuming() -> None:
    consumer = Consumer()

    async def main() -> None:
        reader = BodyReader(pieces(b""), limits=LIMITS, idle_timeout=IDLE, content_length=0)
        await reader.run(consumer.consume, consumer.finish)
        await settle(reader)

    run(main)
    assert consumer.batches == []
    assert consumer.digests == [sha256(b"")]


# --- batches (§6) -------------------------------------------------------------------------


@pytest.mark.parametrize("declared", [False, True], ids=["no-length", "content-length"])
def test_small_chunks_that_arrive_fast_are_handed_over_together(declared: bool) -> None:
    """§6: chunks of 64 KiB are gathered into batches of at least MIN_BATCH_BYTES (only
    the last piece, which goes with finish(), may be smaller); the bytes keep their order
    and the last batch shares its hop with finish()."""
    body = body_of(5 * BATCH_BYTES // 2 + 123)
    consumer = Consumer()
    executor = CountingExecutor()

    async def main() -> None:
        length = len(body) if declared else None
        reader = BodyReader(pieces(body), limits=LIMITS, idle_timeout=IDLE, content_length=length)
        await reader.run(consumer.consume, consumer.finish)
        await settle(reader)

    run(main, executor)
    assert consumer.consumed == body
    sizes = [len(batch) for batch in consumer.batches]
    assert all(size >= MIN_BATCH_BYTES for size in sizes[:-1]), sizes
    assert all(size <= BATCH_BYTES + CHUNK for size in sizes), sizes
    assert executor.hops == len(sizes) < len(body) // CHUNK
    assert consumer.consume_threads[-1] == consumer.finish_threads[0]


def test_at_most_two_batches_are_read_while_the_worker_is_busy() -> None:
    """§6 memory O(1) in the body's size: while a worker is busy, reading stops once the
    next batch is full."""
    pulled = 0
    release = threading.Event()

    async def counted() -> AsyncIterator[bytes]:
        nonlocal pulled
        async for chunk in endless():
            pulled += len(chunk)
            yield chunk

    def consume(_data: bytes) -> None:
        assert release.wait(10)

    async def main() -> None:
        reader = BodyReader(counted(), limits=LIMITS, idle_timeout=IDLE)
        request = asyncio.ensure_future(reader.run(consume, lambda _digest: None))
        await asyncio.sleep(0.1)
        assert pulled <= 2 * (BATCH_BYTES + CHUNK)
        release.set()
        request.cancel()
        with pytest.raises(asyncio.CancelledError):
            await request
        await settle(reader)

    run(main)


# --- a stalled sender: what arrived is read at once (§3.2 step 2, §9) --------------------


@pytest.mark.parametrize("declared", [False, True], ids=["no-length", "content-length"])
def test_what_arrived_before_a_stall_reaches_consume_within_the_linger(declared: bool) -> None:
    """§3.2 step 2 and §9: bytes that came before the sender stopped are handed to a
    worker within about LINGER_SECONDS, not held back for a full batch or the idle bound."""
    consumer = Consumer()
    head = b'{"securityToken": "not a guid'
    sent: list[float] = []

    async def main() -> None:
        never = asyncio.Event()

        async def sender() -> AsyncIterator[bytes]:
            sent.append(time.monotonic())
            async for chunk in stalling([head], never):
                yield chunk

        reader = BodyReader(
            sender(),
            limits=LIMITS,
            idle_timeout=IDLE,
            content_length=10 * KIB if declared else None,
        )
        request = asyncio.ensure_future(reader.run(consumer.consume, consumer.finish))
        deadline = time.monotonic() + PROMPT
        while not consumer.batches and time.monotonic() < deadline:
            await asyncio.sleep(LINGER_SECONDS)
        request.cancel()
        with pytest.raises(asyncio.CancelledError):
            await request
        await settle(reader)

    run(main)
    assert consumer.batches == [head]
    assert consumer.consumed_at[0] - sent[0] < PROMPT
    assert consumer.digests == []  # the body never ended


@pytest.mark.parametrize("declared", [False, True], ids=["no-length", "content-length"])
def test_a_fault_before_a_stall_is_answered_before_the_idle_timeout(declared: bool) -> None:
    """§3.2 step 2: a fault is answered when its bytes arrive, even if the rest never
    comes; the idle bound (§9) plays no part."""
    consumer = Consumer(fail_on_call=1)

    async def main() -> float:
        never = asyncio.Event()
        reader = BodyReader(
            stalling([b"{[", b"malformed"], never),
            limits=LIMITS,
            idle_timeout=IDLE,
            content_length=10 * KIB if declared else None,
        )
        started = time.monotonic()
        with pytest.raises(Refused):
            await reader.run(consumer.consume, consumer.finish)
        elapsed = time.monotonic() - started
        await settle(reader)
        return elapsed

    assert run(main) < PROMPT
    assert consumer.consumed == b"{[malformed"


# --- the idle bound (§9) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "declared"),
    [
        pytest.param([], None, id="nothing-no-length"),
        pytest.param([], 100, id="nothing-content-length"),
        pytest.param([b"{", b'"a"'], None, id="a-few-bytes-no-length"),
        pytest.param([b"{", b'"a"'], 100, id="a-few-bytes-content-length"),
    ],
)
def test_a_body_that_stops_arriving_raises_request_timeout(
    sent: list[bytes], declared: int | None
) -> None:
    """§9 Robustness: no byte for the idle bound → 408 GenericError."""

    async def main() -> float:
        never = asyncio.Event()
        reader = BodyReader(
            stalling(sent, never),
            limits=LIMITS,
            idle_timeout=SHORT_IDLE,
            content_length=declared,
        )
        started = time.monotonic()
        with pytest.raises(RequestTimeout) as caught:
            await reader.run(lambda _data: None, lambda _digest: None)
        elapsed = time.monotonic() - started
        assert caught.value.status == 408
        assert caught.value.reason == "body_idle_timeout"
        # The bound cancelled a receive; the request's own task is not left cancelling.
        task = asyncio.current_task()
        assert task is not None
        assert task.cancelling() == 0
        await asyncio.sleep(0)  # and no cancellation is still on its way to it
        await settle(reader)
        return elapsed

    assert SHORT_IDLE <= run(main) < 5.0


def test_a_slow_but_steady_body_is_not_cut_off() -> None:
    """§9: the bound is on a silence, not on the whole body: chunks every fifth of the
    bound, over several bounds, are all read."""
    body = body_of(12 * KIB)
    consumer = Consumer()

    async def main() -> None:
        reader = BodyReader(
            paced(body, KIB, SHORT_IDLE / 5),
            limits=LIMITS,
            idle_timeout=SHORT_IDLE,
            content_length=len(body),
        )
        await reader.run(consumer.consume, consumer.finish)
        await settle(reader)

    run(main)
    assert consumer.consumed == body
    assert consumer.digests == [sha256(body)]


def test_time_the_worker_takes_does_not_count_as_idle() -> None:
    """§9: while a busy worker keeps the reader from receiving, the sender is not idle."""
    body = body_of(3 * BATCH_BYTES)
    consumer = Consumer(hold_first_call=3 * SHORT_IDLE)

    async def main() -> None:
        reader = BodyReader(pieces(body), limits=LIMITS, idle_timeout=SHORT_IDLE)
        await reader.run(consumer.consume, consumer.finish)
        await settle(reader)

    run(main)
    assert consumer.consumed == body


# --- the size bound (§3.1, §3.2 step 1) ---------------------------------------------------

SMALL = Limits(max_request_bytes=1000)


@pytest.mark.parametrize(
    ("chunks", "declared"),
    [
        pytest.param(lambda: pieces(b"x" * 1001, 100), None, id="chunks-no-length"),
        pytest.param(lambda: pieces(b"x" * 1001, 1001), 1001, id="one-chunk-content-length"),
        pytest.param(lambda: endless(100), None, id="endless"),
    ],
)
def test_a_body_over_max_request_bytes_raises_payload_too_large(
    chunks: Callable[[], AsyncIterator[bytes]], declared: int | None
) -> None:
    """§3.1: a body over ``max_request_bytes`` → 413 GenericError, refused once the bound
    is passed (an endless body is not read on)."""
    consumer = Consumer()

    async def main() -> None:
        reader = BodyReader(chunks(), limits=SMALL, idle_timeout=IDLE, content_length=declared)
        with pytest.raises(PayloadTooLarge) as caught:
            await reader.run(consumer.consume, consumer.finish)
        assert caught.value.status == 413
        assert caught.value.reason == "request_too_large"
        await settle(reader)

    run(main)
    assert len(consumer.consumed) <= SMALL.max_request_bytes
    assert consumer.digests == []


@pytest.mark.parametrize("declared", [None, 1000], ids=["no-length", "content-length"])
def test_a_body_of_exactly_max_request_bytes_is_read(declared: int | None) -> None:
    """§3.1: the bound itself is allowed."""
    body = body_of(SMALL.max_request_bytes)
    consumer = Consumer()

    async def main() -> None:
        reader = BodyReader(
            pieces(body, 100), limits=SMALL, idle_timeout=IDLE, content_length=declared
        )
        await reader.run(consumer.consume, consumer.finish)
        await settle(reader)

    run(main)
    assert consumer.consumed == body


def test_with_a_content_length_nothing_past_it_is_read() -> None:
    """The body is complete with its declared last byte: the end of the stream is not
    awaited, and what a sender puts past it is not part of the body."""
    body = body_of(2000)
    consumer = Consumer()

    async def main() -> None:
        reader = BodyReader(pieces(body, 100), limits=SMALL, idle_timeout=IDLE, content_length=900)
        await reader.run(consumer.consume, consumer.finish)
        await settle(reader)

    run(main)
    assert consumer.consumed == body[:900]
    assert consumer.digests == [sha256(body[:900])]


# --- the digest (§3.4 idempotent retries) -------------------------------------------------


@pytest.mark.parametrize(
    ("size", "declared"),
    [
        pytest.param(5 * KIB, True, id="at-once"),
        pytest.param(3 * BATCH_BYTES + 7, False, id="in-batches"),
        pytest.param(3 * BATCH_BYTES + 7, True, id="in-batches-content-length"),
    ],
)
def test_the_digest_of_the_whole_body_goes_to_finish_and_to_the_reader(
    size: int, declared: bool
) -> None:
    """§3.4: the SHA-256 that recognises a retry of the same body is of the whole body."""
    body = body_of(size)
    consumer = Consumer()

    async def main() -> tuple[str, str | None]:
        reader = BodyReader(
            pieces(body),
            limits=LIMITS,
            idle_timeout=IDLE,
            content_length=size if declared else None,
            digest=True,
        )
        read = await reader.run(consumer.consume, consumer.finish)
        await settle(reader)
        return read.sha256, reader.digest

    assert run(main) == (sha256(body), sha256(body))
    assert consumer.digests == [sha256(body)]


def test_without_digest_finish_gets_an_empty_digest() -> None:
    """Without an Idempotency-Key the body is not hashed."""
    body = body_of(5 * KIB)
    consumer = Consumer()

    async def main() -> tuple[str, str | None]:
        reader = BodyReader(pieces(body), limits=LIMITS, idle_timeout=IDLE, digest=False)
        read = await reader.run(consumer.consume, consumer.finish)
        await settle(reader)
        return read.sha256, reader.digest

    assert run(main) == ("", "")
    assert consumer.digests == [""]


def test_the_digest_is_unknown_until_the_body_has_been_read() -> None:
    consumer = Consumer(fail_on_call=1)

    async def main() -> str | None:
        reader = BodyReader(pieces(body_of(3 * BATCH_BYTES)), limits=LIMITS, idle_timeout=IDLE)
        with pytest.raises(Refused):
            await reader.run(consumer.consume, consumer.finish)
        await settle(reader)
        return reader.digest

    assert run(main) is None


@pytest.mark.parametrize(
    ("size", "declared", "fail_on_call"),
    [
        pytest.param(5 * KIB, True, 1, id="at-once"),
        pytest.param(3 * BATCH_BYTES + 7, False, 1, id="first-batch"),
        pytest.param(3 * BATCH_BYTES + 7, True, 2, id="second-batch-content-length"),
        pytest.param(BATCH_BYTES + 7, False, 2, id="last-batch-with-finish"),
    ],
)
def test_drain_after_a_consume_failure_yields_the_digest_of_the_whole_body(
    size: int, declared: bool, fail_on_call: int
) -> None:
    """§3.4: a refused request is remembered under its key with the SHA-256 of the whole
    body, batches read before, during and after the fault included."""
    body = body_of(size)
    consumer = Consumer(fail_on_call=fail_on_call)

    async def main() -> tuple[str, str | None]:
        reader = BodyReader(
            pieces(body),
            limits=LIMITS,
            idle_timeout=IDLE,
            content_length=size if declared else None,
        )
        with pytest.raises(Refused):
            await reader.run(consumer.consume, consumer.finish)
        digest = await reader.drain()
        await settle(reader)
        return digest, reader.digest

    assert run(main) == (sha256(body), sha256(body))
    assert consumer.digests == []  # finish never ran: the answer was the fault


# --- cancellation (§3.4 all or nothing) ---------------------------------------------------


def test_a_cancelled_request_waits_for_the_worker_mid_batch() -> None:
    """§3.4: the caller cleans up what a worker writes to only after the worker is done;
    a thread cannot be stopped, so CancelledError waits for it."""
    consumer = Consumer(hold_first_call=WORK_SECONDS)

    async def main() -> None:
        reader = BodyReader(pieces(body_of(3 * BATCH_BYTES)), limits=LIMITS, idle_timeout=IDLE)
        request = asyncio.ensure_future(reader.run(consumer.consume, consumer.finish))
        while not consumer.first_call_started.is_set():
            await asyncio.sleep(0.001)
        assert not consumer.first_call_done.is_set()
        request.cancel()
        with pytest.raises(asyncio.CancelledError):
            await request
        assert consumer.first_call_done.is_set(), "CancelledError came before the worker ended"
        await settle(reader)

    run(main)
    assert consumer.digests == []


def test_a_cancelled_request_waits_for_the_worker_of_the_last_batch() -> None:
    """The same for the hop that runs the last batch and finish()."""
    consumer = Consumer(hold_first_call=WORK_SECONDS)
    finished = threading.Event()

    def finish(digest: str) -> str:
        finished.set()
        return consumer.finish(digest)

    async def main() -> None:
        body = body_of(5 * KIB)
        reader = BodyReader(
            pieces(body), limits=LIMITS, idle_timeout=IDLE, content_length=len(body)
        )
        request = asyncio.ensure_future(reader.run(consumer.consume, finish))
        while not consumer.first_call_started.is_set():
            await asyncio.sleep(0.001)
        request.cancel()
        with pytest.raises(asyncio.CancelledError):
            await request
        assert finished.is_set(), "CancelledError came before the worker ended"
        await settle(reader)

    run(main)


def test_a_request_cancelled_twice_still_waits_for_the_worker_mid_batch() -> None:
    """§3.4: as with one cancel, however often the request is cancelled meanwhile."""
    consumer = Consumer(hold_first_call=WORK_SECONDS)

    async def main() -> None:
        reader = BodyReader(pieces(body_of(3 * BATCH_BYTES)), limits=LIMITS, idle_timeout=IDLE)
        request = asyncio.ensure_future(reader.run(consumer.consume, consumer.finish))
        while not consumer.first_call_started.is_set():
            await asyncio.sleep(0.001)
        request.cancel()
        await asyncio.sleep(WORK_SECONDS / 4)
        assert not request.done()
        request.cancel()
        with pytest.raises(asyncio.CancelledError):
            await request
        done_in_time = consumer.first_call_done.is_set()
        await asyncio.to_thread(consumer.first_call_done.wait, 10)  # before the loop ends
        await settle(reader)
        assert done_in_time, "CancelledError came before the worker ended"

    run(main)
