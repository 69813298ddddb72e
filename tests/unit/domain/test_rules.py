"""The pure field rules of a submission (CONTRACT §3.1, §9)."""

from __future__ import annotations

import unicodedata
import uuid

import pytest

from ecb_files.config import Limits
from ecb_files.domain import rules
from ecb_files.errors import InvalidRequest, PayloadTooLarge

GUID = "0f8fad5b-d9cb-469f-a165-70867728950e"


@pytest.mark.parametrize("value", [GUID, GUID.upper(), "0F8FAD5B-d9cb-469F-a165-70867728950E"])
def test_guids_are_accepted_in_any_letter_case(value: str) -> None:
    """§9: GUIDs are accepted in any letter case."""
    assert rules.is_guid(value)
    assert rules.parse_guid(value, field="payload.id") == uuid.UUID(GUID)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "{" + GUID + "}",
        "urn:uuid:" + GUID,
        GUID.replace("-", ""),
        GUID[:-1],
        GUID + "0",
        GUID[:-1] + "g",
        " " + GUID,
        GUID + "\n",
        "0f8fad5b-d9cb-469f-a165-70867728950\u0660",  # an Arabic-Indic digit
    ],
)
def test_non_guids_are_refused_naming_the_field(value: str) -> None:
    assert not rules.is_guid(value)
    with pytest.raises(InvalidRequest, match=r"^payload\.id: must be a GUID"):
        rules.parse_guid(value, field="payload.id")


@pytest.mark.parametrize(
    "value",
    [
        "2024-05-01",
        "2024-02-29",
        "2024-05-01T12:30",
        "2024-05-01T12:30:15",
        "2024-05-01T12:30:15Z",
        "2024-05-01t12:30:15z",
        "2024-05-01 12:30:15",
        "2024-05-01T12:30:15.5+02:00",
        "2024-05-01T12:30:15.1234567-05:30",
        "2024-05-01T12:30:15,123+0200",
        "2024-05-01T23:59:59+14",
    ],
)
def test_dates_and_iso_date_times_are_timestamps(value: str) -> None:
    """§3.1/§9: yyyy-MM-dd or an ISO 8601 date-time, offset optional."""
    assert rules.is_timestamp(value)
    rules.check_timestamp(value, field="timestamp")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "2024-5-1",
        "2024-13-01",
        "2023-02-29",
        "2024-05-01T24:00:00",
        "2024-05-01T12:60",
        "2024-05-01T12:30:61",
        "2024-05-01T12",
        "2024-05-01T12:30:15+24:00",
        "20240501",
        "2024-W18-3",
        "01-05-2024",
        "2024-05-01T12:30:15.1234567890Z",
        "2024-05-01Z",
        "yesterday",
    ],
)
def test_other_texts_are_not_timestamps(value: str) -> None:
    assert not rules.is_timestamp(value)
    with pytest.raises(InvalidRequest, match=r"^timestamp: must be a date \(yyyy-MM-dd\)"):
        rules.check_timestamp(value, field="timestamp")


@pytest.mark.parametrize(
    "value",
    [
        "a@b.dk",
        "company_ds@example.com",
        "first.last+tag@sub.example.co.uk",
        "ø@æble.dk",
        "x@" + "a" * 300 + ".dk",
    ],
)
def test_usable_emails_are_accepted(value: str) -> None:
    assert rules.email_problem(value) is None
    rules.check_email(value, field="payload.userEmail")


@pytest.mark.parametrize("code", range(128))
def test_every_ascii_character_is_judged_as_its_unicode_category_says(code: int) -> None:
    """§3.2 userEmail: ASCII addresses take a quicker check; it refuses exactly the
    controls, DEL and whitespace, as the Unicode rule does for every other character."""
    char = chr(code)
    blank_or_control = char.isspace() or unicodedata.category(char) in ("Cc", "Zs")
    found = rules.email_problem(f"a{char}b@example.com")
    refused = found == "must not contain whitespace or control characters"
    assert refused == blank_or_control


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "must not be empty"),
        ("a@b.dk" + "k" * 320, "is longer than 320 characters"),
        ("a b@c.dk", "must not contain whitespace or control characters"),
        ("ab@c.dk\n", "must not contain whitespace or control characters"),
        ("a\u200b@c.dk", "must not contain whitespace or control characters"),
        ("abc.dk", "must contain exactly one '@'"),
        ("a@b@c.dk", "must contain exactly one '@'"),
        ("@c.dk", "has nothing before the '@'"),
        ("a@localhost", "needs a domain with a dot"),
        ("a@.dk", "needs a domain with a dot"),
        ("a@c.", "needs a domain with a dot"),
        ("a@c..dk", "needs a domain with a dot"),
    ],
)
def test_unusable_emails_are_refused_with_the_reason(value: str, problem: str) -> None:
    found = rules.email_problem(value)
    assert found is not None
    assert found.startswith(problem)
    with pytest.raises(InvalidRequest) as caught:
        rules.check_email(value, field="payload.userEmail")
    assert caught.value.description.startswith(
        f"payload.userEmail: is not a valid e-mail address: {problem}"
    )


@pytest.mark.parametrize(
    "value", ["a.txt", "x", "skærm 📷.jpg", ".bashrc", "..txt", "a..b", "a" * 500, " spaced .pdf"]
)
def test_acceptable_file_names(value: str) -> None:
    """§3.1: 1–500 characters; the extension is not judged here (§3.2 step 3.5)."""
    assert rules.file_name_problem(value, max_chars=500) is None


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("", "must not be empty"),
        ("a" * 501, "is longer than maxFileNameChars 500 characters"),
        ("😀" * 501, "is longer than maxFileNameChars 500 characters"),
        ("dir/a.txt", "must not contain '/'"),
        ("dir\\a.txt", "must not contain '\\\\'"),
        ("a\x00.txt", "must not contain control characters (found U+0000)"),
        ("a\t.txt", "must not contain control characters (found U+0009)"),
        ("a\r\n.txt", "must not contain control characters (found U+000D)"),
        ("a\x7f.txt", "must not contain control characters (found U+007F)"),
        ("a\x9f.txt", "must not contain control characters (found U+009F)"),
        (".", "must not be '.' or '..'"),
        ("..", "must not be '.' or '..'"),
    ],
)
def test_refused_file_names(value: str, problem: str) -> None:
    """§9: control characters are category Cc (C0, DEL, C1); lengths count code points."""
    assert rules.file_name_problem(value, max_chars=500) == problem
    with pytest.raises(InvalidRequest) as caught:
        rules.check_file_name(value, max_chars=500, field="payload.files[3].fileName")
    assert caught.value.description == f"payload.files[3].fileName: {problem}"


@pytest.mark.parametrize(
    "code_point", [0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]
)
def test_bidi_controls_are_refused_in_file_names(code_point: int) -> None:
    """§12.1: a bidirectional control can disguise an extension (photo<RLO>gpj.exe)."""
    problem = rules.file_name_problem(f"photo{chr(code_point)}gpj.exe", max_chars=500)
    assert problem == (
        "must not contain Unicode bidirectional controls, which can disguise an extension "
        f"(found U+{code_point:04X})"
    )


@pytest.mark.parametrize("code_point", [0x200D, 0x2060, 0x202F, 0x206A])
def test_neighbours_of_the_bidi_controls_are_allowed(code_point: int) -> None:
    """§12.1 names the bidi controls exactly; the code points around them are not refused."""
    assert rules.file_name_problem(f"a{chr(code_point)}b.txt", max_chars=500) is None


def test_file_name_length_counts_code_points() -> None:
    assert rules.file_name_problem("😀" * 500, max_chars=500) is None


def test_sha256_hex_is_normalized_to_lower_case() -> None:
    digest = "AB" * 32
    assert rules.is_sha256_hex(digest)
    assert rules.parse_sha256_hex(digest, field="f") == "ab" * 32


@pytest.mark.parametrize(
    "value", ["", "a" * 63, "a" * 65, "g" * 64, " " + "a" * 63, "a" * 63 + "\n"]
)
def test_bad_sha256_hex_is_refused(value: str) -> None:
    assert not rules.is_sha256_hex(value)
    with pytest.raises(
        InvalidRequest, match=r"^payload\.files\[0\]\.sha256: must be a SHA-256 digest"
    ):
        rules.parse_sha256_hex(value, field="payload.files[0].sha256")


# --- the body's size (§3.1 maxRequestBytes) ---------------------------------------------


@pytest.mark.parametrize("declared", [False, True], ids=["received", "declared"])
def test_a_body_of_exactly_max_request_bytes_passes(declared: bool) -> None:
    """§3.1: the body may be up to ``maxRequestBytes``, the bound included."""
    rules.check_request_size(1000, Limits(max_request_bytes=1000), declared=declared)
    rules.check_request_size(0, Limits(max_request_bytes=1000), declared=declared)


def test_a_body_one_byte_over_max_request_bytes_is_413_naming_the_limit() -> None:
    """§3.1 and §3.3: a body larger than ``maxRequestBytes`` → 413 GenericError whose
    description names the limit and its value."""
    with pytest.raises(PayloadTooLarge) as caught:
        rules.check_request_size(1001, Limits(max_request_bytes=1000))
    error = caught.value
    assert error.status == 413
    assert error.error_type == "GenericError"
    assert "maxRequestBytes" in error.description
    assert "1000" in error.description
    assert error.description.startswith("the request body")


def test_a_declared_content_length_over_the_limit_is_named_in_the_413() -> None:
    """§3.1 Content-Length and §3.2 step 1.4: a declared length over ``maxRequestBytes``
    is refused before the body is read, and the description names ``Content-Length N``."""
    with pytest.raises(PayloadTooLarge) as caught:
        rules.check_request_size(2048, Limits(max_request_bytes=1024), declared=True)
    description = caught.value.description
    assert caught.value.status == 413
    assert description.startswith("Content-Length 2048 ")
    assert "maxRequestBytes (1024 bytes)" in description
