"""Sign-in lockout for the claims-handler page (§11.3): 5 failed sign-ins for one e-mail
address within 15 minutes lock it for 15 minutes, in every process (the state is rows).

Addresses are counted whether or not an account has them, so the lock (and its message)
tells nothing about which addresses exist.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ecb_files.db import Database
from ecb_files.db import web_sessions as rows
from ecb_files.db.models import email_key


@dataclass(frozen=True)
class LockoutPolicy:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)
    lock_for: timedelta = timedelta(minutes=15)


class SignInLockout:
    def __init__(self, database: Database, policy: LockoutPolicy | None = None) -> None:
        self._database = database
        self._policy = policy or LockoutPolicy()

    def locked(self, email: str) -> bool:
        with self._database.read() as unit:
            until = rows.sign_in_locked_until(unit, _address_key(email))
        return until is not None and until > datetime.now(UTC)

    def failed(self, email: str) -> bool:
        """Count a failed sign-in; ``True`` when it locked the address."""
        key = _address_key(email)
        now = datetime.now(UTC)
        with self._database.write() as unit:
            # Swept here, at a failure, so the tables hold only what can still count.
            rows.drop_stale_sign_in_state(unit, failed_before=now - self._policy.window, now=now)
            rows.add_sign_in_failure(unit, key, now)
            failures = rows.count_sign_in_failures(unit, key, now - self._policy.window)
            if failures < self._policy.max_failures:
                return False
            rows.lock_sign_in(unit, key, now + self._policy.lock_for)
            return True

    def succeeded(self, email: str) -> None:
        """A good password forgets the address's earlier failures."""
        key = _address_key(email)
        with self._database.write() as unit:
            rows.clear_sign_in_failures(unit, key)
            rows.drop_sign_in_lock(unit, key)


def _address_key(email: str) -> str:
    return hashlib.sha256(email_key(email.strip()).encode()).hexdigest()
