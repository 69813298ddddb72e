"""``BodyWatchMiddleware``: the §9 Robustness bounds on every request body, applied on the
ASGI receive — only to requests that have a body, and a cut-off body's answer closes the
connection (docs/behaviour.md §9 "Slow bodies")."""

from __future__ import annotations

import asyncio

from starlette.types import Message, Receive, Scope, Send

from ecb_files.api.body_watch import BodyWatchMiddleware
from ecb_files.api.idle_watch import MinBodyRate
from ecb_files.errors import RequestTimeout

BOUND = 0.05
PATIENCE = 5.0


def scope_with(*headers: tuple[bytes, bytes]) -> Scope:
    return {"type": "http", "method": "POST", "path": "/", "headers": list(headers)}


async def stalled_receive() -> Message:
    await asyncio.sleep(PATIENCE)  # the body never comes
    return {"type": "http.request", "body": b"late", "more_body": False}


def run_app(scope: Scope, receive: Receive) -> tuple[list[Message], BaseException | None]:
    """A route that reads one chunk and answers 200, or 408 when the read is cut off."""
    sent: list[Message] = []
    raised: BaseException | None = None

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        nonlocal raised
        status = 200
        try:
            await asyncio.wait_for(receive(), PATIENCE * 2)
        except RequestTimeout as error:
            raised = error
            status = 408
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def send(message: Message) -> None:
        sent.append(message)

    watched = BodyWatchMiddleware(app, idle_seconds=BOUND, min_rate=MinBodyRate(240, BOUND))
    asyncio.run(watched(scope, receive, send))
    return sent, raised


def test_a_request_without_a_body_is_not_watched() -> None:
    """§9: only bodies are bounded — a receive on a request with no body (a download
    listening for the client going away) waits as long as it must."""

    async def slow_disconnect() -> Message:
        await asyncio.sleep(BOUND * 4)
        return {"type": "http.disconnect"}

    sent, raised = run_app(scope_with((b"content-length", b"0")), slow_disconnect)
    assert raised is None
    assert sent[0]["status"] == 200


def test_a_cut_off_body_is_answered_408_with_connection_close() -> None:
    """§9: the stalled body's receive raises RequestTimeout; the answer closes the
    connection, so the rest of the body is not waited for."""
    sent, raised = run_app(scope_with((b"content-length", b"100")), stalled_receive)
    assert isinstance(raised, RequestTimeout)
    assert sent[0]["status"] == 408
    assert (b"connection", b"close") in sent[0]["headers"]


def test_a_chunked_body_is_watched_too() -> None:
    """§9: a body without a Content-Length (Transfer-Encoding: chunked) is bounded too."""
    sent, raised = run_app(scope_with((b"transfer-encoding", b"chunked")), stalled_receive)
    assert isinstance(raised, RequestTimeout)
    assert sent[0]["status"] == 408


def test_after_the_answer_has_begun_a_receive_is_not_cut_off() -> None:
    """§9: once the response has started (a streamed download listening for the client
    going away), a receive waits unbounded, even on a request that declared a body."""
    sent: list[Message] = []
    raised: list[BaseException] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        try:
            await asyncio.wait_for(receive(), BOUND * 4)
        except TimeoutError as error:  # the test's own bound: nothing came, nothing cut
            raised.append(error)
        await send({"type": "http.response.body", "body": b""})

    async def send(message: Message) -> None:
        sent.append(message)

    watched = BodyWatchMiddleware(app, idle_seconds=BOUND, min_rate=MinBodyRate(240, BOUND))
    asyncio.run(watched(scope_with((b"content-length", b"100")), stalled_receive, send))
    assert [type(e) for e in raised] == [TimeoutError]
    assert (b"connection", b"close") not in sent[0]["headers"]
