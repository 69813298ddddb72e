"""FNoL schemas (§10.2): the built-in default, checking a tenant's schema, and
validating a ``damageNotification`` against the schema in force.

The one module that uses ``jsonschema`` (and its ``referencing``): their exceptions
end here, as :class:`FnolSchemaError` for a schema and ``InvalidRequest`` for an FNoL.

A schema is JSON Schema draft 2020-12, validated with ``format`` asserted (``date`` is
a real calendar date, ``yyyy-MM-dd``). It may not refer to anything outside itself:
every ``$ref`` and ``$dynamicRef`` must be a fragment (``#/$defs/…`` or ``#anchor``)
that resolves inside the document, ``$id`` may appear only at the root, and nothing is
ever fetched — so validating an FNoL never touches the network.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from jsonschema.exceptions import SchemaError
from referencing import Registry, Resource
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from ecb_files.domain.json_paths import JsonPath, format_path, json_kind
from ecb_files.errors import InvalidRequest

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
FNOL_ROOT = "damageNotification"

# Keywords whose values are data, not subschemas: a "$ref" inside them is no reference.
_DATA_KEYWORDS = frozenset({"const", "enum", "default", "examples"})
_REFERENCES = ("$ref", "$dynamicRef")
# How much of a value a message quotes.
_MAX_QUOTED_CHARS = 240


class FnolSchemaError(ValueError):
    """A document that cannot be an FNoL schema; the message says why and where."""


def _load_default() -> dict[str, Any]:
    text = resources.files("ecb_files.domain").joinpath("fnol-default-schema.json").read_text()
    document: dict[str, Any] = json.loads(text)
    return document


DEFAULT_FNOL_SCHEMA: Mapping[str, Any] = _load_default()


def check_fnol_schema(schema: Any) -> None:
    """Raise :class:`FnolSchemaError` unless ``schema`` is a usable FNoL schema."""
    if not isinstance(schema, dict):
        raise FnolSchemaError("an FNoL schema must be a JSON object (a JSON Schema draft 2020-12)")
    declared = schema.get("$schema", DRAFT_2020_12)
    if declared not in (DRAFT_2020_12, DRAFT_2020_12 + "#"):
        raise FnolSchemaError(
            f"$schema: only JSON Schema draft 2020-12 is supported ('{DRAFT_2020_12}'), "
            f"not {_quote(declared)}"
        )
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        where = format_path(tuple(error.absolute_path), "schema")
        raise FnolSchemaError(f"{where}: {_shorten(error.message)}") from None
    resolver = _registry(schema).resolver(base_uri=_root_id(schema))
    for path, keyword, target in _references(schema, ()):
        where = format_path((*path, keyword), "schema")
        if not target.startswith("#"):
            raise FnolSchemaError(
                f"{where}: {_quote(target)} refers outside the schema; an FNoL schema may "
                "only refer to its own parts ('#/$defs/…')"
            )
        try:
            resolver.lookup(target)
        except Unresolvable:
            raise FnolSchemaError(
                f"{where}: {_quote(target)} names nothing in the schema"
            ) from None
    for path, value in _nested_ids(schema, ()):
        where = format_path((*path, "$id"), "schema")
        raise FnolSchemaError(
            f"{where}: {_quote(value)}; $id is allowed only at the root of an FNoL schema"
        )


def fnol_schema_text(schema: Any) -> str:
    """``schema`` checked, as the JSON text a tenant's schema is stored as."""
    check_fnol_schema(schema)
    return json.dumps(schema, ensure_ascii=False, separators=(",", ":"))


def parse_fnol_schema(text: str) -> dict[str, Any]:
    """The schema stored as JSON ``text``, checked (:class:`FnolSchemaError` otherwise)."""
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as error:
        raise FnolSchemaError(f"not valid JSON: {error.msg} (line {error.lineno})") from None
    check_fnol_schema(schema)
    assert isinstance(schema, dict)
    return schema


def validate_fnol(schema_text: str | None, instance: Any) -> None:
    """Raise ``InvalidRequest`` naming the first fault of ``instance`` (the FNoL's
    ``damageNotification``) under the schema stored as ``schema_text`` (None: the default).

    The first fault is the one earliest in the FNoL as sent (member order; a required
    member that is missing counts as at the start of its object), then in the schema's
    order, so the same FNoL always gets the same answer.
    """
    errors = list(_validator(schema_text).iter_errors(instance))
    if not errors:
        return
    first = min(errors, key=lambda error: _sort_key(instance, error))
    raise InvalidRequest(_describe(instance, first), reason="fnol_schema_violation")


@lru_cache(maxsize=64)
def _validator(schema_text: str | None) -> Draft202012Validator:
    # Tenants' schemas are few and change rarely: each is checked and compiled once.
    schema = dict(DEFAULT_FNOL_SCHEMA) if schema_text is None else parse_fnol_schema(schema_text)
    return Draft202012Validator(
        schema, format_checker=Draft202012Validator.FORMAT_CHECKER, registry=_registry(schema)
    )


def _registry(schema: dict[str, Any]) -> Registry[Any]:
    """The schema alone, under its own ``$id``. A registry made here retrieves nothing
    (jsonschema's own default would fetch unknown URIs)."""
    resource: Resource[Any] = DRAFT202012.create_resource(schema)
    registry: Registry[Any] = Registry().with_resource(_root_id(schema), resource)
    return registry


def _root_id(schema: dict[str, Any]) -> str:
    root_id = schema.get("$id")
    return root_id if isinstance(root_id, str) else ""


def _references(node: Any, path: JsonPath) -> Iterator[tuple[JsonPath, str, str]]:
    """Every ``$ref``/``$dynamicRef`` of the schema: its path, keyword and target."""
    if isinstance(node, dict):
        for keyword in _REFERENCES:
            target = node.get(keyword)
            if isinstance(target, str):
                yield path, keyword, target
        for key, value in node.items():
            if key not in _DATA_KEYWORDS:
                yield from _references(value, (*path, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _references(item, (*path, index))


def _nested_ids(node: Any, path: JsonPath) -> Iterator[tuple[JsonPath, str]]:
    """Every ``$id`` below the root: it would start a document of its own."""
    items: list[tuple[str | int, Any]] = []
    if isinstance(node, dict):
        if path and isinstance(node.get("$id"), str):
            yield path, node["$id"]
        items = [(key, value) for key, value in node.items() if key not in _DATA_KEYWORDS]
    elif isinstance(node, list):
        items = list(enumerate(node))
    for key, value in items:
        yield from _nested_ids(value, (*path, key))


def _sort_key(instance: Any, error: ValidationError) -> tuple[list[int], list[str]]:
    """Where the fault is in the FNoL as sent (member positions), then in the schema."""
    positions = []
    node = instance
    for part in error.absolute_path:
        positions.append(list(node).index(part) if isinstance(node, dict) else int(part))
        node = node[part]
    member = _member_at_fault(error)
    if member is not None:
        positions.append(member[1])
    return positions, [str(part) for part in error.absolute_schema_path]


def _member_at_fault(error: ValidationError) -> tuple[str, int] | None:
    """For a fault of an object about one of its members (missing, or not allowed): the
    member's name and position, a missing one counting as before the first."""
    value = error.instance
    if not isinstance(value, dict):
        return None
    if error.validator == "required":
        missing = next(name for name in error.validator_value if name not in value)
        return missing, -1
    if error.validator in ("additionalProperties", "unevaluatedProperties"):
        extra = _unexpected_member(error.schema, value)
        if extra is not None:
            return extra, list(value).index(extra)
    return None


def _describe(instance: Any, error: ValidationError) -> str:
    """``damageNotification.incidentDate: <why>``, naming the offending member."""
    path: JsonPath = tuple(error.absolute_path)
    keyword = error.validator
    value = error.instance
    member = _member_at_fault(error)
    if member is not None:
        where = format_path((*path, member[0]), FNOL_ROOT)
        if keyword == "required":
            return f"{where}: required field is missing"
        return f"{where}: unknown member; the insurance company's FNoL schema does not allow it"
    where = format_path(path, FNOL_ROOT)
    if keyword == "format":
        return f"{where}: {_quote(value)} is not a valid {error.validator_value}"
    if keyword == "type":
        return f"{where}: must be of type {_types(error.validator_value)}, not {json_kind(value)}"
    if keyword == "minLength":
        return f"{where}: must be at least {error.validator_value} character(s) long"
    if keyword == "maxLength" and isinstance(value, str):
        return (
            f"{where}: must be at most {error.validator_value} characters long "
            f"(it has {len(value)})"
        )
    return f"{where}: {_shorten(error.message)}"


def _unexpected_member(schema: Any, value: dict[str, Any]) -> str | None:
    """The first member of ``value`` that the object schema ``schema`` does not name."""
    if not isinstance(schema, dict):
        return None
    named = schema.get("properties", {})
    patterns = schema.get("patternProperties", {})
    for name in value:
        if name in named:
            continue
        if any(re.search(pattern, name) for pattern in patterns):
            continue
        return name
    return None


def _types(expected: Any) -> str:
    return " or ".join(expected) if isinstance(expected, list) else str(expected)


def _quote(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return _shorten(text)


def _shorten(text: str) -> str:
    if len(text) <= _MAX_QUOTED_CHARS:
        return text
    return text[:_MAX_QUOTED_CHARS] + "…"
