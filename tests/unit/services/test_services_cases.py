"""Closing, reopening and merging (§1, §5)."""

from __future__ import annotations

import threading
import uuid

import pytest
from tests.db_support import (
    CLOSED_CASE,
    OPEN_CASE,
    OPEN_DN,
    OTHER_TENANT_CASE,
    PARTNER,
    UNASSIGNED_CASE,
    World,
    add_file,
)

from ecb_files.db import Database, models
from ecb_files.db import submissions as intake
from ecb_files.services.cases import close_case, merge_damage_notification, reopen_case
from ecb_files.services.errors import ConflictError, NotFoundError
from ecb_files.storage import LocalBlobStore


def _status(database: Database, case_id: uuid.UUID) -> str:
    with database.write() as session:
        case = session.get(models.Case, case_id)
        assert case is not None
        return case.status


def test_close_and_reopen_change_the_status(database: Database, world: World) -> None:
    change = close_case(database, OPEN_CASE)
    assert (change.status, change.changed) == ("closed", True)
    assert _status(database, OPEN_CASE) == "closed"
    change = reopen_case(database, OPEN_CASE)
    assert (change.status, change.changed) == ("open", True)
    assert _status(database, OPEN_CASE) == "open"


def test_closing_a_closed_case_is_a_no_op(database: Database, world: World) -> None:
    assert close_case(database, CLOSED_CASE).changed is False
    assert reopen_case(database, OPEN_CASE).changed is False


@pytest.mark.parametrize("operation", [close_case, reopen_case])
def test_unknown_case_is_not_found(database: Database, world: World, operation: object) -> None:
    unknown = uuid.uuid4()
    with pytest.raises(NotFoundError, match=str(unknown)):
        operation(database, unknown)  # type: ignore[operator]


def test_merge_moves_files_to_the_case_and_makes_them_public(
    database: Database, world: World, store: LocalBlobStore
) -> None:
    files = [add_file(database, store, world, dn_id=OPEN_DN, restricted=r) for r in (True, False)]
    untouched = add_file(database, store, world, case_id=UNASSIGNED_CASE, restricted=True)
    result = merge_damage_notification(database, OPEN_DN, OPEN_CASE)
    assert (result.files, result.already_merged) == (2, False)
    with database.write() as session:
        dn = session.get(models.DamageNotification, OPEN_DN)
        assert dn is not None
        assert dn.merged_to_case_id == OPEN_CASE
        for stored in files:
            row = session.get(models.StoredFile, stored.id)
            assert row is not None
            # The case is the file's one parent now; its submission still names the DN.
            assert (row.case_id, row.dn_id, row.is_restricted) == (OPEN_CASE, None, False)
            submission = session.get(models.Submission, row.submission_id)
            assert submission is not None
            assert submission.dn_id == OPEN_DN
        other = session.get(models.StoredFile, untouched.id)
        assert other is not None
        assert other.is_restricted is True


def test_merging_again_into_the_same_case_is_a_no_op(
    database: Database, world: World, store: LocalBlobStore
) -> None:
    """§5 ``dn merge``: merging again changes nothing and moves nothing."""
    add_file(database, store, world, dn_id=OPEN_DN)
    assert merge_damage_notification(database, OPEN_DN, OPEN_CASE).files == 1
    again = merge_damage_notification(database, OPEN_DN, OPEN_CASE)
    assert (again.already_merged, again.files) == (True, 0)


def test_merging_into_another_case_is_a_conflict(database: Database, world: World) -> None:
    merge_damage_notification(database, OPEN_DN, OPEN_CASE)
    with pytest.raises(ConflictError, match=f"already merged into case {OPEN_CASE}"):
        merge_damage_notification(database, OPEN_DN, CLOSED_CASE)


def test_merging_into_another_companys_case_is_a_conflict(database: Database, world: World) -> None:
    with pytest.raises(ConflictError, match=r"insurance company 'company' but case .* 'other'"):
        merge_damage_notification(database, OPEN_DN, OTHER_TENANT_CASE)
    with database.write() as session:
        dn = session.get(models.DamageNotification, OPEN_DN)
        assert dn is not None
        assert dn.merged_to_case_id is None


def test_merge_of_unknown_dn_or_case_is_not_found(database: Database, world: World) -> None:
    with pytest.raises(NotFoundError, match="no damage notification"):
        merge_damage_notification(database, uuid.uuid4(), OPEN_CASE)
    with pytest.raises(NotFoundError, match="no case"):
        merge_damage_notification(database, OPEN_DN, uuid.uuid4())


@pytest.mark.parametrize("change", ["merge", "close"])
def test_change_waits_for_a_submission_that_found_its_target_open(
    database: Database, world: World, change: str
) -> None:
    """A submission that saw the DN (or case) open commits before the merge (or close)
    applies, so its files can never land on a merged DN or a closed case."""
    done = threading.Event()

    def apply_change() -> None:
        if change == "merge":
            merge_damage_notification(database, OPEN_DN, OPEN_CASE)
        else:
            close_case(database, OPEN_CASE)
        done.set()

    with database.write() as session:
        # The submit path's target lookups, in a submission's write transaction.
        connection = session.connection()
        if change == "merge":
            assert intake.find_dn_state(connection, OPEN_DN, "company", PARTNER) is not None
        else:
            assert intake.find_case_state(connection, OPEN_CASE, "company", PARTNER) is not None
        worker = threading.Thread(target=apply_change)
        worker.start()
        assert not done.wait(0.5), "the change did not wait for the submission's transaction"
    worker.join(timeout=30)
    assert done.is_set()
