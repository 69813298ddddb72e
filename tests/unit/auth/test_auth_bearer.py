"""The Bearer header of the submit endpoints (§2, §9)."""

from __future__ import annotations

import pytest

from ecb_files.auth.bearer import REQUIRED_SCOPE, parse_bearer


def test_required_scope_is_the_contracts() -> None:
    """§2: writing needs platform-service-provider:write."""
    assert REQUIRED_SCOPE == "platform-service-provider:write"


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER", "bEaReR"])
def test_scheme_is_case_insensitive(scheme: str) -> None:
    """§9: the Bearer scheme is case-insensitive."""
    assert parse_bearer(f"{scheme} abc.def.ghi") == "abc.def.ghi"


def test_surrounding_whitespace_is_ignored() -> None:
    assert parse_bearer("  Bearer   abc.def.ghi  ") == "abc.def.ghi"


def test_no_header_is_none() -> None:
    """§2: no header → 401 without an error code; the parser says None."""
    assert parse_bearer(None) is None


@pytest.mark.parametrize(
    "header", ["Basic YWxpY2U6c2VjcmV0", "Token abc", "Bearerabc", "", "   ", "DPoP abc"]
)
def test_other_scheme_is_none(header: str) -> None:
    """§9: any other scheme is treated as no header."""
    assert parse_bearer(header) is None


@pytest.mark.parametrize("header", ["Bearer", "Bearer ", "Bearer \t  ", "bearer\t"])
def test_bearer_without_token_is_empty(header: str) -> None:
    """§2: Bearer with an empty token is a malformed token (401 invalid_token), not no header."""
    assert parse_bearer(header) == ""
