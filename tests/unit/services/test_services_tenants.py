"""Tenants' FNoL schemas, as the operator sets them (§10.2 ``tenant fnol-schema``)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from tests.db_support import COMPANY_ALIAS, World

from ecb_files.db import Database
from ecb_files.domain.fnol_schema import DEFAULT_FNOL_SCHEMA, FnolSchemaError
from ecb_files.services.errors import NotFoundError
from ecb_files.services.tenants import fnol_schema_in_force, reset_fnol_schema, set_fnol_schema

SCHEMA = {"type": "object", "required": ["vin"]}


def test_a_tenant_without_a_schema_has_the_default(database: Database, world: World) -> None:
    assert fnol_schema_in_force(database, COMPANY_ALIAS) == (dict(DEFAULT_FNOL_SCHEMA), True)


def test_a_schema_is_set_and_reset(database: Database, world: World) -> None:
    set_fnol_schema(database, COMPANY_ALIAS, SCHEMA)
    assert fnol_schema_in_force(database, COMPANY_ALIAS) == (SCHEMA, False)
    reset_fnol_schema(database, COMPANY_ALIAS)
    assert fnol_schema_in_force(database, COMPANY_ALIAS)[1] is True


def test_an_invalid_schema_is_refused_and_nothing_changes(database: Database, world: World) -> None:
    """§10.2: a schema that $refs outside itself is refused on set."""
    with pytest.raises(FnolSchemaError, match="refers outside"):
        set_fnol_schema(database, COMPANY_ALIAS, {"$ref": "https://example.com/x.json"})
    assert fnol_schema_in_force(database, COMPANY_ALIAS)[1] is True


@pytest.mark.parametrize(
    "action",
    [
        lambda database: fnol_schema_in_force(database, "nobody"),
        lambda database: set_fnol_schema(database, "nobody", SCHEMA),
        lambda database: reset_fnol_schema(database, "nobody"),
    ],
    ids=["show", "set", "reset"],
)
def test_an_unknown_tenant_is_not_found(
    database: Database, world: World, action: Callable[[Database], object]
) -> None:
    with pytest.raises(NotFoundError, match="no insurance company with alias 'nobody'"):
        action(database)
