"""Insurer users: adding, disabling, and signing in without telling who exists (§11.1)."""

from __future__ import annotations

import pytest
from tests.db_support import COMPANY_ALIAS, OTHER_ALIAS, World

from ecb_files.db import Database
from ecb_files.services.errors import ConflictError, NotFoundError
from ecb_files.services.insurer_users import (
    add_user,
    authenticate_insurer_user,
    disable_user,
    list_users,
    user_by_id,
)


def test_the_right_password_signs_in_whatever_the_letter_case_of_the_address(
    database: Database, world: World
) -> None:
    added = add_user(database, COMPANY_ALIAS, "Handler@Company.example", "s3cret", "handler")
    signed_in = authenticate_insurer_user(database, "handler@company.EXAMPLE", "s3cret")
    assert signed_in == added
    assert signed_in is not None
    assert signed_in.viewer().can_write


@pytest.mark.parametrize(
    ("email", "password"), [("handler@company.example", "wrong"), ("nobody@x.example", "s3cret")]
)
def test_a_wrong_password_and_an_unknown_address_answer_alike(
    database: Database, world: World, email: str, password: str
) -> None:
    add_user(database, COMPANY_ALIAS, "handler@company.example", "s3cret")
    assert authenticate_insurer_user(database, email, password) is None


def test_a_disabled_user_cannot_sign_in(database: Database, world: World) -> None:
    added = add_user(database, COMPANY_ALIAS, "v@company.example", "pw", "viewer")
    disable_user(database, COMPANY_ALIAS, "V@company.example")
    assert authenticate_insurer_user(database, "v@company.example", "pw") is None
    assert user_by_id(database, added.id) is None


def test_one_address_in_two_tenants_signs_in_where_the_password_matches(
    database: Database, world: World
) -> None:
    add_user(database, COMPANY_ALIAS, "both@x.example", "first")
    add_user(database, OTHER_ALIAS, "both@x.example", "second")
    signed_in = authenticate_insurer_user(database, "both@x.example", "second")
    assert signed_in is not None
    assert signed_in.tenant_alias == OTHER_ALIAS


def test_an_address_is_unique_per_tenant(database: Database, world: World) -> None:
    add_user(database, COMPANY_ALIAS, "a@x.example", "pw")
    with pytest.raises(ConflictError):
        add_user(database, COMPANY_ALIAS, "A@X.example", "pw")


def test_an_unknown_tenant_is_not_found(database: Database, world: World) -> None:
    with pytest.raises(NotFoundError):
        add_user(database, "nope", "a@x.example", "pw")


def test_list_is_by_tenant_then_address(database: Database, world: World) -> None:
    add_user(database, OTHER_ALIAS, "z@x.example", "pw")
    add_user(database, COMPANY_ALIAS, "b@x.example", "pw", "viewer")
    assert [(u.tenant_alias, u.email, u.role) for u in list_users(database)] == [
        (COMPANY_ALIAS, "b@x.example", "viewer"),
        (OTHER_ALIAS, "z@x.example", "handler"),
    ]
