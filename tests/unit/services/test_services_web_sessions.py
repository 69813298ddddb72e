"""The page's sessions and sign-in lockout (§11.3), on a real database."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from sqlalchemy import text
from tests.db_support import COMPANY_ALIAS, World

from ecb_files.db import Database
from ecb_files.services.insurer_users import add_user, disable_user
from ecb_files.services.sign_in import Refusal, SignIn
from ecb_files.services.sign_in_lockout import LockoutPolicy, SignInLockout
from ecb_files.services.web_sessions import StartedSession, WebSessions

ANNA = "anna@insurer.example"


def sign_in_on(database: Database, lifetime: timedelta = timedelta(hours=8)) -> SignIn:
    add_user(database, COMPANY_ALIAS, ANNA, "right password", "handler")
    return SignIn(database, lifetime=lifetime)


def test_a_session_is_found_by_its_cookie_until_sign_out(database: Database, world: World) -> None:
    sign_in = sign_in_on(database)
    started = sign_in.sign_in("Anna@Insurer.example", "right password")
    assert isinstance(started, StartedSession)
    found = sign_in.signed_in(started.cookie_value)
    assert found is not None
    assert found.user.email == ANNA
    assert found.session.csrf_token == started.session.csrf_token
    sign_in.sign_out(started.cookie_value)
    assert sign_in.signed_in(started.cookie_value) is None


def test_a_session_ends_after_its_lifetime(database: Database, world: World) -> None:
    sign_in = sign_in_on(database, lifetime=timedelta(seconds=-1))
    started = sign_in.sign_in(ANNA, "right password")
    assert isinstance(started, StartedSession)
    assert sign_in.signed_in(started.cookie_value) is None


def test_only_a_digest_of_the_cookie_is_stored(database: Database, world: World) -> None:
    sessions = WebSessions(database, lifetime=timedelta(hours=1))
    started = sessions.start("7")
    with database.engine.connect() as connection:
        stored = connection.execute(text("SELECT id_sha256 FROM web_sessions")).scalar_one()
    assert stored == hashlib.sha256(started.cookie_value.encode()).hexdigest()
    assert sessions.find(started.cookie_value + "x") is None
    assert sessions.find("") is None


@pytest.mark.parametrize("email", [ANNA, "nobody@insurer.example"])
def test_five_failures_lock_an_address_whether_or_not_it_exists(
    database: Database, world: World, email: str
) -> None:
    sign_in = sign_in_on(database)
    outcomes = [sign_in.sign_in(email, "wrong") for _ in range(5)]
    assert outcomes == [Refusal.WRONG] * 4 + [Refusal.LOCKED]
    # Locked: even the right password is not checked.
    assert sign_in.sign_in(email, "right password") is Refusal.LOCKED
    assert sign_in.sign_in("other@insurer.example", "wrong") is Refusal.WRONG


def test_the_lock_lasts_its_time_and_a_success_forgets_failures(
    database: Database, world: World
) -> None:
    lockout = SignInLockout(database, LockoutPolicy(lock_for=timedelta(seconds=-1)))
    for _ in range(4):
        assert lockout.failed("a@b.example") is False
    assert lockout.failed("A@B.example") is True
    assert lockout.locked("a@b.example") is False  # its lock already ran out
    lockout.succeeded("a@b.example")
    for _ in range(4):
        assert lockout.failed("a@b.example") is False


def test_failures_outside_the_window_do_not_count(database: Database, world: World) -> None:
    lockout = SignInLockout(database, LockoutPolicy(window=timedelta(seconds=-1)))
    for _ in range(10):
        assert lockout.failed("a@b.example") is False
    assert lockout.locked("a@b.example") is False


def test_disabling_a_user_ends_their_sessions(database: Database, world: World) -> None:
    sign_in = sign_in_on(database)
    started = sign_in.sign_in(ANNA, "right password")
    assert isinstance(started, StartedSession)
    disable_user(database, COMPANY_ALIAS, ANNA)
    assert sign_in.signed_in(started.cookie_value) is None


def test_failures_too_old_to_count_and_ended_locks_are_swept(
    database: Database, world: World
) -> None:
    # Every failure locks, for no time at all: the lock row stays, run out.
    SignInLockout(database, LockoutPolicy(max_failures=1, lock_for=timedelta(seconds=-1))).failed(
        "a@b.example"
    )
    # Failures that count for no time stay as rows until the next failure sweeps them.
    forgetful = SignInLockout(database, LockoutPolicy(window=timedelta(seconds=-1)))
    forgetful.failed("c@d.example")
    assert count_rows(database, "sign_in_locks") == 0
    forgetful.failed("e@f.example")
    assert count_rows(database, "sign_in_failures") == 1


def count_rows(database: Database, table: str) -> int:
    with database.engine.connect() as connection:
        return int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
