"""Hostile input never escapes as anything but the intended refusal (§2, §9)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecb_files.auth.assertions import peek_assertion_issuer, verify_client_assertion
from ecb_files.auth.bearer import parse_bearer
from ecb_files.auth.tokens import AccessTokenVerifier, InvalidAccessToken, generate_signing_key
from ecb_files.errors import OAuthError

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)
header_members = st.fixed_dictionaries(
    {},
    optional={
        "alg": st.sampled_from(["RS256", "PS256", "ES256", "none", "HS256"]) | json_values,
        "kid": st.text(max_size=10) | json_values,
        "x5t": st.text(max_size=10) | json_values,
        "typ": st.sampled_from(["at+jwt", "JWT"]) | json_values,
        "crit": json_values,
        "b64": json_values,
    },
)
claim_members = st.fixed_dictionaries(
    {},
    optional={
        name: json_values | st.just("c")
        for name in ("iss", "sub", "aud", "exp", "nbf", "iat", "jti", "scope", "client_id")
    },
)


def segment(value: Any) -> str:
    raw = json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


tokens = st.text(max_size=200) | st.builds(
    lambda h, c, s: f"{segment(h)}.{segment(c)}.{s}",
    header_members | json_values,
    claim_members | json_values,
    st.text(alphabet="ABCDEFabcdef0123456789-_", max_size=40),
)

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def verifier() -> AccessTokenVerifier:
    key = generate_signing_key(0)
    # Also under the kid "c", which the fuzzer writes often: tokens reach the signature check.
    return AccessTokenVerifier({"c": key, key.kid: key}, "https://i.example", "ecb-files")


@FUZZ
@given(tokens)
def test_assertion_refusal_is_always_invalid_client(assertion: str) -> None:
    """§9: whatever arrives, the answer is invalid_client (never a crash → 500)."""
    with pytest.raises(OAuthError) as info:
        verify_client_assertion(
            assertion,
            client_id_hint=None,
            keys_for=lambda client_id: [],
            audiences=["https://i.example/connect/token"],
            now=1_750_000_000,
        )
    assert info.value.error == "invalid_client"


@FUZZ
@given(tokens)
def test_peek_never_raises(assertion: str) -> None:
    issuer = peek_assertion_issuer(assertion)
    assert issuer is None or (isinstance(issuer, str) and issuer)


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(tokens)
def test_access_token_refusal_is_always_invalid_access_token(
    verifier: AccessTokenVerifier, token: str
) -> None:
    """§2: a malformed token is a 401, never a crash."""
    with pytest.raises(InvalidAccessToken):
        verifier.verify(token, 1_750_000_000)


@FUZZ
@given(st.none() | st.text(max_size=50))
def test_parse_bearer_never_raises(header: str | None) -> None:
    token = parse_bearer(header)
    assert token is None or isinstance(token, str)
