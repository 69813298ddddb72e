"""The operator's changes to tenants: the FNoL schema in force (§10.2, ``ecb-files tenant``).

A schema is checked before it is stored (``FnolSchemaError`` otherwise: not JSON Schema
draft 2020-12, or a ``$ref`` outside itself), and stored as JSON text; a tenant without
one uses the built-in default.
"""

from __future__ import annotations

import json
from typing import Any

from ecb_files.db import Database
from ecb_files.db import fnol as tenants
from ecb_files.domain.fnol_schema import DEFAULT_FNOL_SCHEMA, fnol_schema_text, parse_fnol_schema
from ecb_files.services.errors import NotFoundError


def fnol_schema_in_force(database: Database, alias: str) -> tuple[dict[str, Any], bool]:
    """The tenant's FNoL schema, and whether it is the built-in default."""
    with database.read_connection() as connection:
        tenant = tenants.find_tenant(connection, alias)
    if tenant is None:
        raise NotFoundError(f"no insurance company with alias {alias!r}")
    if tenant.fnol_schema is None:
        return dict(DEFAULT_FNOL_SCHEMA), True
    return parse_fnol_schema(tenant.fnol_schema), False


def set_fnol_schema(database: Database, alias: str, schema: Any) -> None:
    """Give the tenant ``schema`` (checked first) as its FNoL schema."""
    _store(database, alias, fnol_schema_text(schema))


def reset_fnol_schema(database: Database, alias: str) -> None:
    """Return the tenant to the built-in default FNoL schema."""
    _store(database, alias, None)


def _store(database: Database, alias: str, text: str | None) -> None:
    with database.write() as unit:
        if not tenants.set_fnol_schema(unit, alias, text):
            raise NotFoundError(f"no insurance company with alias {alias!r}")


def schema_document(schema: dict[str, Any]) -> str:
    """A schema as the operator reads it: indented JSON."""
    return json.dumps(schema, ensure_ascii=False, indent=2)
