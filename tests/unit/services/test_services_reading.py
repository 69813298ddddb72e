"""The read side's visibility rules and paging (§11.1, §11.2), on the seeded world."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from tests.db_support import (
    OPEN_CASE,
    OPEN_DN,
    OTHER_PARTNER,
    OTHER_PARTNER_DN,
    OTHER_TENANT_CASE,
    OTHER_TENANT_DN,
    PARTNER,
    UNASSIGNED_CASE,
    World,
    add_file,
)

from ecb_files.db import Database, models
from ecb_files.errors import ClaimNotFound, DamageNotificationNotFound, FileNotFound, InvalidRequest
from ecb_files.services.pagination import PageRequest
from ecb_files.services.reading import Reader
from ecb_files.services.visibility import Viewer
from ecb_files.storage import LocalBlobStore

PARTNER_VIEW = Viewer.partner(PARTNER, "client aage")
OTHER_VIEW = Viewer.partner(OTHER_PARTNER, "client other")


def insurer(world: World) -> Viewer:
    return Viewer.insurer(world.company_id, "user handler", can_write=True)


def other_partners_world(database: Database, world: World) -> World:
    """``world`` as seen by OTHER_PARTNER: its employee and a client of its own."""
    with database.write() as unit:
        client = models.OAuthClient(
            client_id="other-backend", partner_id=OTHER_PARTNER, scopes="", secret_hash=None
        )
        unit.add(client)
        unit.flush()
        employee = unit.query(models.Employee).filter_by(partner_id=OTHER_PARTNER).one()
        return dataclasses.replace(
            world, employee_id=employee.id, client_pk=client.id, partner_id=OTHER_PARTNER
        )


@pytest.fixture
def shared_case(database: Database, world: World) -> uuid.UUID:
    """OPEN_CASE with OTHER_PARTNER assigned too."""
    with database.write() as unit:
        case = unit.get(models.Case, OPEN_CASE)
        other = unit.get(models.ServicePartner, OTHER_PARTNER)
        assert case is not None
        assert other is not None
        case.partners.append(other)
    return OPEN_CASE


def names(page_items: list[object]) -> set[str]:
    return {item.file_name for item in page_items}  # type: ignore[attr-defined]


def test_a_partner_sees_public_files_and_its_own_restricted_ones(
    database: Database, world: World, store: LocalBlobStore, shared_case: uuid.UUID
) -> None:
    """§11.1: public files of assigned cases, restricted ones only its own partner's."""
    other = other_partners_world(database, world)
    add_file(
        database,
        store,
        world,
        case_id=shared_case,
        file_name="mine-restricted.pdf",
        restricted=True,
    )
    add_file(database, store, world, case_id=shared_case, file_name="mine-public.pdf")
    add_file(
        database,
        store,
        other,
        case_id=shared_case,
        file_name="theirs-restricted.pdf",
        restricted=True,
    )
    add_file(database, store, other, case_id=shared_case, file_name="theirs-public.pdf")
    reader = Reader(database)
    seen = reader.case_files(PARTNER_VIEW, shared_case).items
    assert names(seen) == {"mine-restricted.pdf", "mine-public.pdf", "theirs-public.pdf"}
    assert reader.case(PARTNER_VIEW, shared_case).file_count == 3
    assert names(reader.case_files(OTHER_VIEW, shared_case).items) == {
        "theirs-restricted.pdf",
        "mine-public.pdf",
        "theirs-public.pdf",
    }


def test_an_insurer_sees_every_file_of_its_tenant(
    database: Database, world: World, store: LocalBlobStore
) -> None:
    add_file(database, store, world, case_id=OPEN_CASE, restricted=True)
    add_file(database, store, world, case_id=OPEN_CASE)
    assert Reader(database).case(insurer(world), OPEN_CASE).file_count == 2


@pytest.mark.parametrize("case_id", [UNASSIGNED_CASE, uuid.uuid4()])
def test_a_case_the_partner_is_not_on_is_answered_as_missing(
    database: Database, world: World, case_id: uuid.UUID
) -> None:
    """§11.1: not visible is indistinguishable from missing."""
    with pytest.raises(ClaimNotFound) as caught:
        Reader(database).case(PARTNER_VIEW, case_id)
    assert str(caught.value) == f"no case with id {case_id}"


def test_another_tenants_case_is_missing_for_an_insurer(database: Database, world: World) -> None:
    with pytest.raises(ClaimNotFound):
        Reader(database).case_files(insurer(world), OTHER_TENANT_CASE)


def test_a_partner_sees_only_the_damage_notifications_it_created(
    database: Database, world: World
) -> None:
    reader = Reader(database)
    assert reader.damage_notification(PARTNER_VIEW, OPEN_DN).service_partner.id == PARTNER
    with pytest.raises(DamageNotificationNotFound):
        reader.damage_notification(PARTNER_VIEW, OTHER_PARTNER_DN)


def test_an_insurer_sees_its_tenants_damage_notifications_only(
    database: Database, world: World
) -> None:
    reader = Reader(database)
    assert reader.damage_notification(insurer(world), OTHER_PARTNER_DN).status == "open"
    with pytest.raises(DamageNotificationNotFound):
        reader.damage_notification(insurer(world), OTHER_TENANT_DN)


def test_another_partners_restricted_file_is_missing(
    database: Database, world: World, store: LocalBlobStore, shared_case: uuid.UUID
) -> None:
    other = other_partners_world(database, world)
    hidden = add_file(database, store, other, case_id=shared_case, restricted=True)
    reader = Reader(database)
    with pytest.raises(FileNotFound):
        reader.file(PARTNER_VIEW, hidden.id)
    assert reader.file(OTHER_VIEW, hidden.id).blob_id == hidden.blob_id
    assert reader.file(insurer(world), hidden.id).is_restricted


def test_a_dn_file_is_seen_by_its_creator_and_not_by_another_partner(
    database: Database, world: World, store: LocalBlobStore
) -> None:
    row = add_file(database, store, world, dn_id=OPEN_DN)
    reader = Reader(database)
    assert reader.file(PARTNER_VIEW, row.id).damage_notification_id == OPEN_DN
    with pytest.raises(FileNotFound):
        reader.file(OTHER_VIEW, row.id)


def test_pages_walk_newest_first_without_gaps_or_repeats(
    database: Database, world: World, store: LocalBlobStore
) -> None:
    """§11.2: keyset pages, ties within one instant included."""
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for index in range(7):
        # Two files per instant: the id settles their order.
        moment = start + timedelta(seconds=index // 2)
        add_file(
            database, store, world, case_id=OPEN_CASE, file_name=f"{index}.jpg", created_at=moment
        )
    reader = Reader(database)
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = reader.case_files(insurer(world), OPEN_CASE, PageRequest.parse("3", cursor))
        seen.extend(item.file_name for item in page.items)
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == 3
    assert sorted(seen) == [f"{index}.jpg" for index in range(7)]
    assert seen[0] == "6.jpg"


@pytest.mark.parametrize("limit", ["0", "501", "-1", "ten", "1.5"])
def test_a_limit_outside_1_to_500_is_refused_naming_it(limit: str) -> None:
    with pytest.raises(InvalidRequest, match=r"^limit: "):
        PageRequest.parse(limit, None)


@pytest.mark.parametrize("cursor", ["nonsense", "!!", "MjAyNnx4"])
def test_a_cursor_not_given_out_is_refused_naming_it(cursor: str) -> None:
    with pytest.raises(InvalidRequest, match=r"^cursor: "):
        PageRequest.parse(None, cursor)


def test_insurer_case_list_searches_number_and_filters_status(
    database: Database, world: World
) -> None:
    reader = Reader(database)
    everything = reader.cases(insurer(world)).items
    assert {case.id for case in everything} == {OPEN_CASE, *_other_company_cases(everything)}
    closed = reader.cases(insurer(world), status="closed").items
    assert [case.status for case in closed] == ["closed"]
    by_number = reader.cases(insurer(world), search=f"cn-{OPEN_CASE.hex[-2:]}").items
    assert [case.id for case in by_number] == [OPEN_CASE]
    by_id = reader.cases(insurer(world), search=str(OPEN_CASE)).items
    assert [case.id for case in by_id] == [OPEN_CASE]


def _other_company_cases(cases: list[object]) -> set[uuid.UUID]:
    return {case.id for case in cases if case.id != OPEN_CASE}  # type: ignore[attr-defined]


def test_insurer_dn_list_filters_merged(database: Database, world: World) -> None:
    reader = Reader(database)
    listed = reader.damage_notifications(insurer(world), status="open").items
    assert {dn.id for dn in listed} == {OPEN_DN, OTHER_PARTNER_DN}
    assert reader.damage_notifications(insurer(world), status="merged").items == []


def test_an_insurer_finds_a_case_by_its_exact_number(database: Database, world: World) -> None:
    reader = Reader(database)
    number = f"CN-{OPEN_CASE.hex[-2:]}"
    assert reader.case_by_number(insurer(world), f" {number} ").id == OPEN_CASE
    with pytest.raises(ClaimNotFound):
        reader.case_by_number(insurer(world), number.lower())
    other_tenant = Viewer.insurer(world.other_company_id, "user other", can_write=True)
    with pytest.raises(ClaimNotFound):
        reader.case_by_number(other_tenant, number)
