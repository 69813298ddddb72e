"""The token endpoint's lockout by address (§12.2), on a real database with a clock the
test moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ecb_files.config import RateLimits
from ecb_files.db import Database
from ecb_files.errors import OAuthError
from ecb_files.services.auth_failures import AuthFailures

LIMITS = RateLimits(
    auth_failures_per_client=3, auth_failures_per_address=5, auth_failure_window_seconds=300
)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _locked(failures: AuthFailures, address: str, client_id: str | None) -> OAuthError | None:
    try:
        failures.check(address, client_id)
    except OAuthError as error:
        return error
    return None


def test_failures_for_one_client_lock_that_client_at_that_address(database: Database) -> None:
    """§12.2: per client id and address; other clients and addresses are not affected."""
    failures = AuthFailures(database, LIMITS, Clock())
    for _ in range(3):
        assert _locked(failures, "192.0.2.1", "partner") is None
        failures.failed("192.0.2.1", "partner")
    error = _locked(failures, "192.0.2.1", "partner")
    assert error is not None
    assert (error.status, error.error, error.retry_after) == (429, "temporarily_unavailable", 300)
    assert _locked(failures, "192.0.2.1", "someone-else") is None
    assert _locked(failures, "192.0.2.2", "partner") is None


def test_failures_of_any_clients_lock_the_address(database: Database) -> None:
    """§12.2: per address, whatever the client ids (or none)."""
    failures = AuthFailures(database, LIMITS, Clock())
    for client_id in ("a", "b", None, "c", "d"):
        failures.failed("192.0.2.9", client_id)
    assert _locked(failures, "192.0.2.9", "e") is not None
    assert _locked(failures, "192.0.2.9", None) is not None


def test_the_lock_lifts_when_the_oldest_counted_failure_leaves_the_window(
    database: Database,
) -> None:
    """§12.2: locked until the window passes; Retry-After counts down to it."""
    clock = Clock()
    failures = AuthFailures(database, LIMITS, clock)
    failures.failed("192.0.2.3", "partner")
    clock.now += timedelta(seconds=100)
    failures.failed("192.0.2.3", "partner")
    failures.failed("192.0.2.3", "partner")
    error = _locked(failures, "192.0.2.3", "partner")
    assert error is not None
    assert error.retry_after == 200
    clock.now += timedelta(seconds=200)
    assert _locked(failures, "192.0.2.3", "partner") is None


@pytest.mark.parametrize("client_id", ["x" * 5000, "ünïcødé"])
def test_any_client_id_is_counted(database: Database, client_id: str) -> None:
    """The client id is whatever the caller sent: kept as its digest, of any length."""
    failures = AuthFailures(database, LIMITS, Clock())
    for _ in range(3):
        failures.failed("192.0.2.4", client_id)
    assert _locked(failures, "192.0.2.4", client_id) is not None
