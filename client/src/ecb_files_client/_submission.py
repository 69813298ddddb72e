"""A submission as one flow, for the blocking and the asyncio client alike.

1. the limits in force (``GET …/file/limits``, once per client) and the local checks;
2. per attempt: an access token (cached), then the body streamed from the files, with
   the same ``Idempotency-Key`` on every attempt;
3. 200 → the result, each file's SHA-256 compared with what was sent; a connection
   failure, 5xx, 408, 409 or 429 → wait (backoff with jitter, at least ``Retry-After``)
   and try again, up to the policy's limit; 401 with a cached token → one retry with a
   fresh token; any other 4xx → its exception at once.

Because every attempt carries the same key and byte-identical body, a retry after a
lost answer is replayed by the server instead of storing the files twice (§3.4).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from ecb_files_client import _checks as checks
from ecb_files_client._body import Envelope, Piece, SubmissionBody
from ecb_files_client._checks import Limits
from ecb_files_client._exceptions import (
    BodyNotRepeatable,
    EcbClientError,
    TokenError,
    TransportError,
    Unauthorized,
    api_error,
)
from ecb_files_client._flow import Flow, HttpCall, HttpReply, Sleep
from ecb_files_client._progress import ProgressListener
from ecb_files_client._results import SubmitResult, parse_success
from ecb_files_client._retry import RetryPolicy, is_retryable_status, parse_retry_after
from ecb_files_client._tokens import ClientCredentials, TokenCache, TokenSource, with_issuer
from ecb_files_client._uploads import PreparedFile, Source, Upload, prepare
from ecb_files_client._version import USER_AGENT

API_PATH = "/ecx/host/api/integration/v1/file"

Files = Iterable[Upload | Source]
Timestamp = str | date | datetime | None


class Endpoint(Enum):
    """The two submit endpoints and the file flags each honours (§3.1)."""

    CASE = "submitForCase"
    DAMAGE_NOTIFICATION = "submitForDamageNotification"

    @property
    def honours_is_restricted(self) -> bool:
        return self is Endpoint.CASE

    @property
    def honours_is_damage_image(self) -> bool:
        return self is Endpoint.DAMAGE_NOTIFICATION


@dataclass(frozen=True)
class Submission:
    """One call's arguments."""

    endpoint: Endpoint
    target_id: str
    insurance_company_alias: str
    user_email: str
    files: Files
    security_token: str | None = None
    timestamp: Timestamp = None
    idempotency_key: str | None = None
    progress: ProgressListener | None = None


@dataclass(frozen=True)
class Plan:
    """A checked submission, ready to send as often as needed."""

    url: str
    files: tuple[PreparedFile, ...]
    body: SubmissionBody
    idempotency_key: str
    limits: Limits | None


class SubmissionFlows:
    """The state and flows that the blocking and the asyncio client share."""

    def __init__(
        self,
        base_url: str,
        credentials: ClientCredentials,
        *,
        security_token: str | None,
        retry: RetryPolicy | None,
        limits: Limits | None,
        validate_locally: bool,
        token_cache: TokenCache | None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        if not self.base_url.startswith(("https://", "http://")):
            raise ValueError(f"base_url must be an http(s) URL, not {base_url!r}")
        self.tokens = TokenSource(with_issuer(credentials, self.base_url), token_cache)
        self.security_token = security_token
        self.retry = retry or RetryPolicy()
        self.limits = limits
        self.validate_locally = validate_locally

    # -- limits and checks ----------------------------------------------------------------

    def limits_flow(self) -> Flow[Limits]:
        """The server's limits, asked once; the contract's defaults if it cannot say."""
        if self.limits is not None:
            return self.limits
        url = f"{self.base_url}{API_PATH}/limits"
        reply = yield HttpCall("GET", url, {"Accept": "application/json", "User-Agent": USER_AGENT})
        if isinstance(reply, HttpReply) and reply.status == 200:
            self.limits = Limits.from_document(reply.json())
            return self.limits
        # Unreachable now: the submission will meet the same failure and retry. Not
        # cached, so the next call asks again.
        return Limits()

    def plan(self, submission: Submission) -> Flow[Plan]:
        """Check ``submission`` (unless local checks are off) and build its body."""
        endpoint = submission.endpoint
        files = tuple(prepare(submission.files))
        for file in files:
            if file.is_restricted and not endpoint.honours_is_restricted:
                raise ValueError(
                    f"files[{file.index}]: is_restricted is honoured by submitForCase only; "
                    "a damage notification's files all become public when it is merged"
                )
            if file.is_damage_image and not endpoint.honours_is_damage_image:
                raise ValueError(
                    f"files[{file.index}]: is_damage_image is honoured by "
                    "submitForDamageNotification only"
                )
        security_token = submission.security_token or self.security_token
        if not security_token:
            raise ValueError("a security_token is needed (on the client or the call)")
        key = submission.idempotency_key
        if key is None:
            key = str(uuid.uuid4())
        envelope = Envelope(
            security_token=security_token,
            timestamp=_timestamp(submission.timestamp),
            target_id=submission.target_id,
            alias=submission.insurance_company_alias,
            user_email=submission.user_email,
            honours_is_restricted=endpoint.honours_is_restricted,
            honours_is_damage_image=endpoint.honours_is_damage_image,
        )
        limits: Limits | None = None
        if self.validate_locally:
            checks.check_idempotency_key(key)
            limits = yield from self.limits_flow()
            facts = [f.facts for f in files]
            body = SubmissionBody(envelope, files, limits.max_file_bytes)
            checks.check_request_length(body.content_length, limits)
            checks.check_fields(
                security_token=envelope.security_token,
                timestamp=envelope.timestamp,
                target_id=envelope.target_id,
                alias=envelope.alias,
                user_email=envelope.user_email,
                files=facts,
                limits=limits,
            )
            checks.check_file_types(facts)
        else:
            body = SubmissionBody(envelope, files, None)
        url = f"{self.base_url}{API_PATH}/{endpoint.value}"
        return Plan(url, files, body, key, limits)

    # -- the submission -------------------------------------------------------------------

    def submit(self, submission: Submission) -> Flow[SubmitResult]:
        plan = yield from self.plan(submission)
        listener = submission.progress or ProgressListener()
        infos = [f.info for f in plan.files]
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
                token, cached = yield from self.tokens.obtain(refresh=refresh_token)
            except TransportError as error:
                failure = error
            except TokenError as error:
                if not error.transient:
                    raise _counted(error, attempt) from None
                failure = error
            else:
                refresh_token = False
                if attempt > 1 and (stuck := plan.body.unrepeatable()) is not None:
                    raise _counted(
                        BodyNotRepeatable(
                            f"attempt {attempt - 1} failed ({last_failure}), and {stuck} is a "
                            "stream that cannot seek, so it cannot be sent again; pass a path "
                            "or a seekable file object to allow retries"
                        ),
                        attempt - 1,
                    ) from last_failure
                listener.attempt_started(attempt, infos, plan.body.content_length)
                reply = yield self._call(plan, token.value, on_piece)
                if isinstance(reply, HttpReply) and reply.status == 200:
                    return self._result(plan, reply, attempt)
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
                        self.tokens.forget(token)
                        refreshed = refresh_token = True
                        last_failure = refused
                        continue
                    if not is_retryable_status(reply.status):
                        raise _counted(refused, attempt)
                    failure = refused
                else:
                    failure = reply or TransportError("no answer")
            last_failure = failure
            # The free retry after a refused cached token does not use up the budget.
            delay = self.retry.delay(attempt - refreshed, retry_after)
            if delay is None:
                raise _counted(failure, attempt)
            listener.retrying(attempt, str(failure), delay)
            yield Sleep(delay)

    def _call(self, plan: Plan, token: str, on_piece: Callable[[Piece], None]) -> HttpCall:
        headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
            "Idempotency-Key": plan.idempotency_key,
            "User-Agent": USER_AGENT,
        }
        length = plan.body.content_length
        if length is not None:
            # With Content-Length set, httpx sends the iterator unchunked.
            headers["Content-Length"] = str(length)
        return HttpCall("POST", plan.url, headers, body=plan.body, on_piece=on_piece)

    @staticmethod
    def _result(plan: Plan, reply: HttpReply, attempt: int) -> SubmitResult:
        return parse_success(
            reply.json(),
            local_sha256=plan.body.digests,
            attempts=attempt,
            idempotency_key=plan.idempotency_key,
            request_id=reply.headers.get("x-request-id"),
            replayed=reply.headers.get("idempotent-replayed", "").lower() == "true",
        )


def _counted(error: EcbClientError, attempts: int) -> EcbClientError:
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


def _timestamp(value: Timestamp) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()
