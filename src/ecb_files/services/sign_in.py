"""Signing claims handlers in and out of the page at ``/ui/`` (§11.3).

A sign-in is refused with one message for a wrong password, an unknown or inactive
address, and a locked one alike: the page never tells which addresses have accounts.
While an address is locked its password is not even checked, so guessing goes no
further during the lock.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from ecb_files.services.sign_in_lockout import SignInLockout
from ecb_files.services.web_sessions import StartedSession, WebSession, WebSessions


class Refusal(enum.Enum):
    WRONG = "wrong"
    LOCKED = "locked"


@dataclass(frozen=True)
class ClaimsHandler:
    """A signed-in insurer user as the page shows and authorises them."""

    user_id: str
    email: str
    role: str
    tenant_id: int
    tenant_name: str

    @property
    def is_handler(self) -> bool:
        return self.role == "handler"


#: Checks an e-mail and password: the active user they name, or ``None``.
Authenticate = Callable[[str, str], ClaimsHandler | None]
#: The active user of an id, or ``None`` (removed or disabled since signing in).
FindUser = Callable[[str], ClaimsHandler | None]


@dataclass(frozen=True)
class SignedIn:
    user: ClaimsHandler
    session: WebSession


class SignIn:
    def __init__(
        self,
        sessions: WebSessions,
        lockout: SignInLockout,
        authenticate: Authenticate,
        find_user: FindUser,
    ) -> None:
        self._sessions = sessions
        self._lockout = lockout
        self._authenticate = authenticate
        self._find_user = find_user

    def sign_in(self, email: str, password: str) -> StartedSession | Refusal:
        if self._lockout.locked(email):
            return Refusal.LOCKED
        user = self._authenticate(email, password)
        if user is None:
            return Refusal.LOCKED if self._lockout.failed(email) else Refusal.WRONG
        self._lockout.succeeded(email)
        return self._sessions.start(user.user_id)

    def signed_in(self, cookie_value: str) -> SignedIn | None:
        """Who this cookie's live session belongs to; ``None`` when it names none, or its
        user can no longer sign in (disabled since)."""
        session = self._sessions.find(cookie_value)
        if session is None:
            return None
        user = self._find_user(session.user_id)
        return None if user is None else SignedIn(user, session)

    def sign_out(self, cookie_value: str) -> None:
        self._sessions.end(cookie_value)
