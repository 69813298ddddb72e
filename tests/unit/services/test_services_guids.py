"""GUID parsing for fixtures and CLI arguments (CONTRACT §9: any letter case)."""

from __future__ import annotations

import uuid

import pytest

from ecb_files.services.guids import parse_guid

GUID = "5d3c2b1a-0000-4000-8000-00000000abcd"


@pytest.mark.parametrize("text", [GUID, GUID.upper()])
def test_guid_in_any_letter_case(text: str) -> None:
    assert parse_guid(text) == uuid.UUID(GUID)


@pytest.mark.parametrize(
    "text",
    ["", "x", "{" + GUID + "}", "urn:uuid:" + GUID, GUID.replace("-", ""), GUID + "\n", " " + GUID],
)
def test_other_spellings_are_not_guids(text: str) -> None:
    with pytest.raises(ValueError, match="is not a GUID"):
        parse_guid(text)
