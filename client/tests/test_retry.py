"""Retries (issue: 5xx, 409, 429 and connection failures retried with backoff and
jitter, honouring Retry-After, up to a limit; 4xx not retried), against a scripted
HTTP server that answers what a healthy real server never would on demand."""

from __future__ import annotations

import hashlib
import io
import json
import random
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from client_support import Scripted, ScriptedServer, closed_port, envelope
from ecb_files_client import (
    BodyNotRepeatable,
    ClientCredentials,
    ClientSecret,
    GenericError,
    InvalidRequest,
    ProgressListener,
    RetryPolicy,
    SubmitClient,
    TokenCache,
    TooManyRequests,
    TransportError,
    Upload,
)
from ecb_files_client._retry import parse_retry_after

GUID = "00000000-0000-0000-0000-0000000000c1"
FAST = RetryPolicy(max_attempts=3, initial_delay=0.01, max_delay=0.02)


def test_backoff_grows_exponentially_with_jitter_within_bounds() -> None:
    policy = RetryPolicy(initial_delay=1, max_delay=10, multiplier=2)
    rng = random.Random(7)
    for attempt, ceiling in [(1, 1), (2, 2), (3, 4), (4, 8), (5, 10), (9, 10)]:
        draws = [policy.backoff(attempt, rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in draws)
        assert max(draws) - min(draws) > ceiling / 4  # jittered, not fixed


def test_retry_after_is_a_floor_and_too_long_a_wait_ends_the_retries() -> None:
    policy = RetryPolicy(max_attempts=5, initial_delay=0.1, max_retry_after=30)
    assert policy.delay(1, retry_after=3) == 3
    assert policy.delay(1, retry_after=31) is None
    assert policy.delay(5) is None  # the last attempt


def test_retry_after_as_seconds_or_http_date() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("7") == 7
    assert parse_retry_after(format_datetime(now + timedelta(seconds=90), usegmt=True), now) == 90
    assert parse_retry_after(format_datetime(now - timedelta(seconds=5), usegmt=True), now) == 0
    assert parse_retry_after("soon") is None


def _client(url: str, retry: RetryPolicy = FAST) -> SubmitClient:
    credentials = ClientCredentials("c", ClientSecret("s"), token_endpoint=f"{url}/connect/token")
    return SubmitClient(
        url,
        credentials,
        security_token=GUID,
        retry=retry,
        token_cache=TokenCache(),
    )


def _submit(client: SubmitClient, files: Any = None, **kwargs: Any) -> Any:
    return client.submit_to_case(
        GUID,
        insurance_company_alias="company",
        user_email="me@example.com",
        files=files or [Upload(b"hello", file_name="a.txt")],
        **kwargs,
    )


OK = Scripted(
    200,
    json.dumps(
        {
            "success": True,
            "payload": {
                "files": [
                    {
                        "id": "f1",
                        "fileName": "a.txt",
                        "size": 5,
                        "sha256": hashlib.sha256(b"hello").hexdigest(),
                    }
                ]
            },
        }
    ).encode(),
)


def test_5xx_is_retried_with_the_same_idempotency_key_until_it_succeeds() -> None:
    unavailable = Scripted(503, envelope("GenericError", "database down"), {"Retry-After": "0"})
    with ScriptedServer([unavailable, unavailable, OK]) as scripted, _client(scripted.url) as c:
        result = _submit(c)
    assert result.attempts == 3
    assert result.all_sha256_match
    keys = {headers["Idempotency-Key"] for headers in scripted.submissions}
    assert keys == {result.idempotency_key}


def test_retry_after_is_honoured() -> None:
    busy = Scripted(409, envelope("RequestInProgress", "in flight"), {"Retry-After": "1"})
    with ScriptedServer([busy, OK]) as scripted, _client(scripted.url) as c:
        started = time.monotonic()
        _submit(c)
    assert time.monotonic() - started >= 1


def test_429_exhausts_the_attempts_and_surfaces_as_too_many_requests() -> None:
    limited = Scripted(429, envelope("TooManyRequests", "slow down"), {"Retry-After": "0"})
    with (
        ScriptedServer([limited]) as scripted,
        _client(scripted.url) as c,
        pytest.raises(TooManyRequests) as caught,
    ):
        _submit(c)
    assert caught.value.attempts == 3 == len(scripted.submissions)
    assert caught.value.description == "slow down"


def test_4xx_is_not_retried() -> None:
    refused = Scripted(400, envelope("InvalidRequest", "payload.id: bad"))
    with (
        ScriptedServer([refused, OK]) as scripted,
        _client(scripted.url) as c,
        pytest.raises(InvalidRequest),
    ):
        _submit(c)
    assert len(scripted.submissions) == 1


def test_a_retry_after_beyond_the_policy_stops_at_once() -> None:
    later = Scripted(503, envelope("GenericError", "maintenance"), {"Retry-After": "3600"})
    with (
        ScriptedServer([later, OK]) as scripted,
        _client(scripted.url) as c,
        pytest.raises(GenericError) as caught,
    ):
        _submit(c)
    assert caught.value.retry_after == 3600
    assert len(scripted.submissions) == 1


def test_an_answer_that_is_not_the_envelope_is_a_generic_error_quoting_it() -> None:
    gateway = Scripted(502, b"<html>Bad Gateway</html>")
    with (
        ScriptedServer([gateway]) as scripted,
        _client(scripted.url) as c,
        pytest.raises(GenericError, match="Bad Gateway") as caught,
    ):
        _submit(c)
    assert caught.value.status == 502


def test_connection_failures_are_retried_then_reported() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    credentials = ClientCredentials("c", ClientSecret("s"), token_endpoint=f"{url}/connect/token")
    client = SubmitClient(
        url, credentials, security_token=GUID, retry=FAST, token_cache=TokenCache()
    )
    with client, pytest.raises(TransportError, match="could not connect") as caught:
        _submit(client)
    assert caught.value.attempts == 3


class _Retries(ProgressListener):
    def __init__(self) -> None:
        self.retries: list[tuple[int, float]] = []

    def retrying(self, attempt: int, reason: str, delay: float) -> None:
        self.retries.append((attempt, delay))


def test_the_listener_hears_of_each_retry() -> None:
    unavailable = Scripted(503, envelope("GenericError", "down"))
    listener = _Retries()
    with ScriptedServer([unavailable, OK]) as scripted, _client(scripted.url) as c:
        _submit(c, progress=listener)
    assert [attempt for attempt, _ in listener.retries] == [1]


class _OneWay(io.RawIOBase):
    """A stream that cannot seek (a pipe, a socket)."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._data.readinto(buffer)


def test_a_stream_that_cannot_seek_is_not_silently_resent() -> None:
    unavailable = Scripted(503, envelope("GenericError", "down"))
    with (
        ScriptedServer([unavailable, OK]) as scripted,
        _client(scripted.url) as c,
        pytest.raises(BodyNotRepeatable, match="cannot seek") as caught,
    ):
        _submit(c, files=[Upload(_OneWay(b"hello"), file_name="a.txt")])
    assert len(scripted.submissions) == 1
    assert caught.value.attempts == 1
    assert "transfer-encoding" in {h.lower() for h in scripted.submissions[0]}
