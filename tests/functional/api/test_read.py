"""The read API over HTTP (§11.1, §11.2): the visibility matrix for every principal
kind and endpoint, paging, and an insurer's merge, close and reopen."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.functional.api.read_world import (
    API,
    MERGE_DN,
    SECOND_MERGE_DN,
    ReadWorld,
    start_read_world,
)
from tests.functional.conftest import assert_error

ALL_CASE_FILES = {"a-public.jpg", "a-restricted.jpg", "b-public.jpg", "b-restricted.jpg"}

# Which of the open case's files each reader sees (§11.1).
CASE_FILES_SEEN = {
    "read-only-client": {"a-public.jpg", "a-restricted.jpg", "b-public.jpg"},
    "other-reader": {"a-public.jpg", "b-public.jpg", "b-restricted.jpg"},
    "insurer-read": ALL_CASE_FILES,
    "insurer-write": ALL_CASE_FILES,
}
READERS = sorted(CASE_FILES_SEEN)


@pytest.fixture(scope="module")
def read(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReadWorld]:
    world = start_read_world(tmp_path_factory.mktemp("read"))
    yield world
    world.server.stop()


def names(response_json: dict[str, object]) -> set[str]:
    payload = response_json["payload"]
    assert isinstance(payload, dict)
    return {f["fileName"] for f in payload["files"]}


@pytest.mark.parametrize("client_id", READERS)
def test_case_files_are_those_the_reader_may_see(read: ReadWorld, client_id: str) -> None:
    """§11.1: public files, a partner's own restricted ones; insurers all."""
    response = read.get(client_id, f"/case/{read.world.open_case}/files")
    assert response.status_code == 200, response.text
    assert names(response.json()) == CASE_FILES_SEEN[client_id]
    assert response.json()["payload"]["nextCursor"] is None


@pytest.mark.parametrize("client_id", READERS)
def test_case_file_count_is_what_the_reader_sees(read: ReadWorld, client_id: str) -> None:
    response = read.get(client_id, f"/case/{read.world.open_case}")
    assert response.status_code == 200, response.text
    payload = response.json()["payload"]
    assert payload["fileCount"] == len(CASE_FILES_SEEN[client_id])
    assert (payload["id"], payload["number"], payload["status"]) == (
        read.world.open_case,
        "CN-1",
        "open",
    )
    assert payload["insuranceCompanyAlias"] == "company"


@pytest.mark.parametrize("client_id", READERS)
@pytest.mark.parametrize("name", sorted(ALL_CASE_FILES))
def test_a_file_record_is_there_or_missing_as_its_case_listing_says(
    read: ReadWorld, client_id: str, name: str
) -> None:
    file_id = read.files[name]
    response = read.get(client_id, f"/file/{file_id}")
    if name in CASE_FILES_SEEN[client_id]:
        assert response.status_code == 200, response.text
        record = response.json()["payload"]
        assert record["id"] == file_id
        assert record["caseId"] == read.world.open_case
        assert record["fileName"] == name
        assert record["uploadedByPartner"]["name"] in ("Aage & Søn", "Other Partner")
    else:
        assert_error(response, 404, "FileNotFound", f"no file with id {file_id}")


def test_a_case_not_assigned_is_answered_like_a_missing_one(read: ReadWorld) -> None:
    """§11.1, §9: same status, errorType and description, the id aside."""
    hidden = read.get("read-only-client", f"/case/{read.world.unassigned_case}")
    unknown_id = str(uuid.uuid4())
    missing = read.get("read-only-client", f"/case/{unknown_id}")
    assert_error(hidden, 404, "ClaimNotFound")
    assert_error(missing, 404, "ClaimNotFound")
    assert hidden.json()["errorDescription"].replace(read.world.unassigned_case, "ID") == (
        missing.json()["errorDescription"].replace(unknown_id, "ID")
    )


@pytest.mark.parametrize("path", ["/case/{case}", "/case/{case}/files"])
def test_another_tenants_insurer_sees_no_case(read: ReadWorld, path: str) -> None:
    response = read.get("other-insurer", path.format(case=read.world.open_case))
    assert_error(response, 404, "ClaimNotFound")


def test_an_insurer_sees_only_its_own_tenants_cases(read: ReadWorld) -> None:
    response = read.get("insurer-read", f"/case/{read.world.other_tenant_case}")
    assert_error(response, 404, "ClaimNotFound")


@pytest.mark.parametrize(
    ("client_id", "visible"),
    [
        ("read-only-client", True),
        ("other-reader", False),
        ("insurer-read", True),
        ("other-insurer", False),
    ],
)
def test_a_dn_is_seen_by_its_creator_and_its_tenant(
    read: ReadWorld, client_id: str, visible: bool
) -> None:
    dn = read.get(client_id, f"/damageNotification/{read.world.open_dn}")
    files = read.get(client_id, f"/damageNotification/{read.world.open_dn}/files")
    if not visible:
        assert_error(dn, 404, "DamageNotificationNotFound")
        assert_error(files, 404, "DamageNotificationNotFound")
        return
    payload = dn.json()["payload"]
    assert payload["status"] == "open"
    assert payload["mergedToCaseId"] is None
    assert payload["servicePartner"] == {"id": read.world.partner_id, "name": "Aage & Søn"}
    assert "fnol" in payload
    assert names(files.json()) == {"a-dn.jpg"}
    assert files.json()["payload"]["files"][0]["damageNotificationId"] == read.world.open_dn


@pytest.mark.parametrize("client_id", ["read-only-client", "other-reader", "insurer-read"])
def test_a_dn_file_record_follows_its_dn(read: ReadWorld, client_id: str) -> None:
    response = read.get(client_id, f"/file/{read.files['a-dn.jpg']}")
    if client_id == "other-reader":
        assert_error(response, 404, "FileNotFound")
    else:
        assert response.json()["payload"]["fileName"] == "a-dn.jpg"


@pytest.mark.parametrize(
    "path",
    [
        "/case/{case}",
        "/case/{case}/files",
        "/damageNotification/{dn}",
        "/damageNotification/{dn}/files",
        "/file/{file}",
    ],
)
@pytest.mark.parametrize(
    ("client_id", "scope"),
    [
        ("secret-client", "platform-service-provider:read"),
        ("insurer-write-only", "platform-insurer:read"),
    ],
)
def test_a_token_without_a_read_scope_is_403(
    read: ReadWorld, path: str, client_id: str, scope: str
) -> None:
    """§11.1: as §2, naming the scope that is missing."""
    resolved = path.format(
        case=read.world.open_case, dn=read.world.open_dn, file=read.files["a-public.jpg"]
    )
    response = read.get(client_id, resolved)
    assert_error(response, 403, "Forbidden", scope)
    assert response.headers["www-authenticate"] == (
        f'Bearer error="insufficient_scope", scope="{scope}"'
    )


def test_no_token_is_401(read: ReadWorld) -> None:
    response = read.get(None, f"/case/{read.world.open_case}")
    assert_error(response, 401, "Unauthorized")


@pytest.mark.parametrize("path", ["/case/nope", "/file/123", "/damageNotification/x/files"])
def test_a_path_id_that_is_not_a_guid_names_no_endpoint(read: ReadWorld, path: str) -> None:
    """§3.3: a segment that is no GUID is an unknown path, 404 like any other."""
    assert_error(read.get("insurer-read", path), 404, "GenericError", "no endpoint")


def test_the_fnol_schema_route_still_answers(read: ReadWorld) -> None:
    """``…/damageNotification/schema`` is not taken for a DN id."""
    response = read.get(None, "/damageNotification/schema", insuranceCompanyAlias="company")
    assert response.status_code == 200
    assert response.json()["type"] == "object"


def test_pages_of_a_case_walk_every_file_once(read: ReadWorld) -> None:
    """§11.2: newest first, an opaque cursor, null on the last page."""
    for index in range(5):
        read.submit("other-client", read.world.unassigned_case, f"page-{index}.jpg")
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        response = read.get("insurer-read", f"/case/{read.world.unassigned_case}/files", **params)
        assert response.status_code == 200, response.text
        payload = response.json()["payload"]
        seen.extend(f["fileName"] for f in payload["files"])
        pages += 1
        cursor = payload["nextCursor"]
        if cursor is None:
            break
    assert pages == 3
    assert seen == [f"page-{index}.jpg" for index in reversed(range(5))]


@pytest.mark.parametrize("limit", ["0", "501", "x", "-3"])
def test_a_limit_outside_1_to_500_is_400_naming_it(read: ReadWorld, limit: str) -> None:
    response = read.get("insurer-read", f"/case/{read.world.open_case}/files", limit=limit)
    assert_error(response, 400, "InvalidRequest", "limit")


def test_a_forged_cursor_is_400_naming_it(read: ReadWorld) -> None:
    response = read.get("insurer-read", f"/case/{read.world.open_case}/files", cursor="zzz")
    assert_error(response, 400, "InvalidRequest", "cursor")


@pytest.mark.parametrize("client_id", ["read-only-client", "secret-client", "insurer-read"])
def test_merging_takes_the_insurer_write_scope(read: ReadWorld, client_id: str) -> None:
    response = read.post(
        client_id, f"/damageNotification/{MERGE_DN}/merge", {"caseId": read.world.open_case}
    )
    assert_error(response, 403, "Forbidden", "platform-insurer:write")


def test_merge_moves_the_files_and_is_a_no_op_the_second_time(read: ReadWorld) -> None:
    """§11.2, §1: the DN lists nothing after, the case has the files, all public."""
    path = f"/damageNotification/{MERGE_DN}/merge"
    first = read.post("insurer-write", path, {"caseId": read.world.open_case})
    assert first.status_code == 200, first.text
    assert first.json() == {"success": True}
    again = read.post("insurer-write", path, {"caseId": read.world.open_case})
    assert again.json() == {"success": True}
    dn = read.get("read-only-client", f"/damageNotification/{MERGE_DN}").json()["payload"]
    assert (dn["status"], dn["mergedToCaseId"]) == ("merged", read.world.open_case)
    assert (
        names(read.get("read-only-client", f"/damageNotification/{MERGE_DN}/files").json()) == set()
    )
    assert "merge-me.jpg" in names(
        read.get("other-reader", f"/case/{read.world.open_case}/files").json()
    )
    listed = json.loads(read.server.cli("files", "list", "--dn", MERGE_DN, "--json").stdout)
    assert listed == []


def test_merging_into_another_case_is_409(read: ReadWorld) -> None:
    path = f"/damageNotification/{read.world.merged_dn}/merge"
    response = read.post("insurer-write", path, {"caseId": read.world.closed_case})
    assert_error(response, 409, "DamageNotificationMergedToClaim", read.world.open_case)


def test_merging_into_an_unknown_case_is_404(read: ReadWorld) -> None:
    path = f"/damageNotification/{SECOND_MERGE_DN}/merge"
    response = read.post("insurer-write", path, {"caseId": str(uuid.uuid4())})
    assert_error(response, 404, "ClaimNotFound")


@pytest.mark.parametrize("body", [None, {}, {"caseId": 5}, {"caseId": "nope"}, [1]])
def test_a_merge_without_a_case_id_is_400_naming_it(read: ReadWorld, body: object) -> None:
    path = f"/damageNotification/{SECOND_MERGE_DN}/merge"
    response = read.post("insurer-write", path, body)
    assert_error(response, 400, "InvalidRequest")


def test_close_and_reopen_a_case(read: ReadWorld) -> None:
    case = read.world.closed_case
    assert read.post("insurer-write", f"/case/{case}/reopen").json() == {"success": True}
    assert read.get("insurer-read", f"/case/{case}").json()["payload"]["status"] == "open"
    assert read.post("insurer-write", f"/case/{case}/close").json() == {"success": True}
    assert read.get("insurer-read", f"/case/{case}").json()["payload"]["status"] == "closed"


def test_closing_another_tenants_case_is_claim_not_found(read: ReadWorld) -> None:
    response = read.post("insurer-write", f"/case/{read.world.other_tenant_case}/close")
    assert_error(response, 404, "ClaimNotFound")


@pytest.mark.parametrize("path", ["/file/limits", "/file/contentTypes"])
def test_the_file_metadata_routes_still_answer(read: ReadWorld, path: str) -> None:
    """``…/file/limits`` and ``…/file/contentTypes`` are not taken for a file id."""
    assert read.get(None, path).status_code == 200


@pytest.mark.parametrize(
    ("client_id", "visible"),
    [("read-only-client", True), ("insurer-read", True), ("other-reader", False)],
)
def test_the_fnol_is_shown_to_the_insurer_and_the_creating_partner(
    read: ReadWorld, client_id: str, visible: bool
) -> None:
    """§11.2: ``fnol`` is the damageNotification as sent (§10.2)."""
    dn_id = create_fnol(read)
    response = read.get(client_id, f"/damageNotification/{dn_id}")
    if not visible:
        assert_error(response, 404, "DamageNotificationNotFound")
        return
    payload = response.json()["payload"]
    assert payload["fnol"] == DAMAGE
    assert payload["servicePartner"]["id"] == read.world.partner_id
    assert names(read.get(client_id, f"/damageNotification/{dn_id}/files").json()) == {
        "kitchen.jpg"
    }


DAMAGE = {"incidentDate": "2026-11-28", "description": "water damage in the kitchen"}


def create_fnol(read: ReadWorld) -> str:
    document = {
        "securityToken": read.world.security_token,
        "insuranceCompanyAlias": "company",
        "userEmail": read.world.email,
        "damageNotification": DAMAGE,
    }
    response = httpx.post(
        f"{read.server.url}{API}/damageNotification",
        files=[
            ("fnol", (None, json.dumps(document).encode(), "application/vnd.casecreation+json")),
            ("photo", ("kitchen.jpg", b"\xff\xd8\xff\xe0 a kitchen", "image/jpeg")),
        ],
        headers={"Authorization": f"Bearer {read.token('secret-client')}"},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["payload"]["id"])


def test_a_get_of_a_submit_endpoint_is_still_405(read: ReadWorld) -> None:
    """§9: ``…/file/submitForCase`` is not read as a file id."""
    response = read.get("insurer-read", "/file/submitForCase")
    assert_error(response, 405, "GenericError")
