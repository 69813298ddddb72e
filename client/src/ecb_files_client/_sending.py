"""Sending one prepared request until it is answered for good, for every endpoint.

Per attempt: an access token (cached), then the body streamed from the files, with the
same ``Idempotency-Key`` and byte-identical body on every attempt. The expected status
(200 for a submission, 201 for a new damage notification) ends the flow with the reply;
a connection failure, 5xx, 408, 409 or 429 → wait (backoff with jitter, at least
``Retry-After``) and try again, up to the policy's limit; 401 with a cached token → one
retry with a fresh token; any other answer → its exception at once.

Because every attempt carries the same key and the same bytes, a retry after a lost
answer is replayed by the server instead of storing the files twice (§3.4).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ecb_files_client._exceptions import (
    BodyNotRepeatable,
    EcbClientError,
    TokenError,
    TransportError,
    Unauthorized,
    api_error,
)
from ecb_files_client._flow import Flow, HttpCall, HttpReply, Sleep, Work
from ecb_files_client._progress import ProgressListener
from ecb_files_client._retry import RetryPolicy, is_retryable_status, parse_retry_after
from ecb_files_client._streamed import Piece, StreamedBody
from ecb_files_client._tokens import TokenSource
from ecb_files_client._uploads import PreparedFile
from ecb_files_client._version import USER_AGENT


@dataclass(frozen=True)
class PreparedRequest:
    """A checked request, ready to send as often as needed."""

    url: str
    files: tuple[PreparedFile, ...]
    body: StreamedBody
    idempotency_key: str
    locally_checked: bool  # the local checks ran (and passed)


@dataclass(frozen=True)
class Answer:
    """The reply that ended the flow, and how many attempts it took."""

    reply: HttpReply
    attempts: int

    @property
    def replayed(self) -> bool:
        return self.reply.headers.get("idempotent-replayed", "").lower() == "true"

    @property
    def request_id(self) -> str | None:
        return self.reply.headers.get("x-request-id")


def send(
    request: PreparedRequest,
    *,
    tokens: TokenSource,
    retry: RetryPolicy,
    progress: ProgressListener | None,
    success: int,
) -> Flow[Answer]:
    """Send ``request`` until the server answers ``success`` or an error for good."""
    listener = progress or ProgressListener()
    infos = [f.info for f in request.files]
    # Whatever the body must read ahead (a multipart submission's hashes), before any
    # request is open: the server cuts a body that stops arriving.
    if ahead := request.body.reads_ahead():
        listener.reading_ahead([f.info for f in ahead])
    yield Work(request.body.prepare)
    on_piece = _progress_relay(listener)
    attempt = 0
    refreshed = False  # one free retry with a fresh token after a 401
    refresh_token = False
    last_failure: EcbClientError | None = None
    while True:
        attempt += 1
        retry_after: float | None = None
        failure: EcbClientError
        try:
            token, cached = yield from tokens.obtain(refresh=refresh_token)
        except TransportError as error:
            failure = error
        except TokenError as error:
            if not error.transient:
                raise counted(error, attempt) from None
            failure = error
        else:
            refresh_token = False
            if attempt > 1 and (stuck := request.body.unrepeatable()) is not None:
                raise counted(
                    BodyNotRepeatable(
                        f"attempt {attempt - 1} failed ({last_failure}), and {stuck} is a "
                        "stream that cannot seek, so it cannot be sent again; pass a path "
                        "or a seekable file object to allow retries"
                    ),
                    attempt - 1,
                ) from last_failure
            listener.attempt_started(attempt, infos, request.body.content_length)
            reply = yield _call(request, token.value, on_piece)
            if isinstance(reply, HttpReply) and reply.status == success:
                return Answer(reply, attempt)
            if isinstance(reply, HttpReply):
                retry_after = parse_retry_after(reply.headers.get("retry-after"))
                refused = api_error(
                    reply.status,
                    reply.content,
                    request_id=reply.headers.get("x-request-id"),
                    retry_after=retry_after,
                )
                if isinstance(refused, Unauthorized) and cached and not refreshed:
                    # The cached token may have been revoked or its key rotated away.
                    tokens.forget(token)
                    refreshed = refresh_token = True
                    last_failure = refused
                    continue
                if not is_retryable_status(reply.status):
                    raise counted(refused, attempt)
                failure = refused
            else:
                failure = reply or TransportError("no answer")
        last_failure = failure
        # The free retry after a refused cached token does not use up the budget.
        delay = retry.delay(attempt - refreshed, retry_after)
        if delay is None:
            raise counted(failure, attempt)
        listener.retrying(attempt, str(failure), delay)
        yield Sleep(delay)


def _call(request: PreparedRequest, token: str, on_piece: Callable[[Piece], None]) -> HttpCall:
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": request.body.content_type,
        "Accept": "application/json",
        "Idempotency-Key": request.idempotency_key,
        "User-Agent": USER_AGENT,
    }
    length = request.body.content_length
    if length is not None:
        # With Content-Length set, httpx sends the iterator unchunked.
        headers["Content-Length"] = str(length)
    return HttpCall("POST", request.url, headers, body=request.body, on_piece=on_piece)


def counted(error: EcbClientError, attempts: int) -> EcbClientError:
    error.attempts = attempts
    return error


def _progress_relay(listener: ProgressListener) -> Callable[[Piece], None]:
    def relay(piece: Piece) -> None:
        if piece.file_index is not None and piece.file_bytes:
            listener.advance(piece.file_index, piece.file_bytes)
        if piece.file_done and piece.file_index is not None:
            listener.file_done(piece.file_index)
        if piece.end:
            listener.body_sent()

    return relay
