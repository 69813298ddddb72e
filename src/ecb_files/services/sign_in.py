"""Signing claims handlers in and out of the page at ``/ui/`` (§11.3).

A sign-in is refused with one answer for a wrong password, an unknown or disabled
address and (with its own words) a locked one, whichever account exists: the page never
tells which addresses have accounts. While an address is locked its password is not
even checked, so guessing gets nowhere during the lock.

Every sign-in, refused sign-in and sign-out is recorded in the audit trail (§12.3),
a refused one under the address as typed, with why (``wrong`` or ``locked``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta

from ecb_files.db import Database
from ecb_files.services import audit
from ecb_files.services.audit import NO_ORIGIN, Actor, AuditTrail, Origin
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
        self._audit = AuditTrail(database)

    def sign_in(
        self, email: str, password: str, origin: Origin = NO_ORIGIN
    ) -> StartedSession | Refusal:
        outcome = self._outcome(email, password, origin)
        if isinstance(outcome, Refusal):
            refused = audit.event(
                audit.SIGN_IN_REFUSED, Actor("user", email), origin, detail=outcome.value
            )
            self._audit.record(refused)
        return outcome

    def _outcome(self, email: str, password: str, origin: Origin) -> StartedSession | Refusal:
        if self._lockout.locked(email):
            return Refusal.LOCKED
        user = authenticate_insurer_user(self._database, email, password)
        if user is None:
            return Refusal.LOCKED if self._lockout.failed(email) else Refusal.WRONG
        self._lockout.succeeded(email)
        started = self._sessions.start(str(user.id))
        who = Actor("user", user.email, tenant_id=user.tenant_id)
        self._audit.record(audit.event(audit.SIGN_IN, who, origin))
        return started

    def signed_in(self, cookie_value: str) -> SignedIn | None:
        """Whose live session this cookie names; ``None`` when it names none, or its user
        can no longer sign in (disabled since)."""
        session = self._sessions.find(cookie_value)
        if session is None:
            return None
        user = user_by_id(self._database, int(session.user_id))
        return None if user is None else SignedIn(user, session)

    def sign_out(self, cookie_value: str, origin: Origin = NO_ORIGIN) -> None:
        signed_in = self.signed_in(cookie_value)
        self._sessions.end(cookie_value)
        if signed_in is not None:
            user = signed_in.user
            who = Actor("user", user.email, tenant_id=user.tenant_id)
            self._audit.record(audit.event(audit.SIGN_OUT, who, origin))
