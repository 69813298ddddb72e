"""Signing claims handlers in and out of the page at ``/ui/`` (§11.3).

A sign-in is refused with one answer for a wrong password, an unknown or disabled
address and (with its own words) a locked one, whichever account exists: the page never
tells which addresses have accounts. While an address is locked its password is not
even checked, so guessing gets nowhere during the lock.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta

from ecb_files.db import Database
from ecb_files.services.insurer_users import UserRecord, authenticate_insurer_user, user_by_id
from ecb_files.services.sign_in_lockout import LockoutPolicy, SignInLockout
from ecb_files.services.web_sessions import StartedSession, WebSession, WebSessions


class Refusal(enum.Enum):
    WRONG = "wrong"
    LOCKED = "locked"


@dataclass(frozen=True)
class SignedIn:
    user: UserRecord
    session: WebSession


class SignIn:
    def __init__(
        self, database: Database, *, lifetime: timedelta, lockout: LockoutPolicy | None = None
    ) -> None:
        self._database = database
        self._sessions = WebSessions(database, lifetime=lifetime)
        self._lockout = SignInLockout(database, lockout)

    def sign_in(self, email: str, password: str) -> StartedSession | Refusal:
        if self._lockout.locked(email):
            return Refusal.LOCKED
        user = authenticate_insurer_user(self._database, email, password)
        if user is None:
            return Refusal.LOCKED if self._lockout.failed(email) else Refusal.WRONG
        self._lockout.succeeded(email)
        return self._sessions.start(str(user.id))

    def signed_in(self, cookie_value: str) -> SignedIn | None:
        """Whose live session this cookie names; ``None`` when it names none, or its user
        can no longer sign in (disabled since)."""
        session = self._sessions.find(cookie_value)
        if session is None:
            return None
        user = user_by_id(self._database, int(session.user_id))
        return None if user is None else SignedIn(user, session)

    def sign_out(self, cookie_value: str) -> None:
        self._sessions.end(cookie_value)
