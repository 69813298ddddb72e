"""One flow for the blocking and the asyncio client: generators that yield what to do.

A flow (getting a token, submitting with retries) is a generator that never does I/O
itself. It yields an :class:`HttpCall` and is sent back an :class:`HttpReply`, or the
:class:`~ecb_files_client.TransportError` that stood in for one; it yields a
:class:`Sleep` and is resumed when the time is up; it yields :class:`Work` (blocking
file reading, say) and is resumed when it is done, off the event loop for the asyncio
client. Flows compose with ``yield from`` (a submission asks the token flow for its
token), and their final value is the result.

:func:`run` drives a flow with an ``httpx.Client`` and :func:`arun` with an
``httpx.AsyncClient``: the only difference between the two clients. This is also the
one place where httpx's exceptions are caught and translated.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncGenerator, Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

import httpx

from ecb_files_client._exceptions import TransportError
from ecb_files_client._streamed import Piece, StreamedBody

T = TypeVar("T")

# Answers of this API are a few kB; a misconfigured URL might serve anything.
MAX_REPLY_BYTES = 1024 * 1024


@dataclass(frozen=True)
class HttpCall:
    """One HTTP request to make: a form, a streamed submission body, or neither."""

    method: str
    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    form: Mapping[str, str] | None = None
    body: StreamedBody | None = None
    on_piece: Callable[[Piece], None] = lambda piece: None


@dataclass(frozen=True)
class HttpReply:
    """The answer to an :class:`HttpCall`: status, lower-cased headers, the body."""

    status: int
    headers: Mapping[str, str]
    content: bytes

    def json(self) -> object:
        """The body as JSON, or None if it is not JSON."""
        try:
            return json.loads(self.content)
        except ValueError:
            return None


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class Work:
    """Blocking work to do before the flow goes on (its exceptions end the flow)."""

    do: Callable[[], None]


Step = HttpCall | Sleep | Work
Reply = HttpReply | TransportError | None
Flow = Generator[Step, Reply, T]


def run(flow: Flow[T], http: httpx.Client) -> T:
    """Drive ``flow`` to its result with a blocking client."""
    reply: Reply = None
    try:
        while True:
            try:
                step = flow.send(reply)
            except StopIteration as stop:
                result: T = stop.value
                return result
            reply = None
            if isinstance(step, Sleep):
                time.sleep(step.seconds)
            elif isinstance(step, Work):
                step.do()
            else:
                reply = _send(http, step)
    finally:
        flow.close()


async def arun(flow: Flow[T], http: httpx.AsyncClient) -> T:
    """Drive ``flow`` to its result with an asyncio client."""
    reply: Reply = None
    try:
        while True:
            try:
                step = flow.send(reply)
            except StopIteration as stop:
                result: T = stop.value
                return result
            reply = None
            if isinstance(step, Sleep):
                await asyncio.sleep(step.seconds)
            elif isinstance(step, Work):
                await asyncio.to_thread(step.do)
            else:
                reply = await _asend(http, step)
    finally:
        flow.close()


def _send(http: httpx.Client, call: HttpCall) -> HttpReply | TransportError:
    content: Generator[bytes, None, None] | None = None
    if call.body is not None:
        content = call.body.iterate(call.on_piece)
    try:
        with http.stream(
            call.method,
            call.url,
            headers=dict(call.headers),
            data=dict(call.form) if call.form is not None else None,
            content=content,
        ) as response:
            chunks = []
            size = 0
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_REPLY_BYTES:
                    break
            return _reply(response, b"".join(chunks))
    except httpx.TransportError as error:
        return translate(error, call)
    finally:
        if content is not None:
            # A broken connection leaves the body half read: close its files now.
            content.close()


async def _asend(http: httpx.AsyncClient, call: HttpCall) -> HttpReply | TransportError:
    content: AsyncGenerator[bytes, None] | None = None
    if call.body is not None:
        content = call.body.aiterate(call.on_piece)
    try:
        async with http.stream(
            call.method,
            call.url,
            headers=dict(call.headers),
            data=dict(call.form) if call.form is not None else None,
            content=content,
        ) as response:
            chunks = []
            size = 0
            async for chunk in response.aiter_bytes():
                chunks.append(chunk)
                size += len(chunk)
                if size > MAX_REPLY_BYTES:
                    break
            return _reply(response, b"".join(chunks))
    except httpx.TransportError as error:
        return translate(error, call)
    finally:
        if content is not None:
            await content.aclose()


def _reply(response: httpx.Response, content: bytes) -> HttpReply:
    headers = {name.lower(): value for name, value in response.headers.items()}
    return HttpReply(response.status_code, headers, content[:MAX_REPLY_BYTES])


def translate(error: httpx.TransportError, call: HttpCall) -> TransportError:
    """An httpx failure as this package's error, saying what broke where."""
    where = f"{call.method} {call.url}"
    detail = str(error) or type(error).__name__
    if isinstance(error, httpx.ConnectTimeout):
        what = "timed out connecting"
    elif isinstance(error, httpx.ConnectError):
        what = "could not connect"
    elif isinstance(error, httpx.WriteTimeout):
        what = "timed out sending the request"
    elif isinstance(error, httpx.ReadTimeout):
        what = "timed out waiting for the answer"
    elif isinstance(error, httpx.PoolTimeout):
        what = "timed out waiting for a free connection"
    elif isinstance(error, httpx.RemoteProtocolError):
        what = "the server closed the connection without a complete answer"
    elif isinstance(error, httpx.ReadError | httpx.WriteError):
        what = "the connection broke"
    else:
        what = "HTTP transport failed"
    return TransportError(f"{what} ({where}): {detail}")
