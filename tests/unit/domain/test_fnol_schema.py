"""FNoL schemas: the built-in default, a tenant's schema checked, an FNoL validated (§10.2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ecb_files.domain.fnol_schema import (
    DEFAULT_FNOL_SCHEMA,
    FnolSchemaError,
    check_fnol_schema,
    parse_fnol_schema,
    validate_fnol,
)
from ecb_files.errors import InvalidRequest

VALID = {"incidentDate": "2026-11-28", "description": "water damage in the kitchen"}


def refusal(instance: Any, schema_text: str | None = None) -> str:
    with pytest.raises(InvalidRequest) as caught:
        validate_fnol(schema_text, instance)
    return caught.value.description


def test_the_default_accepts_the_two_required_members() -> None:
    """§10.2: incidentDate and description are all the default requires."""
    validate_fnol(None, VALID)


def test_the_default_accepts_every_optional_member() -> None:
    """§10.2: policyNumber, incidentType, address and contact are optional members."""
    full = {
        **VALID,
        "policyNumber": "P-1",
        "incidentType": "water",
        "address": {"street": "Vej 1", "postalCode": "8000", "city": "Aarhus", "country": "DK"},
        "contact": {"name": "Ann", "phone": "+45 1234", "email": "ann@example.com"},
    }
    validate_fnol(None, full)


def test_the_default_is_itself_a_valid_fnol_schema() -> None:
    check_fnol_schema(dict(DEFAULT_FNOL_SCHEMA))


@pytest.mark.parametrize("day", ["2026-02-30", "2026-13-01", "20261128", "28-11-2026", "today"])
def test_incident_date_must_be_a_real_calendar_date(day: str) -> None:
    """§10.2: ``format: date`` is checked, not only annotated."""
    assert refusal({**VALID, "incidentDate": day}) == (
        f'damageNotification.incidentDate: "{day}" is not a valid date'
    )


def test_a_missing_required_member_is_named_by_its_path() -> None:
    """§10.2: the description gives the failing instance's JSON path and why."""
    assert refusal({"incidentDate": "2026-11-28"}) == (
        "damageNotification.description: required field is missing"
    )


@pytest.mark.parametrize(("length", "ok"), [(0, False), (1, True), (4000, True), (4001, False)])
def test_description_is_one_to_4000_characters(length: int, ok: bool) -> None:
    """§10.2: description 1–4,000 characters (code points)."""
    instance = {**VALID, "description": "é" * length}
    if ok:
        validate_fnol(None, instance)
    else:
        assert refusal(instance).startswith("damageNotification.description: must be at")


def test_an_unknown_member_is_refused_by_the_default() -> None:
    """§10.2: the default allows nothing else (``additionalProperties: false``)."""
    assert refusal({**VALID, "colour": "red"}) == (
        "damageNotification.colour: unknown member; the insurance company's FNoL schema "
        "does not allow it"
    )


def test_a_nested_fault_names_the_nested_path() -> None:
    assert refusal({**VALID, "address": {"city": 8000}}) == (
        "damageNotification.address.city: must be of type string, not a number"
    )


def test_not_an_object_is_refused() -> None:
    assert refusal(["x"]) == "damageNotification: must be of type object, not an array"


def test_the_first_fault_is_the_earliest_in_the_fnol_as_sent() -> None:
    """Several faults: always the same one, the first in member order."""
    instance = {"incidentDate": "nope", "description": "x", "address": {"city": 1}, "zzz": 1}
    for _ in range(3):
        assert refusal(instance).startswith("damageNotification.incidentDate:")
    reordered = {"address": {"city": 1}, "incidentDate": "nope", "description": "x"}
    assert refusal(reordered).startswith("damageNotification.address.city:")


def test_a_tenant_schema_replaces_the_default() -> None:
    schema = {"type": "object", "required": ["claimType"], "properties": {"claimType": {}}}
    text = json.dumps(schema)
    validate_fnol(text, {"claimType": "glass"})
    assert refusal(VALID, text) == "damageNotification.claimType: required field is missing"


def test_references_inside_the_schema_are_followed() -> None:
    schema = {
        "$defs": {"day": {"type": "string", "format": "date"}},
        "type": "object",
        "properties": {"when": {"$ref": "#/$defs/day"}},
    }
    text = json.dumps(schema)
    validate_fnol(text, {"when": "2026-01-31"})
    assert refusal({"when": "2026-01-32"}, text).startswith("damageNotification.when:")


@pytest.mark.parametrize(
    "target",
    [
        "https://json-schema.org/draft/2020-12/schema",
        "http://127.0.0.1:1/schema.json",
        "other.json",
        "other.json#/$defs/a",
        "file:///etc/passwd",
    ],
)
def test_a_ref_outside_the_schema_is_refused(target: str) -> None:
    """§10.2: a schema may not ``$ref`` anything outside itself."""
    with pytest.raises(FnolSchemaError) as caught:
        check_fnol_schema({"properties": {"a": {"$ref": target}}})
    assert "refers outside the schema" in str(caught.value)
    assert str(caught.value).startswith("schema.properties.a.$ref:")


def test_a_dynamic_ref_outside_the_schema_is_refused() -> None:
    with pytest.raises(FnolSchemaError, match="refers outside"):
        check_fnol_schema({"$dynamicRef": "https://example.com/meta#meta"})


def test_a_ref_to_a_missing_part_is_refused() -> None:
    with pytest.raises(FnolSchemaError, match="names nothing in the schema"):
        check_fnol_schema({"$ref": "#/$defs/missing"})


def test_a_nested_id_is_refused() -> None:
    """A nested ``$id`` would start another document that references could reach."""
    with pytest.raises(FnolSchemaError, match="allowed only at the root"):
        check_fnol_schema({"properties": {"a": {"$id": "https://example.com/a"}}})


def test_a_ref_shaped_value_inside_data_is_not_a_reference() -> None:
    check_fnol_schema({"const": {"$ref": "https://example.com/x"}})


def test_a_schema_that_is_not_json_schema_is_refused() -> None:
    with pytest.raises(FnolSchemaError, match=r"^schema\.type:"):
        check_fnol_schema({"type": "thing"})


@pytest.mark.parametrize("value", [[], "object", 1, None, True])
def test_a_schema_must_be_an_object(value: Any) -> None:
    with pytest.raises(FnolSchemaError, match="must be a JSON object"):
        check_fnol_schema(value)


def test_another_draft_is_refused() -> None:
    with pytest.raises(FnolSchemaError, match="draft 2020-12"):
        check_fnol_schema({"$schema": "http://json-schema.org/draft-07/schema#"})


def test_a_stored_schema_that_is_not_json_is_refused() -> None:
    with pytest.raises(FnolSchemaError, match="not valid JSON"):
        parse_fnol_schema("{")


def test_the_partners_guide_shows_the_default_schema_in_force() -> None:
    """docs/fnol.md prints the default's rules; they are the ones enforced."""
    guide = (Path(__file__).parents[3] / "docs" / "fnol.md").read_text(encoding="utf-8")
    shown = json.loads(guide.split("uses the built-in default:\n\n```json\n")[1].split("```")[0])

    def rules_of(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                key: rules_of(value)
                for key, value in node.items()
                if key not in ("title", "description") or isinstance(value, dict)
            }
        return node

    assert rules_of(dict(DEFAULT_FNOL_SCHEMA)) == shown
