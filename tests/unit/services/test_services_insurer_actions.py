"""An insurer's merge, close and reopen through the visibility rules (§11.2)."""

from __future__ import annotations

import uuid

import pytest
from tests.db_support import (
    CLOSED_CASE,
    OPEN_CASE,
    OPEN_DN,
    OTHER_TENANT_CASE,
    OTHER_TENANT_DN,
    World,
)

from ecb_files.db import Database
from ecb_files.errors import (
    ClaimNotFound,
    DamageNotificationNotFound,
    Forbidden,
    MergedIntoAnotherCase,
)
from ecb_files.services.insurer_actions import InsurerActions
from ecb_files.services.reading import Reader
from ecb_files.services.visibility import Viewer


def handler(world: World) -> Viewer:
    return Viewer.insurer(world.company_id, "user handler", can_write=True)


def test_merging_into_the_same_case_again_is_a_no_op(database: Database, world: World) -> None:
    actions = InsurerActions(database)
    assert not actions.merge(handler(world), OPEN_DN, OPEN_CASE).already_merged
    assert actions.merge(handler(world), OPEN_DN, OPEN_CASE).already_merged


def test_merging_into_another_case_is_a_409_naming_the_first(
    database: Database, world: World
) -> None:
    actions = InsurerActions(database)
    actions.merge(handler(world), OPEN_DN, OPEN_CASE)
    with pytest.raises(MergedIntoAnotherCase, match=str(OPEN_CASE)) as caught:
        actions.merge(handler(world), OPEN_DN, CLOSED_CASE)
    assert caught.value.status == 409
    assert caught.value.error_type == "DamageNotificationMergedToClaim"


@pytest.mark.parametrize("case_id", [uuid.uuid4(), OTHER_TENANT_CASE])
def test_merging_into_an_unknown_or_foreign_case_is_claim_not_found(
    database: Database, world: World, case_id: uuid.UUID
) -> None:
    with pytest.raises(ClaimNotFound):
        InsurerActions(database).merge(handler(world), OPEN_DN, case_id)


def test_another_tenants_dn_is_missing(database: Database, world: World) -> None:
    with pytest.raises(DamageNotificationNotFound):
        InsurerActions(database).merge(handler(world), OTHER_TENANT_DN, OPEN_CASE)


def test_a_viewer_cannot_act(database: Database, world: World) -> None:
    viewer = Viewer.insurer(world.company_id, "user viewer", can_write=False)
    with pytest.raises(Forbidden):
        InsurerActions(database).close_case(viewer, OPEN_CASE)


def test_close_then_reopen_changes_the_status(database: Database, world: World) -> None:
    actions = InsurerActions(database)
    assert actions.close_case(handler(world), OPEN_CASE).changed
    assert not actions.close_case(handler(world), OPEN_CASE).changed
    assert Reader(database).case(handler(world), OPEN_CASE).status == "closed"
    assert actions.reopen_case(handler(world), OPEN_CASE).changed
