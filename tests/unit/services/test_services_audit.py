"""The audit trail's rows (§12.3): an insurer action writes its row in its own unit of
work, a refused one writes none, and a read's row names the file and its parent."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from tests.db_support import OPEN_CASE, OPEN_DN, OTHER_TENANT_CASE, World

from ecb_files.db import Database
from ecb_files.errors import ClaimNotFound
from ecb_files.services.audit import AuditTrail, Origin
from ecb_files.services.insurer_actions import InsurerActions
from ecb_files.services.visibility import Viewer

ORIGIN = Origin("192.0.2.9", "req-1")


def handler(world: World) -> Viewer:
    return Viewer.insurer(world.company_id, "user handler@company.example", can_write=True)


def test_an_action_records_who_what_and_from_where(database: Database, world: World) -> None:
    """§12.3: ``case.close`` with the user, the tenant, the case, the address, the id."""
    InsurerActions(database).close_case(handler(world), OPEN_CASE, ORIGIN)
    [entry] = AuditTrail(database).entries()
    event = entry.as_json()
    assert event["action"] == "case.close"
    assert (event["principalKind"], event["principal"]) == ("user", "handler@company.example")
    assert (event["tenantId"], event["caseId"]) == (world.company_id, str(OPEN_CASE))
    assert (event["address"], event["requestId"], event["detail"]) == ("192.0.2.9", "req-1", "")


def test_a_refused_action_leaves_no_row(database: Database, world: World) -> None:
    """§12.3: the row is in the action's transaction: no change, no row."""
    with pytest.raises(ClaimNotFound):
        InsurerActions(database).close_case(handler(world), OTHER_TENANT_CASE, ORIGIN)
    assert AuditTrail(database).entries() == []


def test_a_merge_again_into_the_same_case_says_no_change(database: Database, world: World) -> None:
    """§12.3: a repeat is recorded, as changing nothing."""
    actions = InsurerActions(database)
    actions.merge(handler(world), OPEN_DN, OPEN_CASE, ORIGIN)
    actions.merge(handler(world), OPEN_DN, OPEN_CASE, ORIGIN)
    details = [(e.row.action, e.row.dn_id, e.row.detail) for e in AuditTrail(database).entries()]
    assert details == [("dn.merge", OPEN_DN, ""), ("dn.merge", OPEN_DN, "no change")]


def test_entries_filter_by_case_file_and_time(database: Database, world: World) -> None:
    """§12.3: ``--case``, ``--file`` and ``--since`` narrow the list."""
    trail = AuditTrail(database)
    file_id = uuid.uuid4()

    class File:
        id = file_id
        case_id = OPEN_CASE
        damage_notification_id = None

    trail.file_read("file.content", handler(world), ORIGIN, File(), "bytes 0-9/100")
    InsurerActions(database).close_case(handler(world), OPEN_CASE, ORIGIN)
    assert [e.row.action for e in trail.entries(file_id=file_id)] == ["file.content"]
    assert len(trail.entries(case_id=OPEN_CASE)) == 2
    assert trail.entries(since=datetime.now(UTC) + timedelta(minutes=1)) == []
