"""The local field rules are the server's rules, word for word (§3.1, §9).

Compared with the server's ``domain/rules.py`` functions on the same values; skipped
where the server package is not importable.
"""

from __future__ import annotations

from types import ModuleType

import pytest

from ecb_files_client import LocalValidationError
from ecb_files_client import _checks as checks


def _server_rules() -> ModuleType:
    try:
        from ecb_files.domain import rules
    except ImportError as error:
        pytest.skip(f"the ecb-files server package is not importable ({error})")
    return rules


FILE_NAMES = [
    "photo.jpg",
    "",
    "a/b.jpg",
    "a\\b.jpg",
    "bell\x07.jpg",
    "del\x7f.jpg",
    "c1\x85.jpg",
    "line\nbreak.txt",
    ".",
    "..",
    "x" * 501,
    "ø" * 500,
    "zero\u200bwidth.txt",
    "photo\u202egpj.exe",
    "mark\u200e.txt",
    "isolate\u2069.txt",
]
EMAILS = [
    "me@example.com",
    "",
    "a" * 321,
    "me @example.com",
    "me\u200b@example.com",
    "me@@example.com",
    "@example.com",
    "me@localhost",
    "me@example.",
    "me@.com",
]
GUIDS = [
    "00000000-0000-0000-0000-0000000000C1",
    "{00000000-0000-0000-0000-0000000000c1}",
    "urn:uuid:00000000-0000-0000-0000-0000000000c1",
    "00000000000000000000000000000000",
    "",
]
TIMESTAMPS = [
    "2024-05-01",
    "2024-05-01T12:30",
    "2024-05-01T12:30:00.1234567Z",
    "2024-05-01 12:30:00+02:00",
    "2024-05-01T12:30:00+0200",
    "2024-02-30",
    "2024-05-01T24:00:00",
    "2024-W18-3",
    "20240501",
    "2024-05-01T12:30:00+24:00",
]


@pytest.mark.parametrize("name", FILE_NAMES)
def test_file_name_problems_are_the_servers(name: str) -> None:
    rules = _server_rules()
    expected = rules.file_name_problem(name, max_chars=500)
    assert checks.file_name_problem(name, max_chars=500) == expected


@pytest.mark.parametrize("email", EMAILS)
def test_email_problems_are_the_servers(email: str) -> None:
    assert checks.email_problem(email) == _server_rules().email_problem(email)


@pytest.mark.parametrize("value", GUIDS)
def test_guid_rule_and_message_are_the_servers(value: str) -> None:
    rules = _server_rules()
    assert checks.is_guid(value) == rules.is_guid(value)
    if not rules.is_guid(value):
        with pytest.raises(rules.InvalidRequest) as server_error:
            rules.parse_guid(value, field="payload.id")
        with pytest.raises(LocalValidationError) as client_error:
            checks.check_guid(value, field="payload.id")
        assert client_error.value.description == server_error.value.description


@pytest.mark.parametrize("value", TIMESTAMPS)
def test_timestamp_rule_and_message_are_the_servers(value: str) -> None:
    rules = _server_rules()
    assert checks.is_timestamp(value) == rules.is_timestamp(value)
    if not rules.is_timestamp(value):
        with pytest.raises(rules.InvalidRequest) as server_error:
            rules.check_timestamp(value, field="timestamp")
        with pytest.raises(LocalValidationError) as client_error:
            checks.check_timestamp(value, field="timestamp")
        assert client_error.value.description == server_error.value.description


@pytest.mark.parametrize(
    ("key", "valid"),
    [("abc-123", True), ("", False), ("k" * 256, False), ("has space", False), ("é", False)],
)
def test_idempotency_key_rule_is_the_servers(key: str, valid: bool) -> None:
    """§3.4, §9: 1–255 visible ASCII characters."""
    try:
        from ecb_files.errors import InvalidRequest
        from ecb_files.services.idempotency import parse_idempotency_key
    except ImportError as error:
        pytest.skip(f"the ecb-files server package is not importable ({error})")
    if valid:
        checks.check_idempotency_key(key)
        assert parse_idempotency_key(key, 255) == key
        return
    with pytest.raises(InvalidRequest) as server_error:
        parse_idempotency_key(key, 255)
    with pytest.raises(LocalValidationError) as client_error:
        checks.check_idempotency_key(key)
    assert client_error.value.description == server_error.value.description
