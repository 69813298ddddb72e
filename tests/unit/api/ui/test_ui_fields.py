"""The FNoL payload as labelled fields on a DN's page."""

from __future__ import annotations

from ecb_files.api.ui.fields import Field, label_for, labelled_fields


def test_the_default_schema_gets_a_claims_handlers_labels() -> None:
    fields = labelled_fields(
        {
            "incidentDate": "2026-11-28",
            "policyNumber": "P-1",
            "address": {"street": "Vestergade 1", "postalCode": "8000"},
        }
    )
    assert fields == (
        Field("Date of incident", "2026-11-28"),
        Field("Policy number", "P-1"),
        Field(
            "Address of the damage",
            children=(Field("Street", "Vestergade 1"), Field("Postal code", "8000")),
        ),
    )


def test_any_other_object_is_labelled_from_its_member_names_in_order() -> None:
    fields = labelled_fields(
        {
            "vehicle_reg": "AB 12",
            "policyHolderName": "Anna",
            "rooms": ["kitchen", 2],
            "urgent": True,
            "notes": None,
        }
    )
    assert [field.label for field in fields] == [
        "Vehicle reg",
        "Policy holder name",
        "Rooms",
        "Urgent",
        "Notes",
    ]
    assert fields[2].children == (Field("1", "kitchen"), Field("2", "2"))
    assert fields[3].value == "Yes"
    assert fields[4].value == "—"
    assert fields[2].is_group
    assert not fields[0].is_group


def test_a_nested_name_is_labelled_from_its_own_name_outside_the_default_schema() -> None:
    assert label_for("street", "site.street") == "Street"
    assert label_for("") == "(no name)"
    assert label_for("URL") == "Url"
