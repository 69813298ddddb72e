"""The field rules of a submission body, field by field (§3.1, §9 submit endpoints).

Base64 content and file sizes are in ``test_submit_content.py``; the JSON-level rules
(duplicates, depth, string cap, size, Content-Type) in ``test_submit_json.py``.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pytest

from tests.functional.api.bodies import edit, record_of, valid_case_body
from tests.functional.conftest import PHOTO, Api, assert_error, file_entry, submission
from tests.functional.world import World

NOT_GUIDS = [
    "abc",
    "",
    "00000000-0000-0000-0000-0000000000a",  # one digit short
    "00000000-0000-0000-0000-0000000000ag",  # not hex
    "000000000000000000000000000000a2",  # no hyphens
    12345,
    None,
]


def accepted(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return list(response.json()["payload"]["files"])


# --- securityToken ------------------------------------------------------------------


def test_missing_security_token_is_400(api: Api, world: World) -> None:
    """§3.1 securityToken: required."""
    body = edit(valid_case_body(world), "securityToken", delete=True)
    assert_error(api.case(body), 400, "InvalidRequest", "securityToken")


@pytest.mark.parametrize("value", NOT_GUIDS)
def test_security_token_that_is_not_a_guid_is_400(api: Api, world: World, value: object) -> None:
    """§3.1 securityToken: a GUID."""
    body = edit(valid_case_body(world), "securityToken", value)
    assert_error(api.case(body), 400, "InvalidRequest", "securityToken")


def test_guids_are_accepted_in_upper_case(api: Api, world: World) -> None:
    """§9: GUIDs in any letter case (securityToken and payload.id)."""
    body = submission(
        world, world.open_case.upper(), [file_entry()], securityToken=world.security_token.upper()
    )
    assert len(accepted(api.case(body))) == 1


def test_the_ids_given_to_files_are_guids_in_the_order_they_were_made(
    api: Api, world: World
) -> None:
    """§3.3 Success (docs/behaviour.md): each file's id is a version-7 GUID, and a file
    stored later, in the same request or a later one, has a later id."""
    body = submission(world, world.open_case, [file_entry("a.jpg"), file_entry("b.jpg")])
    entries = accepted(api.case(body)) + accepted(api.case(body))
    ids = [uuid.UUID(entry["id"]) for entry in entries]
    assert ids == sorted(ids)
    assert {made.version for made in ids} == {7}


def test_guids_are_accepted_in_mixed_case_on_the_dn_endpoint(api: Api, world: World) -> None:
    """§9: GUIDs in any letter case, submitForDamageNotification too."""
    mixed = "".join(c.upper() if i % 2 else c for i, c in enumerate(world.open_dn))
    body = submission(world, mixed, [file_entry()], securityToken=world.security_token.upper())
    assert len(accepted(api.dn(body))) == 1


# --- timestamp ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "2024-05-01",
        "2024-05-01T12:30:00",
        "2024-05-01T12:30:00Z",
        "2024-05-01T12:30:00+02:00",
        "2024-05-01T12:30:00.1234567-05:00",
    ],
    ids=["date", "date-time-no-offset", "utc", "offset", "fraction"],
)
def test_valid_timestamps_are_accepted(api: Api, world: World, value: str) -> None:
    """§3.1 timestamp: yyyy-MM-dd or ISO 8601 date-time; §9: no offset is valid."""
    body = edit(valid_case_body(world), "timestamp", value)
    assert len(accepted(api.case(body))) == 1


def test_timestamp_is_optional(api: Api, world: World) -> None:
    """§3.1 timestamp: optional."""
    assert "timestamp" not in valid_case_body(world)
    assert len(accepted(api.case(valid_case_body(world)))) == 1


@pytest.mark.parametrize(
    "value",
    ["01-05-2024", "2024-13-01", "2024-02-30", "2024-05-01T25:00:00", "yesterday", "", 20240501],
)
def test_invalid_timestamp_is_400(api: Api, world: World, value: object) -> None:
    """§3.1 timestamp: anything but a date or ISO 8601 date-time is refused."""
    body = edit(valid_case_body(world), "timestamp", value)
    assert_error(api.case(body), 400, "InvalidRequest", "timestamp")


# --- payload ------------------------------------------------------------------------


def test_missing_payload_is_400(api: Api, world: World) -> None:
    """§3.1: payload (and everything in it) is required."""
    body = edit(valid_case_body(world), "payload", delete=True)
    assert_error(api.case(body), 400, "InvalidRequest", "payload")


def test_missing_payload_id_is_400(api: Api, world: World) -> None:
    """§3.1 payload.id: required."""
    body = edit(valid_case_body(world), "payload.id", delete=True)
    assert_error(api.case(body), 400, "InvalidRequest", "payload.id")


@pytest.mark.parametrize("value", NOT_GUIDS)
def test_payload_id_that_is_not_a_guid_is_400(api: Api, world: World, value: object) -> None:
    """§3.1 payload.id: a GUID."""
    body = edit(valid_case_body(world), "payload.id", value)
    assert_error(api.case(body), 400, "InvalidRequest", "payload.id")


def test_missing_insurance_company_alias_is_400(api: Api, world: World) -> None:
    """§3.1 payload.insuranceCompanyAlias: required."""
    body = edit(valid_case_body(world), "payload.insuranceCompanyAlias", delete=True)
    assert_error(api.case(body), 400, "InvalidRequest", "payload.insuranceCompanyAlias")


@pytest.mark.parametrize("value", ["", 7, None])
def test_empty_or_non_string_insurance_company_alias_is_400(
    api: Api, world: World, value: object
) -> None:
    """§3.1 payload.insuranceCompanyAlias: a non-empty string."""
    body = edit(valid_case_body(world), "payload.insuranceCompanyAlias", value)
    assert_error(api.case(body), 400, "InvalidRequest", "payload.insuranceCompanyAlias")


def test_missing_user_email_is_400(api: Api, world: World) -> None:
    """§3.1 payload.userEmail: required."""
    body = edit(valid_case_body(world), "payload.userEmail", delete=True)
    assert_error(api.case(body), 400, "InvalidRequest", "payload.userEmail")


@pytest.mark.parametrize(
    "value", ["not-an-email", "a@", "@example.com", "a b@example.com", "a@@example.com", "", 42]
)
def test_invalid_user_email_is_400(api: Api, world: World, value: object) -> None:
    """§3.1 payload.userEmail: a syntactically valid e-mail address."""
    body = edit(valid_case_body(world), "payload.userEmail", value)
    assert_error(api.case(body), 400, "InvalidRequest", "payload.userEmail")


# --- payload.files ------------------------------------------------------------------


def test_missing_files_is_400(api: Api, world: World) -> None:
    """§3.1 payload.files: required."""
    body = edit(valid_case_body(world), "payload.files", delete=True)
    assert_error(api.case(body), 400, "InvalidRequest", "payload.files")


@pytest.mark.parametrize("value", [[], {}, "photo.jpg"], ids=["empty", "object", "string"])
def test_empty_or_non_array_files_is_400(api: Api, world: World, value: object) -> None:
    """§3.1 payload.files: an array of at least one entry."""
    body = edit(valid_case_body(world), "payload.files", value)
    assert_error(api.case(body), 400, "InvalidRequest", "payload.files")


def test_max_files_per_request_is_accepted(small_api: Api, world: World) -> None:
    """§3.1 payload.files: up to max_files_per_request (3 on the small server)."""
    files = [file_entry(f"f{i}.jpg", PHOTO + bytes([i])) for i in range(3)]
    assert len(accepted(small_api.case(submission(world, world.open_case, files)))) == 3


def test_more_than_max_files_per_request_is_400_naming_the_limit(
    small_api: Api, world: World
) -> None:
    """§3.1 payload.files: 4 files over a limit of 3 → 400 naming the limit and its value (§4)."""
    files = [file_entry(f"f{i}.jpg", bytes([i])) for i in range(4)]
    response = small_api.case(submission(world, world.open_case, files))
    assert_error(response, 400, "InvalidRequest", "payload.files", "maxFilesPerRequest", "3")


# --- files[i].fileName --------------------------------------------------------------


def test_missing_file_name_is_400(api: Api, world: World) -> None:
    """§3.1 fileName: required."""
    body = edit(valid_case_body(world), "payload.files.0.fileName", delete=True)
    assert_error(api.case(body), 400, "InvalidRequest", "payload.files[0]", ".fileName")


def test_empty_file_name_is_400(api: Api, world: World) -> None:
    """§3.1 fileName: 1–500 characters."""
    body = valid_case_body(world, fileName="")
    assert_error(api.case(body), 400, "InvalidRequest", "payload.files[0]", ".fileName")


@pytest.mark.parametrize("char", ["a", "é", "😀"], ids=["ascii", "two-byte", "astral"])
def test_file_name_of_500_characters_is_accepted(api: Api, world: World, char: str) -> None:
    """§3.1 fileName: 500 characters is fine; §9 lengths count code points, not bytes."""
    name = char * 496 + ".jpg"
    files = accepted(api.case(valid_case_body(world, fileName=name)))
    assert files[0]["fileName"] == name


@pytest.mark.parametrize("char", ["a", "😀"], ids=["ascii", "astral"])
def test_file_name_of_501_characters_is_400_naming_the_limit(
    api: Api, world: World, char: str
) -> None:
    """§3.1 fileName: 501 characters is refused, naming the 500 limit (§4)."""
    body = valid_case_body(world, fileName=char * 497 + ".jpg")
    assert_error(api.case(body), 400, "InvalidRequest", "payload.files[0]", ".fileName", "500")


@pytest.mark.parametrize(
    "name",
    [
        "a/b.jpg",
        "a\\b.jpg",
        "a\x00b.jpg",
        "a\nb.jpg",
        "a\tb.jpg",
        "a\x7fb.jpg",
        "a\x85b.jpg",
        "a\x1fb.jpg",
        "a\x9fb.jpg",
        "photo.jpg\r",
    ],
    ids=["slash", "backslash", "NUL", "LF", "TAB", "DEL", "NEL-C1", "US", "APC-C1", "trailing-CR"],
)
def test_file_name_with_path_or_control_characters_is_400(
    api: Api, world: World, name: str
) -> None:
    """§3.1 fileName: no /, \\, NUL or other control character (§9: Cc — C0, DEL, C1)."""
    body = valid_case_body(world, fileName=name)
    assert_error(api.case(body), 400, "InvalidRequest", "payload.files[0]", ".fileName")


@pytest.mark.parametrize("name", [".", ".."])
def test_dot_and_dot_dot_file_names_are_400(api: Api, world: World, name: str) -> None:
    """§3.1 fileName: not . or .. (→ 400, before any extension check)."""
    body = valid_case_body(world, fileName=name, contentType="application/octet-stream")
    assert_error(api.case(body), 400, "InvalidRequest", "payload.files[0]", ".fileName")


def test_file_name_fault_names_the_index_of_its_file(api: Api, world: World) -> None:
    """§9: errorDescription names the field by its JSON path, index included."""
    files = [file_entry("ok.jpg"), file_entry("bad/name.jpg")]
    response = api.case(submission(world, world.open_case, files))
    assert_error(response, 400, "InvalidRequest", "payload.files[1]", ".fileName")


def test_unicode_and_spaces_in_file_names_are_kept(api: Api, world: World) -> None:
    """§3.1 fileName: anything else is allowed and echoed as sent."""
    name = "Skade foto æøå (1) – 2024.jpg"
    assert accepted(api.case(valid_case_body(world, fileName=name)))[0]["fileName"] == name


# --- files[i].contentType -----------------------------------------------------------


def test_missing_content_type_is_400(api: Api, world: World) -> None:
    """§3.1 contentType: required (missing → 400, not 415)."""
    body = edit(valid_case_body(world), "payload.files.0.contentType", delete=True)
    assert_error(api.case(body), 400, "InvalidRequest", "payload.files[0]", ".contentType")


@pytest.mark.parametrize("value", [17, None, ["image/jpeg"]])
def test_non_string_content_type_is_400(api: Api, world: World, value: object) -> None:
    """§3.1 contentType: a MIME type string."""
    body = valid_case_body(world, contentType=value)
    assert_error(api.case(body), 400, "InvalidRequest", "payload.files[0]", ".contentType")


# --- files[i].description -----------------------------------------------------------


@pytest.mark.parametrize("char", ["x", "ø"], ids=["ascii", "two-byte"])
def test_description_of_4000_characters_is_stored(api: Api, world: World, char: str) -> None:
    """§3.1 description: at most 4,000 characters (code points, §9) — 4,000 is kept whole."""
    description = char * 4000
    files = accepted(api.case(valid_case_body(world, description=description)))
    record = record_of(api, files[0]["id"], case=world.open_case)
    assert record["description"] == description


def test_description_of_4001_characters_is_400_naming_the_limit(api: Api, world: World) -> None:
    """§3.1 description: 4,001 characters is refused, naming the limit (§4)."""
    body = valid_case_body(world, description="x" * 4001)
    assert_error(api.case(body), 400, "InvalidRequest", "payload.files[0]", ".description", "4000")


def test_non_string_description_is_400(api: Api, world: World) -> None:
    """§3.1 description: a string."""
    body = valid_case_body(world, description=12)
    assert_error(api.case(body), 400, "InvalidRequest", "payload.files[0]", ".description")


# --- isRestricted / isDamageImage ---------------------------------------------------


def test_flags_default_to_false(api: Api, world: World) -> None:
    """§3.1 isRestricted, isDamageImage: default false."""
    files = accepted(api.case(valid_case_body(world)))
    record = record_of(api, files[0]["id"], case=world.open_case)
    assert (record["isRestricted"], record["isDamageImage"]) == (False, False)


def test_submit_for_case_honours_is_restricted_only(api: Api, world: World) -> None:
    """§3.1: isRestricted honoured on submitForCase; isDamageImage is not."""
    body = valid_case_body(world, isRestricted=True, isDamageImage=True)
    files = accepted(api.case(body))
    record = record_of(api, files[0]["id"], case=world.open_case)
    assert (record["isRestricted"], record["isDamageImage"]) == (True, False)


def test_submit_for_dn_honours_is_damage_image_only(api: Api, world: World) -> None:
    """§3.1: isDamageImage honoured on submitForDamageNotification; isRestricted is not."""
    entry = file_entry(isRestricted=True, isDamageImage=True)
    files = accepted(api.dn(submission(world, world.open_dn, [entry])))
    record = record_of(api, files[0]["id"], dn=world.open_dn)
    assert (record["isRestricted"], record["isDamageImage"]) == (False, True)


@pytest.mark.parametrize("field", ["isRestricted", "isDamageImage"])
@pytest.mark.parametrize("value", ["true", 1, "false"])
def test_non_boolean_flags_are_400(api: Api, world: World, field: str, value: object) -> None:
    """§3.1: isRestricted and isDamageImage are optional booleans."""
    body = valid_case_body(world, **{field: value})
    assert_error(api.case(body), 400, "InvalidRequest", "payload.files[0]", f".{field}")


# --- files[i].sha256 ----------------------------------------------------------------


@pytest.mark.parametrize("case", [str.lower, str.upper], ids=["lower", "upper"])
def test_matching_sha256_is_accepted(api: Api, world: World, case: Any) -> None:
    """§3.1 sha256: the partner's hex SHA-256 of the decoded bytes, checked and accepted."""
    digest = hashlib.sha256(PHOTO).hexdigest()
    body = submission(world, world.open_case, [file_entry(data=PHOTO, sha256=case(digest))])
    assert accepted(api.case(body))[0]["sha256"] == digest


def test_sha256_mismatch_is_400_naming_the_file(api: Api, world: World) -> None:
    """§3.1 sha256: a mismatch → 400 InvalidRequest naming the file (index and name)."""
    wrong = hashlib.sha256(b"something else").hexdigest()
    files = [file_entry("first.jpg"), file_entry("second.jpg", b"actual", sha256=wrong)]
    response = api.case(submission(world, world.open_case, files))
    assert_error(response, 400, "InvalidRequest", "payload.files[1]", "second.jpg")


@pytest.mark.parametrize("value", ["xyz", "ab" * 31, "ab" * 33, 5])
def test_sha256_that_is_not_64_hex_digits_is_400(api: Api, world: World, value: object) -> None:
    """§3.1 sha256: a hex SHA-256 (64 hex digits) or nothing."""
    body = valid_case_body(world, sha256=value)
    assert_error(api.case(body), 400, "InvalidRequest", "payload.files[0]")


# --- unknown fields -----------------------------------------------------------------


def test_unknown_fields_are_ignored_at_every_level(api: Api, world: World) -> None:
    """§3.1: unknown fields are ignored (root, payload, file entry; any JSON type)."""
    body = valid_case_body(world, colour="blue", extra={"a": [1, 2.5e3, None, True]})
    body["clientVersion"] = "4.2"
    body["payload"]["caseNumber"] = None
    body["payload"]["tags"] = ["a", {"b": False}]
    assert len(accepted(api.case(body))) == 1
