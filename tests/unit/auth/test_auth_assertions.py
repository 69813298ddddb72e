"""private_key_jwt client assertions (§2, §9 token endpoint; RFC 7523, OIDC Core §9)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from authlib.oauth2.rfc7523 import (  # type: ignore[import-untyped]
    PrivateKeyJWT,
    private_key_jwt_sign,
)
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from joserfc.jws import JWSRegistry

from ecb_files.auth.assertions import (
    VerifiedAssertion,
    peek_assertion_issuer,
    verify_client_assertion,
)
from ecb_files.auth.client_keys import ClientPublicKey, key_from_certificate, key_from_jwk
from ecb_files.errors import OAuthError

NOW = 1_750_000_000
CLIENT = "aage-backend"
ISSUER = "https://files.example.com"
TOKEN_ENDPOINT = f"{ISSUER}/connect/token"
AUDIENCES = (TOKEN_ENDPOINT, ISSUER)

Keys = dict[str, list[ClientPublicKey]]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def x5t_of(pem: str) -> str:
    der = x509.load_pem_x509_certificate(pem.encode()).public_bytes(Encoding.DER)
    return b64url(hashlib.sha1(der).digest())


def vendor_claims(**changes: Any) -> dict[str, Any]:
    """Claims as the vendor's reference partner clients write them (exp = now + 10 s)."""
    claims = {
        "iss": CLIENT,
        "sub": CLIENT,
        "aud": TOKEN_ENDPOINT,
        "jti": str(uuid.uuid4()),
        "iat": NOW,
        "nbf": NOW,
        "exp": NOW + 10,
    }
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def sign(
    claims: dict[str, Any],
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
    *,
    alg: str = "RS256",
    header: dict[str, Any] | None = None,
) -> str:
    jose_key = (
        RSAKey.import_key(key) if isinstance(key, rsa.RSAPrivateKey) else ECKey.import_key(key)
    )
    registry = JWSRegistry(algorithms=[alg], strict_check_header=False)
    return jwt.encode({"alg": alg, **(header or {})}, claims, jose_key, registry=registry)


def unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    head = b64url(json.dumps(header).encode())
    body = b64url(json.dumps(claims).encode())
    return f"{head}.{body}.{b64url(signature)}"


def verify(assertion: str, keys: Keys, **overrides: Any) -> VerifiedAssertion:
    options: dict[str, Any] = {
        "client_id_hint": None,
        "keys_for": keys.get,
        "audiences": AUDIENCES,
        "now": NOW,
    }
    options.update(overrides)
    return verify_client_assertion(assertion, **options)


def assert_refused(assertion: str, keys: Keys, **overrides: Any) -> None:
    """§9: every private_key_jwt failure is the same invalid_client, status and description."""
    with pytest.raises(OAuthError) as info:
        verify(assertion, keys, **overrides)
    refusal = info.value
    assert (refusal.error, refusal.status, refusal.description) == (
        "invalid_client",
        401,
        "client authentication failed",
    )


@pytest.fixture(scope="module")
def cert_key(rsa_certificate_pem: str) -> ClientPublicKey:
    return key_from_certificate(rsa_certificate_pem)


@pytest.fixture(scope="module")
def ec_key(ec_private: ec.EllipticCurvePrivateKey) -> ClientPublicKey:
    return key_from_jwk(dict(ECKey.import_key(ec_private.public_key()).as_dict()))


@pytest.fixture(scope="module")
def keys(cert_key: ClientPublicKey, ec_key: ClientPublicKey) -> Keys:
    return {CLIENT: [cert_key, ec_key]}


@pytest.fixture(scope="module")
def vendor_header(rsa_certificate_pem: str) -> dict[str, str]:
    thumbprint = x5t_of(rsa_certificate_pem)
    return {"kid": thumbprint, "x5t": thumbprint, "typ": "JWT"}


# --- accepted -----------------------------------------------------------------------------


def test_authlib_private_key_jwt_is_accepted(rsa_private: rsa.RSAPrivateKey, keys: Keys) -> None:
    """§2: an assertion made by an independent OAuth client library (authlib, 1 h expiry)."""
    assertion = private_key_jwt_sign(
        RSAKey.import_key(rsa_private), CLIENT, TOKEN_ENDPOINT, issued_at=NOW
    )
    verified = verify(assertion, keys)
    assert verified.client_id == CLIENT
    assert verified.expires_at == NOW + 3600
    assert verified.jti


def test_authlib_client_class_assertion_is_accepted(
    rsa_private: rsa.RSAPrivateKey, keys: Keys
) -> None:
    """§2: authlib's PrivateKeyJWT auth method, as a client session would send it."""

    class _Auth:
        client_id = CLIENT
        client_secret = RSAKey.import_key(rsa_private)

    assertion = PrivateKeyJWT(TOKEN_ENDPOINT, claims={"iat": NOW, "exp": NOW + 300}).sign(
        _Auth(), TOKEN_ENDPOINT
    )
    assert verify(assertion, keys).client_id == CLIENT


def test_vendor_reference_client_assertion_is_accepted(
    rsa_private: rsa.RSAPrivateKey, keys: Keys, vendor_header: dict[str, str]
) -> None:
    """§2: like the reference clients: kid = x5t = SHA-1 thumbprint, exp = now + 10 s."""
    claims = vendor_claims()
    verified = verify(sign(claims, rsa_private, header=vendor_header), keys)
    assert verified == VerifiedAssertion(CLIENT, claims["jti"], float(NOW + 10))


def test_ps256_is_accepted(rsa_private: rsa.RSAPrivateKey, keys: Keys) -> None:
    """§2: PS256 with a registered RSA key."""
    assert verify(sign(vendor_claims(), rsa_private, alg="PS256"), keys).client_id == CLIENT


def test_es256_with_registered_jwk_is_accepted(
    ec_private: ec.EllipticCurvePrivateKey, keys: Keys, ec_key: ClientPublicKey
) -> None:
    """§2: ES256 with a P-256 key registered as a JWK, chosen by its kid."""
    assertion = sign(vendor_claims(), ec_private, alg="ES256", header={"kid": ec_key.kid})
    assert verify(assertion, keys).client_id == CLIENT


def test_issuer_url_is_an_accepted_audience(rsa_private: rsa.RSAPrivateKey, keys: Keys) -> None:
    """§2: aud may name the issuer URL instead of the token endpoint."""
    assert verify(sign(vendor_claims(aud=ISSUER), rsa_private), keys).client_id == CLIENT


def test_audience_list_containing_the_endpoint_is_accepted(
    rsa_private: rsa.RSAPrivateKey, keys: Keys
) -> None:
    claims = vendor_claims(aud=["https://elsewhere.example", TOKEN_ENDPOINT])
    assert verify(sign(claims, rsa_private), keys).client_id == CLIENT


def test_exp_20_seconds_ago_is_accepted(rsa_private: rsa.RSAPrivateKey, keys: Keys) -> None:
    """§9: an assertion whose exp passed 20 s ago is still accepted (skew 60 s)."""
    claims = vendor_claims(exp=NOW - 20, iat=NOW - 30, nbf=NOW - 30)
    assert verify(sign(claims, rsa_private), keys).expires_at == NOW - 20


def test_nbf_and_iat_60_seconds_ahead_are_accepted(
    rsa_private: rsa.RSAPrivateKey, keys: Keys
) -> None:
    """§9: a client clock up to the skew ahead is tolerated."""
    claims = vendor_claims(iat=NOW + 60, nbf=NOW + 60, exp=NOW + 70)
    assert verify(sign(claims, rsa_private), keys).client_id == CLIENT


def test_matching_client_id_hint_is_accepted(rsa_private: rsa.RSAPrivateKey, keys: Keys) -> None:
    """§9: a client_id sent beside the assertion must equal its iss."""
    assertion = sign(vendor_claims(), rsa_private)
    assert verify(assertion, keys, client_id_hint=CLIENT).client_id == CLIENT


def test_x5t_alone_picks_the_key(
    rsa_private: rsa.RSAPrivateKey, keys: Keys, rsa_certificate_pem: str
) -> None:
    header = {"x5t": x5t_of(rsa_certificate_pem)}
    assert verify(sign(vendor_claims(), rsa_private, header=header), keys).client_id == CLIENT


def test_kid_may_name_the_x5t_of_a_jwk_key(
    rsa_private: rsa.RSAPrivateKey, rsa_certificate_pem: str
) -> None:
    """§2: a header kid or x5t may match either field of a registered key."""
    public = dict(RSAKey.import_key(rsa_private.public_key()).as_dict())
    registered = key_from_jwk(public | {"kid": "aage-2025", "x5t": "cert-thumb"})
    assertion = sign(vendor_claims(), rsa_private, header={"kid": "cert-thumb"})
    assert verify(assertion, {CLIENT: [registered]}).client_id == CLIENT


def test_without_kid_every_key_is_tried(
    rsa_private: rsa.RSAPrivateKey,
    other_rsa_private: rsa.RSAPrivateKey,
    cert_key: ClientPublicKey,
) -> None:
    """§2: no kid/x5t → each registered key is tried (key rotation: old and new)."""
    other = key_from_jwk(dict(RSAKey.import_key(other_rsa_private.public_key()).as_dict()))
    assertion = sign(vendor_claims(), rsa_private)
    assert verify(assertion, {CLIENT: [other, cert_key]}).client_id == CLIENT


def test_unknown_header_members_are_ignored(rsa_private: rsa.RSAPrivateKey, keys: Keys) -> None:
    """RFC 7515 §4: header parameters a library adds for itself do not break verification."""
    assertion = sign(vendor_claims(), rsa_private, header={"x-lib": "1.0"})
    assert verify(assertion, keys).client_id == CLIENT


# --- refused ------------------------------------------------------------------------------


def test_alg_none_is_refused(keys: Keys) -> None:
    """§2: alg none is refused."""
    assert_refused(unsigned({"alg": "none", "typ": "JWT"}, vendor_claims()), keys)


def test_hs256_signed_with_public_key_is_refused(
    keys: Keys, rsa_private: rsa.RSAPrivateKey, rsa_certificate_pem: str
) -> None:
    """§2: the classic key-confusion attack: HMAC keyed with the public key (PEM, DER, cert)."""
    public = rsa_private.public_key()
    secrets = [
        public.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo),
        public.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo),
        rsa_certificate_pem.encode(),
    ]
    for secret in secrets:
        head = b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
        body = b64url(json.dumps(vendor_claims()).encode())
        mac = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
        assert_refused(f"{head}.{body}.{b64url(mac)}", keys)


@pytest.mark.parametrize("alg", ["RS384", "RS512", "ES384", "PS512", "EdDSA", "RSA-OAEP"])
def test_other_algorithms_are_refused(keys: Keys, alg: str) -> None:
    assert_refused(unsigned({"alg": alg}, vendor_claims(), b"x" * 256), keys)


def test_wrong_key_is_refused(other_rsa_private: rsa.RSAPrivateKey, keys: Keys) -> None:
    """§2: a signature by a key the client has not registered."""
    assert_refused(sign(vendor_claims(), other_rsa_private), keys)


def test_tampered_claims_are_refused(rsa_private: rsa.RSAPrivateKey, keys: Keys) -> None:
    head, _, signature = sign(vendor_claims(), rsa_private).split(".")
    forged = b64url(json.dumps(vendor_claims(exp=NOW + 600)).encode())
    assert_refused(f"{head}.{forged}.{signature}", keys)


def test_kid_naming_no_registered_key_is_refused_without_fallback(
    rsa_private: rsa.RSAPrivateKey, keys: Keys
) -> None:
    """§2: a kid/x5t that names none of the client's keys is refused, even if one would verify."""
    assertion = sign(vendor_claims(), rsa_private, header={"kid": "not-registered"})
    assert_refused(assertion, keys)


def test_kid_of_another_key_of_the_client_is_refused(
    rsa_private: rsa.RSAPrivateKey, keys: Keys, ec_key: ClientPublicKey
) -> None:
    assertion = sign(vendor_claims(), rsa_private, header={"kid": ec_key.kid})
    assert_refused(assertion, keys)


def test_iss_sub_mismatch_is_refused(rsa_private: rsa.RSAPrivateKey, keys: Keys) -> None:
    """§2: iss = sub = client id."""
    assert_refused(sign(vendor_claims(sub="someone-else"), rsa_private), keys)


def test_missing_sub_is_refused(rsa_private: rsa.RSAPrivateKey, keys: Keys) -> None:
    claims = vendor_claims()
    del claims["sub"]
    assert_refused(sign(claims, rsa_private), keys)


def test_client_id_hint_mismatch_is_refused(rsa_private: rsa.RSAPrivateKey, keys: Keys) -> None:
    """§9: a client_id beside the assertion that differs from iss."""
    assert_refused(sign(vendor_claims(), rsa_private), keys, client_id_hint="other-client")


def test_unknown_client_is_refused(rsa_private: rsa.RSAPrivateKey, keys: Keys) -> None:
    assert_refused(sign(vendor_claims(iss="ghost", sub="ghost"), rsa_private), keys)


def test_client_without_keys_is_refused(rsa_private: rsa.RSAPrivateKey) -> None:
    assert_refused(sign(vendor_claims(), rsa_private), {CLIENT: []})


@pytest.mark.parametrize("jti", [None, "", 42, "x" * 256])
def test_missing_or_bad_jti_is_refused(
    rsa_private: rsa.RSAPrivateKey, keys: Keys, jti: object
) -> None:
    """§9: a jti is required (non-empty string, at most 255 characters)."""
    assert_refused(sign(vendor_claims(jti=jti), rsa_private), keys)


def test_jti_of_255_characters_is_accepted(rsa_private: rsa.RSAPrivateKey, keys: Keys) -> None:
    assert verify(sign(vendor_claims(jti="j" * 255), rsa_private), keys).jti == "j" * 255


@pytest.mark.parametrize(
    "aud", [None, "", [], "https://elsewhere.example/connect/token", [f"{ISSUER}/other"]]
)
def test_wrong_or_missing_audience_is_refused(
    rsa_private: rsa.RSAPrivateKey, keys: Keys, aud: object
) -> None:
    """§2: aud must contain the token endpoint URL or the issuer URL."""
    assert_refused(sign(vendor_claims(aud=aud), rsa_private), keys)


def test_exp_61_seconds_ago_is_refused(rsa_private: rsa.RSAPrivateKey, keys: Keys) -> None:
    """§2: beyond the 60 s skew, an expired assertion is refused."""
    claims = vendor_claims(exp=NOW - 61, iat=NOW - 70, nbf=NOW - 70)
    assert_refused(sign(claims, rsa_private), keys)


def test_missing_exp_is_refused(rsa_private: rsa.RSAPrivateKey, keys: Keys) -> None:
    claims = vendor_claims()
    del claims["exp"]
    assert_refused(sign(claims, rsa_private), keys)


@pytest.mark.parametrize("exp", ["1750000010", True, 1e400])
def test_non_numeric_exp_is_refused(
    rsa_private: rsa.RSAPrivateKey, keys: Keys, exp: object
) -> None:
    assert_refused(sign(vendor_claims(exp=exp), rsa_private), keys)


def test_exp_61_minutes_ahead_is_refused(rsa_private: rsa.RSAPrivateKey, keys: Keys) -> None:
    """§2: exp no more than 60 minutes ahead (plus the skew)."""
    assert_refused(sign(vendor_claims(exp=NOW + 61 * 60), rsa_private), keys)


def test_huge_exp_is_refused(rsa_private: rsa.RSAPrivateKey, keys: Keys) -> None:
    assert_refused(sign(vendor_claims(exp=10**400), rsa_private), keys)


def test_nbf_61_seconds_ahead_is_refused(rsa_private: rsa.RSAPrivateKey, keys: Keys) -> None:
    """§9: nbf more than 60 s ahead is refused."""
    assert_refused(sign(vendor_claims(nbf=NOW + 61, iat=NOW), rsa_private), keys)


def test_iat_61_seconds_ahead_is_refused(rsa_private: rsa.RSAPrivateKey, keys: Keys) -> None:
    """§9: iat more than 60 s ahead is refused."""
    assert_refused(sign(vendor_claims(iat=NOW + 61, nbf=None), rsa_private), keys)


@pytest.mark.parametrize(
    "assertion", ["", "abc", "a.b.c", "a.b", "ä.ö.ü", "e30.e30.", "x" * 40_000, "W10.W10.AA"]
)
def test_garbage_is_refused(keys: Keys, assertion: str) -> None:
    assert_refused(assertion, keys)


def test_unencoded_payload_is_refused(keys: Keys) -> None:
    header = {"alg": "RS256", "b64": False, "crit": ["b64"]}
    assert_refused(unsigned(header, vendor_claims(), b"x" * 256), keys)


def test_refusals_look_identical_but_log_the_reason(
    rsa_private: rsa.RSAPrivateKey,
    other_rsa_private: rsa.RSAPrivateKey,
    keys: Keys,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """§9: the same answer for every failure; the specific reason goes to the debug log."""
    caplog.set_level(logging.DEBUG, logger="ecb_files.auth")
    answers = set()
    for assertion in (
        sign(vendor_claims(), other_rsa_private),
        sign(vendor_claims(exp=NOW - 61), rsa_private),
        sign(vendor_claims(iss="ghost", sub="ghost"), rsa_private),
    ):
        with pytest.raises(OAuthError) as info:
            verify(assertion, keys)
        answers.add((info.value.error, info.value.status, info.value.description, str(info.value)))
    assert len(answers) == 1
    reasons = [r.getMessage() for r in caplog.records if r.name == "ecb_files.auth"]
    assert len(reasons) == 3
    assert "signature" in reasons[0]
    assert "exp" in reasons[1]
    assert "unknown client" in reasons[2]


def test_key_lookup_failure_propagates(rsa_private: rsa.RSAPrivateKey) -> None:
    """A database that is down is not an authentication failure (503, not 401)."""

    def broken(client_id: str) -> Sequence[ClientPublicKey] | None:
        raise ConnectionError("database is down")

    with pytest.raises(ConnectionError):
        verify(sign(vendor_claims(), rsa_private), {}, keys_for=broken)


def test_keys_are_looked_up_for_the_issuer(rsa_private: rsa.RSAPrivateKey, keys: Keys) -> None:
    asked: list[str] = []
    lookup: Callable[[str], Sequence[ClientPublicKey] | None] = keys.get

    def spy(client_id: str) -> Sequence[ClientPublicKey] | None:
        asked.append(client_id)
        return lookup(client_id)

    verify(sign(vendor_claims(), rsa_private), keys, keys_for=spy)
    assert asked == [CLIENT]


# --- peek ---------------------------------------------------------------------------------


def test_peek_reads_iss_without_verifying(other_rsa_private: rsa.RSAPrivateKey) -> None:
    """The token endpoint looks the client up by the unverified iss."""
    assert peek_assertion_issuer(sign(vendor_claims(), other_rsa_private)) == CLIENT


@pytest.mark.parametrize(
    "assertion",
    ["", "garbage", "a.b.c", unsigned({"alg": "RS256"}, {"iss": 7}), "e30.W10.AA", "ä.b.c"],
)
def test_peek_never_raises(assertion: str) -> None:
    assert peek_assertion_issuer(assertion) is None
