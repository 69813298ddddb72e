"""The checks after the body is read, one at a time (§3.2 step 3, §9).

Security token, employee, target lookup, target status. The file-type check (step 3.5)
is in ``test_file_types.py``; the order between them in ``test_error_order.py``.
"""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.functional.api.bodies import without_ids
from tests.functional.conftest import Api, assert_error, file_entry, secret_token, submission
from tests.functional.server import ServerProcess
from tests.functional.world import World


def to_case(world: World, target: str, **payload: str) -> dict[str, object]:
    return submission(world, target, [file_entry()], **payload)


def unknown_id() -> str:
    return str(uuid.uuid4())


def assert_indistinguishable(missing: httpx.Response, hidden: httpx.Response) -> None:
    """§9: same status, errorType and errorDescription, the id aside."""
    assert hidden.status_code == missing.status_code, hidden.text
    assert hidden.json()["errorType"] == missing.json()["errorType"]
    assert without_ids(hidden.json()["errorDescription"]) == without_ids(
        missing.json()["errorDescription"]
    )


# --- 3.1 securityToken ---------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ["case", "dn"])
def test_another_partners_security_token_is_401(api: Api, world: World, endpoint: str) -> None:
    """§3.2 step 3.1: not the token of the partner owning the client → 401 InvalidSecurityToken."""
    target = world.open_case if endpoint == "case" else world.open_dn
    body = to_case(world, target, securityToken=world.other_security_token)
    response = api.case(body) if endpoint == "case" else api.dn(body)
    assert_error(response, 401, "InvalidSecurityToken", "securityToken")


def test_unknown_security_token_is_401(api: Api, world: World) -> None:
    """§3.2 step 3.1: a GUID that is nobody's security token → 401 InvalidSecurityToken."""
    body = to_case(world, world.open_case, securityToken=unknown_id())
    assert_error(api.case(body), 401, "InvalidSecurityToken", "securityToken")


def test_security_token_is_checked_against_the_clients_own_partner(
    api: Api, server: ServerProcess, world: World
) -> None:
    """§3.2 step 3.1: the other partner's client with our partner's token → 401."""
    other = secret_token(server, "other-client", world.secret)
    body = to_case(world, world.unassigned_case, userEmail="other@example.com")
    assert_error(api.case(body, token=other), 401, "InvalidSecurityToken")


def test_other_partners_client_submits_with_its_own_token(
    api: Api, server: ServerProcess, world: World
) -> None:
    """§3.2: every check passes for the other partner on its own case."""
    other = secret_token(server, "other-client", world.secret)
    body = to_case(
        world,
        world.unassigned_case,
        securityToken=world.other_security_token,
        userEmail="other@example.com",
    )
    response = api.case(body, token=other)
    assert response.status_code == 200, response.text


# --- 3.2 employee --------------------------------------------------------------------


@pytest.mark.parametrize(
    "email",
    ["nobody@example.com", "gone@example.com", "GONE@EXAMPLE.COM", "other@example.com"],
    ids=["unknown", "inactive", "inactive-upper-case", "other-partners-employee"],
)
def test_no_active_employee_is_404_user_not_found(api: Api, world: World, email: str) -> None:
    """§3.2 step 3.2: no active employee with userEmail at this partner → 404 UserNotFound."""
    body = to_case(world, world.open_case, userEmail=email)
    assert_error(api.case(body), 404, "UserNotFound", "payload.userEmail")


@pytest.mark.parametrize("email", ["COMPANY_DS@EXAMPLE.COM", "Company_DS@Example.Com"])
def test_employee_email_is_matched_case_insensitively(api: Api, world: World, email: str) -> None:
    """§1: an employee's e-mail is matched case-insensitively."""
    response = api.case(to_case(world, world.open_case, userEmail=email))
    assert response.status_code == 200, response.text


def test_user_not_found_on_the_dn_endpoint(api: Api, world: World) -> None:
    """§3.2 step 3.2: the same check on submitForDamageNotification."""
    body = to_case(world, world.open_dn, userEmail="nobody@example.com")
    assert_error(api.dn(body), 404, "UserNotFound", "payload.userEmail")


# --- 3.3 target lookup: cases ---------------------------------------------------------


def test_unknown_case_is_404_claim_not_found(api: Api, world: World) -> None:
    """§3.2 step 3.3: no case with payload.id → 404 ClaimNotFound naming payload.id."""
    assert_error(api.case(to_case(world, unknown_id())), 404, "ClaimNotFound", "payload.id")


@pytest.mark.parametrize(
    ("target", "alias"),
    [
        ("other_tenant_case", "company"),
        ("other_tenant_case", "other"),
        ("unassigned_case", "company"),
        ("open_case", "other"),
        ("open_case", "no-such-company"),
        ("closed_case", "other"),
        ("open_dn", "company"),
    ],
    ids=[
        "other-tenants-case",
        "other-tenants-case-under-its-alias",
        "case-not-assigned",
        "own-case-wrong-alias",
        "own-case-unknown-alias",
        "closed-case-wrong-alias",
        "dn-id-on-case-endpoint",
    ],
)
def test_cases_out_of_reach_look_missing(api: Api, world: World, target: str, alias: str) -> None:
    """§3.2 step 3.3: another tenant's case, an unserved tenant, an unassigned case or a
    wrong alias → 404 ClaimNotFound, indistinguishable from a missing case (§9)."""
    missing = api.case(to_case(world, unknown_id(), insuranceCompanyAlias=alias))
    assert_error(missing, 404, "ClaimNotFound")
    hidden = api.case(to_case(world, getattr(world, target), insuranceCompanyAlias=alias))
    assert_error(hidden, 404, "ClaimNotFound")
    assert_indistinguishable(missing, hidden)


# --- 3.3 target lookup: damage notifications -------------------------------------------


def test_unknown_dn_is_404_damage_notification_not_found(api: Api, world: World) -> None:
    """§3.2 step 3.3: no DN with payload.id → 404 DamageNotificationNotFound."""
    response = api.dn(to_case(world, unknown_id()))
    assert_error(response, 404, "DamageNotificationNotFound", "payload.id")


@pytest.mark.parametrize(
    ("target", "alias"),
    [
        ("other_partner_dn", "company"),
        ("open_dn", "other"),
        ("merged_dn", "other"),
        ("open_case", "company"),
    ],
    ids=["other-partners-dn", "wrong-alias", "merged-dn-wrong-alias", "case-id-on-dn-endpoint"],
)
def test_dns_out_of_reach_look_missing(api: Api, world: World, target: str, alias: str) -> None:
    """§3.2 step 3.3: another partner's DN or a wrong alias → 404 DamageNotificationNotFound,
    indistinguishable from a missing DN (§9)."""
    missing = api.dn(to_case(world, unknown_id(), insuranceCompanyAlias=alias))
    assert_error(missing, 404, "DamageNotificationNotFound")
    hidden = api.dn(to_case(world, getattr(world, target), insuranceCompanyAlias=alias))
    assert_error(hidden, 404, "DamageNotificationNotFound")
    assert_indistinguishable(missing, hidden)


# --- 3.4 target status ---------------------------------------------------------------


def test_closed_case_is_400_claim_is_closed(api: Api, world: World) -> None:
    """§3.2 step 3.4: a closed case → 400 ClaimIsClosed."""
    assert_error(api.case(to_case(world, world.closed_case)), 400, "ClaimIsClosed")


def test_merged_dn_is_400_naming_the_case_it_was_merged_into(api: Api, world: World) -> None:
    """§3.2 step 3.4: a merged DN → 400 DamageNotificationMergedToClaim naming the case id."""
    response = api.dn(to_case(world, world.merged_dn))
    assert_error(response, 400, "DamageNotificationMergedToClaim", world.merged_dn, world.open_case)


def test_refused_requests_store_nothing(api: Api, world: World, server: ServerProcess) -> None:
    """§3.4: a request refused at step 3 leaves no row and no blob."""
    rows = api.files(case=world.closed_case)
    blobs = server.blob_files()
    assert_error(api.case(to_case(world, world.closed_case)), 400, "ClaimIsClosed")
    assert api.files(case=world.closed_case) == rows
    assert server.blob_files() == blobs
