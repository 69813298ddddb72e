"""Any JSON object laid out as labelled fields, for the FNoL payload on a DN's page.

The payload follows the tenant's FNoL schema, which may be any JSON object: every member
becomes a field, nested objects become groups, arrays numbered items. The default
schema's members (docs/fnol.md) get the labels a claims handler knows; any other member
is labelled from its name (``policyHolderName`` → "Policy holder name").
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# The default FNoL schema's member names, by their JSON path (docs/fnol.md).
KNOWN_LABELS: Mapping[str, str] = {
    "incidentDate": "Date of incident",
    "description": "What happened",
    "policyNumber": "Policy number",
    "incidentType": "Type of incident",
    "address": "Address of the damage",
    "address.street": "Street",
    "address.postalCode": "Postal code",
    "address.city": "City",
    "address.country": "Country",
    "contact": "Contact person",
    "contact.name": "Name",
    "contact.phone": "Phone",
    "contact.email": "E-mail",
}

_WORD_START = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|[_\-\s]+")


@dataclass(frozen=True)
class Field:
    """One labelled value, or a group of fields (``children``) for an object or array."""

    label: str
    value: str | None = None
    children: tuple[Field, ...] = field(default_factory=tuple)

    @property
    def is_group(self) -> bool:
        return self.value is None


def labelled_fields(payload: Mapping[str, Any]) -> tuple[Field, ...]:
    """The members of ``payload`` as fields, in the order they were sent."""
    return _object_fields(payload, path="")


def label_for(name: str, path: str = "") -> str:
    known = KNOWN_LABELS.get(path or name)
    if known is not None:
        return known
    words = [word for word in _WORD_START.split(name) if word]
    if not words:
        return name or "(no name)"
    text = " ".join(words).lower()
    return text[0].upper() + text[1:]


def _object_fields(members: Mapping[str, Any], path: str) -> tuple[Field, ...]:
    fields = []
    for name, value in members.items():
        member_path = f"{path}.{name}" if path else name
        fields.append(_field(label_for(name, member_path), value, member_path))
    return tuple(fields)


def _field(label: str, value: Any, path: str) -> Field:
    if isinstance(value, Mapping):
        return Field(label, children=_object_fields(value, path))
    if isinstance(value, Sequence) and not isinstance(value, str):
        items = tuple(
            _field(f"{index}", item, f"{path}[]") for index, item in enumerate(value, start=1)
        )
        return Field(label, children=items)
    return Field(label, value=_scalar_text(value))


def _scalar_text(value: Any) -> str:
    if value is None:
        return "—"
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    return str(value)
