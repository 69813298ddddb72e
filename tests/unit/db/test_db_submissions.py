"""The submit path's Core statements (§3.2 steps 3.1–3.4, step 4): each lookup's
rule, where another tenant's or partner's object is indistinguishable from a missing one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker
from tests.db_support import (
    CLIENT_ID,
    CLOSED_CASE,
    COMPANY_ALIAS,
    EMAIL,
    INACTIVE_EMAIL,
    OPEN_CASE,
    OPEN_DN,
    OTHER_ALIAS,
    OTHER_PARTNER,
    OTHER_PARTNER_DN,
    OTHER_TENANT_CASE,
    OTHER_TENANT_DN,
    PARTNER,
    PARTNER_TOKEN,
    UNASSIGNED_CASE,
    World,
    file_for,
    seed_world,
    submission_for,
)

from ecb_files.db import Database, models
from ecb_files.db import submissions as intake
from ecb_files.db.session import read_connection, transaction

MERGED_DN = uuid.UUID("00000000-0000-4000-8000-0000000000d2")
UNICODE_EMAIL = "Straße.Ølund@example.com"
MISSING = uuid.UUID("00000000-0000-4000-8000-0000000000ff")


@pytest.fixture
def world(database: Database) -> World:
    """``seed_world``, plus a DN of PARTNER's merged into CLOSED_CASE and an employee
    whose address only matches under Unicode case folding."""
    world = seed_world(database)
    with database.write() as session:
        session.add(
            models.DamageNotification(
                id=MERGED_DN,
                company_id=world.company_id,
                partner_id=PARTNER,
                merged_to_case_id=CLOSED_CASE,
            )
        )
        session.add(models.Employee(partner_id=PARTNER, email=UNICODE_EMAIL, active=True))
    return world


# --- find_caller: the client, its partner's token (3.1) and the employee (3.2) -----------


@pytest.mark.parametrize("spelling", [EMAIL, EMAIL.lower(), EMAIL.upper()])
def test_caller_names_client_partner_token_and_employee(
    factory: sessionmaker[Session], world: World, spelling: str
) -> None:
    """§3.2 steps 3.1 and 3.2 in one lookup; the e-mail is matched case-insensitively."""
    with read_connection(factory) as connection:
        caller = intake.find_caller(connection, CLIENT_ID, spelling)
    assert caller == intake.Caller(
        client_pk=world.client_pk,
        partner_id=PARTNER,
        security_token=PARTNER_TOKEN,
        employee_id=world.employee_id,
    )


@pytest.mark.parametrize(
    ("email", "why"),
    [
        (INACTIVE_EMAIL, "inactive employee"),
        ("nobody@example.com", "no such employee"),
        ("other@example.com", "another partner's employee"),
        ("", "empty address"),
    ],
)
def test_caller_without_an_active_employee_has_no_employee_id(
    factory: sessionmaker[Session], world: World, email: str, why: str
) -> None:
    """§3.2 step 3.2: the client and its partner are still found (step 3.1 comes first)."""
    with read_connection(factory) as connection:
        caller = intake.find_caller(connection, CLIENT_ID, email)
    assert caller is not None, why
    assert (caller.client_pk, caller.partner_id) == (world.client_pk, PARTNER), why
    assert caller.security_token == PARTNER_TOKEN, why
    assert caller.employee_id is None, why


def test_unknown_client_has_no_caller(factory: sessionmaker[Session], world: World) -> None:
    with read_connection(factory) as connection:
        assert intake.find_caller(connection, "no-such-client", EMAIL) is None
        assert intake.find_caller(connection, CLIENT_ID.upper(), EMAIL) is None


@pytest.mark.parametrize(
    ("email", "found"),
    [
        (EMAIL, True),
        (EMAIL.swapcase(), True),
        (UNICODE_EMAIL, True),
        ("STRASSE.ØLUND@EXAMPLE.COM", True),  # ß case-folds to ss
        ("strasse.ølund@example.com", True),
        (INACTIVE_EMAIL, False),
        ("other@example.com", False),
        ("nobody@example.com", False),
    ],
)
def test_caller_employee_is_the_active_one_matched_by_case_folding(
    factory: sessionmaker[Session], world: World, email: str, found: bool
) -> None:
    """§1, §3.2 step 3.2: the partner's active employee, e-mail matched case-insensitively."""
    with read_connection(factory) as connection:
        caller = intake.find_caller(connection, CLIENT_ID, email)
    assert caller is not None
    assert (caller.employee_id is not None) is found
    if found and email.casefold() == EMAIL.casefold():
        assert caller.employee_id == world.employee_id


# --- find_case_state / find_dn_state: target lookup (3.3) and its state (3.4) ------------

CASE_LOOKUPS = [
    pytest.param(OPEN_CASE, COMPANY_ALIAS, PARTNER, True, id="open"),
    pytest.param(CLOSED_CASE, COMPANY_ALIAS, PARTNER, False, id="closed"),
    pytest.param(OPEN_CASE, OTHER_ALIAS, PARTNER, None, id="another-tenants-alias"),
    pytest.param(OTHER_TENANT_CASE, COMPANY_ALIAS, PARTNER, None, id="other-tenant"),
    pytest.param(OTHER_TENANT_CASE, OTHER_ALIAS, PARTNER, None, id="tenant-not-served"),
    pytest.param(OTHER_TENANT_CASE, OTHER_ALIAS, OTHER_PARTNER, True, id="partner-of-two-tenants"),
    pytest.param(UNASSIGNED_CASE, COMPANY_ALIAS, PARTNER, None, id="unassigned"),
    pytest.param(UNASSIGNED_CASE, COMPANY_ALIAS, OTHER_PARTNER, True, id="assigned-other"),
    pytest.param(MISSING, COMPANY_ALIAS, PARTNER, None, id="missing"),
    pytest.param(OPEN_CASE, COMPANY_ALIAS.upper(), PARTNER, None, id="alias-exact"),
]


@pytest.mark.parametrize(("case_id", "alias", "partner", "is_open"), CASE_LOOKUPS)
def test_case_state_of_an_assigned_partner_of_a_served_tenant(
    factory: sessionmaker[Session],
    world: World,
    case_id: uuid.UUID,
    alias: str,
    partner: uuid.UUID,
    is_open: bool | None,
) -> None:
    """§3.2 steps 3.3 and 3.4: found when the alias names the case's tenant, the partner
    serves it and is assigned to the case; open exactly when its status is open."""
    expected = None if is_open is None else intake.CaseState(case_id, is_open)
    with read_connection(factory) as connection:
        assert intake.find_case_state(connection, case_id, alias, partner) == expected


def test_case_state_tells_open_from_closed(factory: sessionmaker[Session], world: World) -> None:
    """§3.2 step 3.4: a closed case is found (so it is ClaimIsClosed, not ClaimNotFound)."""
    with read_connection(factory) as connection:
        assert intake.find_case_state(connection, OPEN_CASE, COMPANY_ALIAS, PARTNER) == (
            intake.CaseState(OPEN_CASE, is_open=True)
        )
        assert intake.find_case_state(connection, CLOSED_CASE, COMPANY_ALIAS, PARTNER) == (
            intake.CaseState(CLOSED_CASE, is_open=False)
        )
        assert intake.find_case_state(connection, UNASSIGNED_CASE, COMPANY_ALIAS, PARTNER) is None


_UNMERGED = object()
DN_LOOKUPS = [
    pytest.param(OPEN_DN, COMPANY_ALIAS, PARTNER, _UNMERGED, id="unmerged"),
    pytest.param(MERGED_DN, COMPANY_ALIAS, PARTNER, CLOSED_CASE, id="merged"),
    pytest.param(OTHER_PARTNER_DN, COMPANY_ALIAS, PARTNER, None, id="other-partner"),
    pytest.param(OTHER_PARTNER_DN, COMPANY_ALIAS, OTHER_PARTNER, _UNMERGED, id="its-creator"),
    pytest.param(OPEN_DN, OTHER_ALIAS, PARTNER, None, id="another-tenants-alias"),
    pytest.param(OTHER_TENANT_DN, COMPANY_ALIAS, OTHER_PARTNER, None, id="other-tenant"),
    pytest.param(MERGED_DN, COMPANY_ALIAS, OTHER_PARTNER, None, id="merged-other-partner"),
    pytest.param(MISSING, COMPANY_ALIAS, PARTNER, None, id="missing"),
]


@pytest.mark.parametrize(("dn_id", "alias", "partner", "merged_to"), DN_LOOKUPS)
def test_dn_state_of_its_creator_in_its_tenant(
    factory: sessionmaker[Session],
    world: World,
    dn_id: uuid.UUID,
    alias: str,
    partner: uuid.UUID,
    merged_to: object,
) -> None:
    """§3.2 steps 3.3 and 3.4: found when the alias names the DN's tenant and the partner
    created it (``None`` in ``merged_to``: not found), with the case it was merged into."""
    if merged_to is None:
        expected = None
    else:
        case_id = None if merged_to is _UNMERGED else merged_to
        assert case_id is None or isinstance(case_id, uuid.UUID)
        expected = intake.DamageNotificationState(dn_id, merged_to_case_id=case_id)
    with read_connection(factory) as connection:
        assert intake.find_dn_state(connection, dn_id, alias, partner) == expected


def test_dn_state_names_the_case_it_was_merged_into(
    factory: sessionmaker[Session], world: World
) -> None:
    """§3.2 step 3.4: DamageNotificationMergedToClaim names the case."""
    with read_connection(factory) as connection:
        merged = intake.find_dn_state(connection, MERGED_DN, COMPANY_ALIAS, PARTNER)
        unmerged = intake.find_dn_state(connection, OPEN_DN, COMPANY_ALIAS, PARTNER)
    assert merged == intake.DamageNotificationState(MERGED_DN, merged_to_case_id=CLOSED_CASE)
    assert unmerged == intake.DamageNotificationState(OPEN_DN, merged_to_case_id=None)


def test_target_lookups_work_inside_a_write_transaction(
    factory: sessionmaker[Session], world: World
) -> None:
    """Step 4 checks the target again in the write transaction (a case may close)."""
    with transaction(factory) as session:
        connection = session.connection()
        case = intake.find_case_state(connection, OPEN_CASE, COMPANY_ALIAS, PARTNER)
        dn = intake.find_dn_state(connection, OPEN_DN, COMPANY_ALIAS, PARTNER)
    assert case == intake.CaseState(OPEN_CASE, is_open=True)
    assert dn == intake.DamageNotificationState(OPEN_DN, merged_to_case_id=None)


# --- submission_row / queue_submission: the rows of step 4 ------------------------------


def test_submission_row_names_every_column_with_a_fresh_id(world: World) -> None:
    first, second = submission_for(world), submission_for(world)
    assert set(first) == set(models.Submission.__table__.columns.keys())
    assert isinstance(first["id"], uuid.UUID)
    assert first["id"] != second["id"]
    assert {k: v for k, v in first.items() if k != "id"} == {
        k: v for k, v in second.items() if k != "id"
    }


def test_submission_rows_are_numbered_in_the_order_they_were_made(world: World) -> None:
    """§3.3 (docs/behaviour.md): a submission's id is time-ordered, so a later one sorts
    after an earlier one and the index on the id grows at its end."""
    ids = [submission_for(world)["id"] for _ in range(100)]
    assert ids == sorted(ids)
    assert {made.version for made in ids} == {7}


def test_insert_submission_writes_the_submission_and_its_files(
    factory: sessionmaker[Session], world: World
) -> None:
    """§3.2 step 4: one submission row and a row per file, as the ORM reads them back."""
    submission = submission_for(world)
    files = [file_for(submission, "photo.jpg", b"one"), file_for(submission, "secret.jpg", b"2")]
    with transaction(factory) as session:
        intake.queue_submission(session, submission, files)
        intake.insert_queued(session)
    with transaction(factory) as session:
        stored = session.get(models.Submission, submission["id"])
        assert stored is not None
        assert {key: getattr(stored, key) for key in submission} == submission
        rows = session.scalars(
            select(models.StoredFile).where(models.StoredFile.submission_id == submission["id"])
        ).all()
        assert sorted(({key: getattr(row, key) for key in files[0]} for row in rows), key=str) == (
            sorted(files, key=str)
        )


def test_insert_submission_for_a_dn_without_optional_values(
    factory: sessionmaker[Session], world: World
) -> None:
    submission = submission_for(
        world,
        endpoint=models.ENDPOINT_DN,
        case_id=None,
        dn_id=OPEN_DN,
        timestamp=None,
        idempotency_key=None,
    )
    files = [file_for(submission, "damage.jpg", b"dent")]
    with transaction(factory) as session:
        intake.queue_submission(session, submission, files)
        intake.insert_queued(session)
    with transaction(factory) as session:
        stored = session.get(models.Submission, submission["id"])
        assert stored is not None
        assert (stored.case_id, stored.dn_id, stored.timestamp) == (None, OPEN_DN, None)
        listed = select(models.StoredFile.id).where(models.StoredFile.dn_id == OPEN_DN)
        assert session.scalars(listed).all() == [files[0]["id"]]


def test_insert_submission_without_files_writes_only_the_submission(
    factory: sessionmaker[Session], world: World
) -> None:
    submission = submission_for(world)
    with transaction(factory) as session:
        intake.queue_submission(session, submission, [])
        intake.insert_queued(session)
    with transaction(factory) as session:
        assert session.get(models.Submission, submission["id"]) is not None
        assert session.scalars(select(models.StoredFile)).all() == []


def test_inserted_rows_go_with_a_rolled_back_transaction(
    factory: sessionmaker[Session], world: World
) -> None:
    """§3.4 all or nothing: the statements only execute; the caller's transaction decides."""
    submission = submission_for(world)
    files = [file_for(submission, "photo.jpg", b"one")]

    def insert_then_fail() -> None:
        with transaction(factory) as session:
            intake.queue_submission(session, submission, files)
            intake.insert_queued(session)
            raise RuntimeError("refused after writing")

    with pytest.raises(RuntimeError):
        insert_then_fail()
    with transaction(factory) as session:
        assert session.get(models.Submission, submission["id"]) is None
        assert session.scalars(select(models.StoredFile)).all() == []


# --- queue_submission / insert_queued: the inserts of a group commit, together ----------


class Statements:
    """The SQL statements an engine sends to the database (an executemany counts once)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sent: list[str] = []
        event.listen(engine, "before_cursor_execute", self._on_execute)

    def inserts_into(self, table: str) -> int:
        return sum(
            1 for s in self.sent if s.lstrip().upper().startswith(f"INSERT INTO {table.upper()}")
        )

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._on_execute)

    def _on_execute(self, *args: Any) -> None:
        self.sent.append(args[2])  # (connection, cursor, statement, parameters, ...)


@pytest.fixture
def statements(engine: Engine) -> Iterator[Statements]:
    counter = Statements(engine)
    yield counter
    counter.close()


def stored_submissions(factory: sessionmaker[Session]) -> set[uuid.UUID]:
    with transaction(factory) as session:
        return set(session.scalars(select(models.Submission.id)))


def stored_file_ids(factory: sessionmaker[Session]) -> set[uuid.UUID]:
    with transaction(factory) as session:
        return set(session.scalars(select(models.StoredFile.id)))


def test_insert_queued_inserts_every_queued_submission_and_its_files_together(
    factory: sessionmaker[Session], world: World, statements: Statements
) -> None:
    """§3.2 step 4 for a group commit: the submissions queued by several units are
    inserted in the same transaction, two statements for all of them."""
    submissions = [
        submission_for(world, idempotency_key=None),
        submission_for(world, endpoint=models.ENDPOINT_DN, case_id=None, dn_id=OPEN_DN),
        submission_for(world, idempotency_key="key-2"),
    ]
    files = [
        [file_for(submissions[0], "photo.jpg", b"one"), file_for(submissions[0], "b.jpg", b"2")],
        [file_for(submissions[1], "damage.jpg", b"dent")],
        [file_for(submissions[2], "secret.jpg", b"three")],
    ]
    with transaction(factory) as session:
        for submission, rows in zip(submissions, files, strict=True):
            intake.queue_submission(session, submission, rows)
        statements.sent.clear()
        intake.insert_queued(session)
        assert statements.inserts_into(models.Submission.__tablename__) == 1
        assert statements.inserts_into(models.StoredFile.__tablename__) == 1
    assert stored_submissions(factory) == {s["id"] for s in submissions}
    with transaction(factory) as session:
        for submission, rows in zip(submissions, files, strict=True):
            stored = session.scalars(
                select(models.StoredFile).where(models.StoredFile.submission_id == submission["id"])
            ).all()
            assert sorted(str(f.id) for f in stored) == sorted(str(r["id"]) for r in rows)


def test_queued_submissions_are_not_written_before_insert_queued(
    factory: sessionmaker[Session], world: World, statements: Statements
) -> None:
    """Queueing runs no statement: a transaction that commits without insert_queued
    stores nothing of it, and the queue does not outlive its session."""
    submission = submission_for(world)
    with transaction(factory) as session:
        statements.sent.clear()
        intake.queue_submission(session, submission, [file_for(submission, "a.jpg", b"a")])
        assert statements.sent == []
    with transaction(factory) as session:
        intake.insert_queued(session)  # a new session: nothing queued in it
    assert stored_submissions(factory) == set()
    assert stored_file_ids(factory) == set()


def test_insert_queued_with_nothing_queued_does_nothing(
    factory: sessionmaker[Session], world: World, statements: Statements
) -> None:
    with transaction(factory) as session:
        statements.sent.clear()
        intake.insert_queued(session)
        assert statements.sent == []
    assert stored_submissions(factory) == set()


def test_insert_queued_empties_the_queue(
    factory: sessionmaker[Session], world: World, statements: Statements
) -> None:
    """Called again (a second before_commit), it inserts nothing twice."""
    submission = submission_for(world)
    with transaction(factory) as session:
        intake.queue_submission(session, submission, [file_for(submission, "a.jpg", b"a")])
        intake.insert_queued(session)
        statements.sent.clear()
        intake.insert_queued(session)
        assert statements.sent == []
    assert stored_submissions(factory) == {submission["id"]}


def test_queued_submissions_without_files_insert_only_submissions(
    factory: sessionmaker[Session], world: World, statements: Statements
) -> None:
    submissions = [submission_for(world), submission_for(world)]
    with transaction(factory) as session:
        for submission in submissions:
            intake.queue_submission(session, submission, [])
        statements.sent.clear()
        intake.insert_queued(session)
        assert statements.inserts_into(models.Submission.__tablename__) == 1
        assert statements.inserts_into(models.StoredFile.__tablename__) == 0
    assert stored_submissions(factory) == {s["id"] for s in submissions}
    assert stored_file_ids(factory) == set()


def test_queued_inserts_go_with_a_rolled_back_transaction(
    factory: sessionmaker[Session], world: World
) -> None:
    """§3.4 all or nothing: inserted at insert_queued, undone by the rollback."""
    submission = submission_for(world)

    def insert_then_fail() -> None:
        with transaction(factory) as session:
            intake.queue_submission(session, submission, [file_for(submission, "a.jpg", b"a")])
            intake.insert_queued(session)
            raise RuntimeError("refused after writing")

    with pytest.raises(RuntimeError):
        insert_then_fail()
    assert stored_submissions(factory) == set()
    assert stored_file_ids(factory) == set()
