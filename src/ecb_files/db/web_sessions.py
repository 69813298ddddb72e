"""The claims-handler page's sessions and sign-in lockout as rows (§11.3), shared by
every process of a deployment."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from ecb_files.db.database import Transaction
from ecb_files.db.models import SignInFailure, SignInLock, WebSession


def add_web_session(
    unit: Transaction,
    *,
    id_sha256: str,
    user_id: str,
    csrf_token: str,
    created_at: datetime,
    expires_at: datetime,
) -> None:
    unit.add(
        WebSession(
            id_sha256=id_sha256,
            user_id=user_id,
            csrf_token=csrf_token,
            created_at=created_at,
            expires_at=expires_at,
        )
    )
    unit.flush()


def live_web_session(unit: Transaction, id_sha256: str, now: datetime) -> WebSession | None:
    """The session with this id unless it has ended."""
    return unit.scalar(
        select(WebSession).where(WebSession.id_sha256 == id_sha256, WebSession.expires_at > now)
    )


def drop_web_session(unit: Transaction, id_sha256: str) -> None:
    unit.execute(delete(WebSession).where(WebSession.id_sha256 == id_sha256))


def drop_ended_web_sessions(unit: Transaction, now: datetime) -> None:
    unit.execute(delete(WebSession).where(WebSession.expires_at <= now))


def sign_in_locked_until(unit: Transaction, email_sha256: str) -> datetime | None:
    return unit.scalar(
        select(SignInLock.locked_until).where(SignInLock.email_sha256 == email_sha256)
    )


def add_sign_in_failure(unit: Transaction, email_sha256: str, at: datetime) -> None:
    unit.add(SignInFailure(email_sha256=email_sha256, failed_at=at))
    unit.flush()


def count_sign_in_failures(unit: Transaction, email_sha256: str, since: datetime) -> int:
    return (
        unit.scalar(
            select(func.count())
            .select_from(SignInFailure)
            .where(SignInFailure.email_sha256 == email_sha256, SignInFailure.failed_at > since)
        )
        or 0
    )


def lock_sign_in(unit: Transaction, email_sha256: str, until: datetime) -> None:
    """Lock the address until ``until``; its counted failures are spent on the lock."""
    # Two processes may lock the same address at once: an upsert lets both succeed.
    dialect = unit.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(SignInLock).values(email_sha256=email_sha256, locked_until=until)
    unit.execute(
        statement.on_conflict_do_update(
            index_elements=[SignInLock.email_sha256], set_={"locked_until": until}
        )
    )
    clear_sign_in_failures(unit, email_sha256)


def clear_sign_in_failures(unit: Transaction, email_sha256: str) -> None:
    unit.execute(delete(SignInFailure).where(SignInFailure.email_sha256 == email_sha256))


def drop_sign_in_lock(unit: Transaction, email_sha256: str) -> None:
    unit.execute(delete(SignInLock).where(SignInLock.email_sha256 == email_sha256))


def drop_stale_sign_in_state(unit: Transaction, *, failed_before: datetime, now: datetime) -> None:
    """Forget failures too old to count and locks that have run out, of every address."""
    unit.execute(delete(SignInFailure).where(SignInFailure.failed_at <= failed_before))
    unit.execute(delete(SignInLock).where(SignInLock.locked_until <= now))
