"""Server signing keys, JWKS and access tokens (§2, §9; RFC 9068)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.jwk import RSAKey
from joserfc.jws import JWSRegistry

from ecb_files.auth.tokens import (
    AccessClaims,
    AccessTokenIssuer,
    AccessTokenVerifier,
    InvalidAccessToken,
    SigningKey,
    generate_signing_key,
    jwks,
)

NOW = 1_750_000_000
ISSUER = "https://files.example.com"
AUDIENCE = "ecb-files"
SCOPE = "platform-service-provider:write"
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    head, body, _ = token.split(".")
    return json.loads(unb64url(head)), json.loads(unb64url(body))


@pytest.fixture(scope="module")
def signing_key() -> SigningKey:
    return generate_signing_key(NOW)


@pytest.fixture(scope="module")
def next_key() -> SigningKey:
    return generate_signing_key(NOW + 86400)


@pytest.fixture(scope="module")
def issuer(signing_key: SigningKey) -> AccessTokenIssuer:
    return AccessTokenIssuer(signing_key, issuer=ISSUER, audience=AUDIENCE, lifetime=3600)


@pytest.fixture(scope="module")
def verifier(signing_key: SigningKey) -> AccessTokenVerifier:
    return AccessTokenVerifier({signing_key.kid: signing_key}, issuer=ISSUER, audience=AUDIENCE)


def forge(signing_key: SigningKey, header: dict[str, Any], claims: dict[str, Any]) -> str:
    """A token signed by the server key with any header and claims."""
    key = RSAKey.import_key(signing_key.private_pem)
    registry = JWSRegistry(algorithms=["RS256"], strict_check_header=False)
    full = {"alg": "RS256", "kid": signing_key.kid, "typ": "at+jwt", **header}
    return jwt.encode(full, claims, key, registry=registry)


def good_claims(**changes: Any) -> dict[str, Any]:
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "aage-backend",
        "client_id": "aage-backend",
        "scope": SCOPE,
        "iat": NOW,
        "nbf": NOW,
        "exp": NOW + 3600,
        "jti": "j-1",
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def refusal(verifier: AccessTokenVerifier, token: str, now: float = NOW) -> InvalidAccessToken:
    with pytest.raises(InvalidAccessToken) as info:
        verifier.verify(token, now)
    return info.value


# --- signing keys and JWKS ----------------------------------------------------------------


def test_signing_key_kid_is_rfc7638_thumbprint(signing_key: SigningKey) -> None:
    """§2: the server key is named by its RFC 7638 thumbprint."""
    public = RSAKey.import_key(signing_key.private_pem).as_dict(private=False)
    canonical = json.dumps(
        {"e": public["e"], "kty": "RSA", "n": public["n"]}, separators=(",", ":")
    )
    assert signing_key.kid == b64url(hashlib.sha256(canonical.encode()).digest())


def test_signing_key_is_rsa_2048_or_more(signing_key: SigningKey) -> None:
    key = RSAKey.import_key(signing_key.private_pem)
    assert isinstance(key.private_key, rsa.RSAPrivateKey)
    assert key.private_key.key_size >= 2048
    assert signing_key.created_at == NOW


def test_jwks_has_public_members_only(signing_key: SigningKey, next_key: SigningKey) -> None:
    """§2: the JWKS publishes public keys only, kid/alg/use set; rotation shows both keys."""
    document = jwks([signing_key, next_key])
    assert [entry["kid"] for entry in document["keys"]] == [signing_key.kid, next_key.kid]
    for entry in document["keys"]:
        assert set(entry) == {"kty", "n", "e", "kid", "alg", "use"}
        assert not PRIVATE_MEMBERS & set(entry)
        assert (entry["kty"], entry["alg"], entry["use"]) == ("RSA", "RS256", "sig")
    assert "PRIVATE" not in json.dumps(document)


def test_jwks_key_verifies_issued_tokens(
    signing_key: SigningKey, issuer: AccessTokenIssuer
) -> None:
    """§2: a resource server using only the published JWKS accepts our tokens."""
    external_view = AccessTokenVerifier.from_jwks(
        jwks([signing_key]), issuer=ISSUER, audience=AUDIENCE
    )
    token = issuer.issue("aage-backend", [SCOPE], NOW).access_token
    assert external_view.verify(token, NOW).client_id == "aage-backend"


# --- issuing ------------------------------------------------------------------------------


def test_token_header_is_rs256_with_kid_and_at_jwt(
    issuer: AccessTokenIssuer, signing_key: SigningKey
) -> None:
    """§2, RFC 9068: RS256, kid, typ at+jwt."""
    header, _ = parts(issuer.issue("aage-backend", [SCOPE], NOW).access_token)
    assert header == {"alg": "RS256", "kid": signing_key.kid, "typ": "at+jwt"}


def test_token_claims(issuer: AccessTokenIssuer) -> None:
    """§2, §9: iss, aud, sub = client_id, scope, iat, nbf = iat, exp, jti."""
    issued = issuer.issue("aage-backend", [SCOPE, "extra:read"], NOW + 0.7)
    _, claims = parts(issued.access_token)
    assert claims.pop("jti")
    assert claims == {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "aage-backend",
        "client_id": "aage-backend",
        "scope": f"{SCOPE} extra:read",
        "iat": NOW,
        "nbf": NOW,
        "exp": NOW + 3600,
    }
    assert (issued.expires_in, issued.scope) == (3600, f"{SCOPE} extra:read")


def test_every_token_has_its_own_jti(issuer: AccessTokenIssuer) -> None:
    first = parts(issuer.issue("c", [SCOPE], NOW).access_token)[1]["jti"]
    second = parts(issuer.issue("c", [SCOPE], NOW).access_token)[1]["jti"]
    assert first != second


def test_duplicate_scopes_are_granted_once(issuer: AccessTokenIssuer) -> None:
    assert issuer.issue("c", [SCOPE, SCOPE], NOW).scope == SCOPE


@pytest.mark.parametrize("scope", ["", "two words", 'quo"te'])
def test_invalid_scope_token_is_refused(issuer: AccessTokenIssuer, scope: str) -> None:
    with pytest.raises(ValueError, match="scope"):
        issuer.issue("c", [scope], NOW)


def test_lifetime_must_be_positive(signing_key: SigningKey) -> None:
    with pytest.raises(ValueError, match="lifetime"):
        AccessTokenIssuer(signing_key, issuer=ISSUER, audience=AUDIENCE, lifetime=0)


def test_bad_signing_pem_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="signing key"):
        AccessTokenIssuer(SigningKey("k", "not a pem", NOW), ISSUER, AUDIENCE, 3600)


# --- verifying ----------------------------------------------------------------------------


def test_round_trip(issuer: AccessTokenIssuer, verifier: AccessTokenVerifier) -> None:
    """§2: a token we issued is accepted with its client and scopes."""
    token = issuer.issue("aage-backend", [SCOPE, "extra:read"], NOW).access_token
    assert verifier.verify(token, NOW + 10) == AccessClaims(
        client_id="aage-backend",
        scopes=frozenset({SCOPE, "extra:read"}),
        expires_at=float(NOW + 3600),
    )


def test_token_without_scope_has_no_scopes(
    signing_key: SigningKey, verifier: AccessTokenVerifier
) -> None:
    """§2: a valid token without the write scope is valid (the caller answers 403)."""
    token = forge(signing_key, {}, good_claims(scope=None))
    assert verifier.verify(token, NOW).scopes == frozenset()


def test_expired_is_refused(issuer: AccessTokenIssuer, verifier: AccessTokenVerifier) -> None:
    """§2: an expired token → 401 (beyond the 60 s skew)."""
    token = issuer.issue("c", [SCOPE], NOW).access_token
    assert verifier.verify(token, NOW + 3600 + 59).client_id == "c"
    assert str(refusal(verifier, token, NOW + 3600 + 61)) == "expired"


@pytest.mark.parametrize("claim", ["nbf", "iat"])
def test_not_yet_valid_is_refused(
    signing_key: SigningKey, verifier: AccessTokenVerifier, claim: str
) -> None:
    """§9: a token whose nbf/iat is more than the skew ahead is "not yet valid"."""
    token = forge(signing_key, {}, good_claims(**{claim: NOW + 61}))
    assert str(refusal(verifier, token)) == "not yet valid"


def test_issued_in_the_future_within_skew_is_accepted(
    issuer: AccessTokenIssuer, verifier: AccessTokenVerifier
) -> None:
    token = issuer.issue("c", [SCOPE], NOW + 60).access_token
    assert verifier.verify(token, NOW).client_id == "c"


def test_wrong_audience_is_refused(signing_key: SigningKey, verifier: AccessTokenVerifier) -> None:
    """§2: a token of another audience → 401."""
    token = forge(signing_key, {}, good_claims(aud="another-api"))
    assert "audience" in str(refusal(verifier, token))


def test_wrong_issuer_is_refused(signing_key: SigningKey, verifier: AccessTokenVerifier) -> None:
    """§2: a token of another issuer → 401."""
    token = forge(signing_key, {}, good_claims(iss="https://evil.example"))
    assert "issuer" in str(refusal(verifier, token))


@pytest.mark.parametrize("claim", ["iss", "aud", "exp"])
def test_missing_required_claim_is_refused(
    signing_key: SigningKey, verifier: AccessTokenVerifier, claim: str
) -> None:
    token = forge(signing_key, {}, good_claims(**{claim: None}))
    assert claim in str(refusal(verifier, token))


def test_tampered_signature_is_refused(
    issuer: AccessTokenIssuer, verifier: AccessTokenVerifier
) -> None:
    """§2: a badly signed token → 401."""
    head, body, signature = issuer.issue("c", [SCOPE], NOW).access_token.split(".")
    flipped = signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")
    assert str(refusal(verifier, f"{head}.{body}.{flipped}")) == "signature does not verify"


def test_tampered_claims_are_refused(
    issuer: AccessTokenIssuer, verifier: AccessTokenVerifier
) -> None:
    head, _, signature = issuer.issue("c", ["read"], NOW).access_token.split(".")
    forged = b64url(json.dumps(good_claims(client_id="c", sub="c")).encode())
    assert str(refusal(verifier, f"{head}.{forged}.{signature}")) == "signature does not verify"


def test_other_servers_key_is_refused(next_key: SigningKey, verifier: AccessTokenVerifier) -> None:
    token = forge(next_key, {"kid": next(iter(verifier.kids))}, good_claims())
    assert str(refusal(verifier, token)) == "signature does not verify"


def test_unknown_kid_is_flagged(
    next_key: SigningKey, verifier: AccessTokenVerifier, signing_key: SigningKey
) -> None:
    """A token of a key rotated in by another process: flagged so the caller reloads."""
    token = AccessTokenIssuer(next_key, ISSUER, AUDIENCE, 3600).issue("c", [SCOPE], NOW)
    error = refusal(verifier, token.access_token)
    assert error.unknown_kid is True
    reloaded = AccessTokenVerifier(
        {signing_key.kid: signing_key, next_key.kid: next_key}, ISSUER, AUDIENCE
    )
    assert reloaded.verify(token.access_token, NOW).client_id == "c"


def test_other_refusals_are_not_unknown_kid(
    signing_key: SigningKey, verifier: AccessTokenVerifier
) -> None:
    token = forge(signing_key, {}, good_claims(exp=NOW - 3600))
    assert refusal(verifier, token).unknown_kid is False


def test_alg_none_is_refused(verifier: AccessTokenVerifier, signing_key: SigningKey) -> None:
    """§2: alg none → 401."""
    head = b64url(json.dumps({"alg": "none", "kid": signing_key.kid, "typ": "at+jwt"}).encode())
    body = b64url(json.dumps(good_claims()).encode())
    assert "alg" in str(refusal(verifier, f"{head}.{body}."))


def test_hs256_with_public_key_is_refused(
    verifier: AccessTokenVerifier, signing_key: SigningKey
) -> None:
    """§2: HMAC keyed with the published public key (key confusion) → 401."""
    public_pem = RSAKey.import_key(signing_key.private_pem).as_pem(private=False)
    head = b64url(json.dumps({"alg": "HS256", "kid": signing_key.kid, "typ": "at+jwt"}).encode())
    body = b64url(json.dumps(good_claims()).encode())
    mac = hmac.new(public_pem, f"{head}.{body}".encode(), hashlib.sha256).digest()
    assert "alg" in str(refusal(verifier, f"{head}.{body}.{b64url(mac)}"))


def test_ps256_is_refused_for_access_tokens(
    signing_key: SigningKey, verifier: AccessTokenVerifier
) -> None:
    """§2: access tokens are RS256 only."""
    key = RSAKey.import_key(signing_key.private_pem)
    header = {"alg": "PS256", "kid": signing_key.kid, "typ": "at+jwt"}
    token = jwt.encode(header, good_claims(), key, algorithms=["PS256"])
    assert "alg" in str(refusal(verifier, token))


def test_wrong_typ_is_refused(signing_key: SigningKey, verifier: AccessTokenVerifier) -> None:
    """RFC 9068 §4: our own tokens must say at+jwt."""
    token = forge(signing_key, {"typ": "JWT"}, good_claims())
    assert "typ" in str(refusal(verifier, token))


@pytest.mark.parametrize(
    "token", ["", "abc", "a.b.c", "ä.b.c", "e30.e30.AA", "ImFsZyI.e30.AA", "x" * 20_000]
)
def test_malformed_is_refused(verifier: AccessTokenVerifier, token: str) -> None:
    """§2: a malformed token → 401."""
    refusal(verifier, token)


# --- external issuers ---------------------------------------------------------------------


def test_external_issuer_jwks_verifies_its_tokens(next_key: SigningKey) -> None:
    """§2/§8: an external issuer's tokens, verified with its JWKS (typ JWT, no client_id)."""
    document = {
        "keys": [
            {"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA", "kid": "ec"},
            {**next_key.public_jwk(), "kid": "ext-1"},
            {**next_key.public_jwk(), "kid": "enc-1", "use": "enc"},
        ]
    }
    verifier = AccessTokenVerifier.from_jwks(document, "https://idp.example", AUDIENCE)
    assert verifier.kids == {"ext-1"}
    claims = good_claims(iss="https://idp.example", client_id=None, scope=None, scp=[SCOPE])
    token = forge(next_key, {"kid": "ext-1", "typ": "JWT"}, claims)
    assert verifier.verify(token, NOW) == AccessClaims(
        "aage-backend", frozenset({SCOPE}), float(NOW + 3600)
    )


def test_external_jwks_key_without_kid_is_named_by_thumbprint(next_key: SigningKey) -> None:
    public = next_key.public_jwk()
    del public["kid"]
    verifier = AccessTokenVerifier.from_jwks({"keys": [public]}, ISSUER, AUDIENCE)
    assert verifier.kids == {next_key.kid}


def test_single_external_key_verifies_token_without_kid(next_key: SigningKey) -> None:
    verifier = AccessTokenVerifier.from_jwks({"keys": [next_key.public_jwk()]}, ISSUER, AUDIENCE)
    key = RSAKey.import_key(next_key.private_pem)
    token = jwt.encode({"alg": "RS256"}, good_claims(), key, algorithms=["RS256"])
    assert verifier.verify(token, NOW).client_id == "aage-backend"


def test_bad_jwks_document_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="JWKS"):
        AccessTokenVerifier.from_jwks({"kty": "RSA"}, ISSUER, AUDIENCE)


def test_non_rsa_jwk_in_key_map_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="'ec-1'"):
        AccessTokenVerifier({"ec-1": {"kty": "EC", "crv": "P-256"}}, ISSUER, AUDIENCE)
