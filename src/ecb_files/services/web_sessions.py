"""The claims-handler page's sessions (§11.3), kept as database rows.

A session is a random id in an ``HttpOnly`` cookie and a row holding its SHA-256, its
user and its CSRF token. A row rather than a signed cookie because a signed cookie
cannot be taken back: sign-out deletes the row, and the row's ``expires_at`` ends it
after ``ECB_FILES_UI_SESSION_HOURS`` in every process alike.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ecb_files.db import Database
from ecb_files.db import web_sessions as rows


@dataclass(frozen=True)
class WebSession:
    """A live session: whose it is, the token its forms carry, and when it ends."""

    user_id: str
    csrf_token: str
    expires_at: datetime


@dataclass(frozen=True)
class StartedSession:
    cookie_value: str
    session: WebSession


class WebSessions:
    def __init__(self, database: Database, *, lifetime: timedelta) -> None:
        self._database = database
        self._lifetime = lifetime

    def start(self, user_id: str) -> StartedSession:
        """A new session for this user; the cookie value is known only to its browser."""
        now = datetime.now(UTC)
        cookie_value = secrets.token_urlsafe(32)
        session = WebSession(
            user_id=user_id,
            csrf_token=secrets.token_urlsafe(32),
            expires_at=now + self._lifetime,
        )
        with self._database.write() as unit:
            # Ended sessions are swept here, at the rare write, not on every page.
            rows.drop_ended_web_sessions(unit, now)
            rows.add_web_session(
                unit,
                id_sha256=_digest(cookie_value),
                user_id=session.user_id,
                csrf_token=session.csrf_token,
                created_at=now,
                expires_at=session.expires_at,
            )
        return StartedSession(cookie_value, session)

    def find(self, cookie_value: str) -> WebSession | None:
        """The live session this cookie names, or ``None`` (unknown, ended, signed out)."""
        if not cookie_value:
            return None
        with self._database.read() as unit:
            row = rows.live_web_session(unit, _digest(cookie_value), datetime.now(UTC))
            if row is None:
                return None
            return WebSession(row.user_id, row.csrf_token, row.expires_at)

    def end(self, cookie_value: str) -> None:
        """Sign-out: the cookie names no session from now on, in any process."""
        with self._database.write() as unit:
            rows.drop_web_session(unit, _digest(cookie_value))


def _digest(cookie_value: str) -> str:
    return hashlib.sha256(cookie_value.encode()).hexdigest()
