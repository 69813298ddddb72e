"""Registered partner keys: certificates and public JWKs (§2, §5 fixtures)."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from joserfc.jwk import ECKey, RSAKey

from ecb_files.auth.client_keys import key_from_certificate, key_from_jwk, keys_from_jwks

# RFC 7638 §3.1: this key's thumbprint is NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs.
RFC7638_N = (
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1"
    "L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4"
    "QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbO"
    "pbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csF"
    "Cur-kEgU8awapJzKnqDKgw"
)
RFC7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def sha1_thumbprint(pem: str) -> str:
    der = x509.load_pem_x509_certificate(pem.encode()).public_bytes(Encoding.DER)
    return base64.urlsafe_b64encode(hashlib.sha1(der).digest()).rstrip(b"=").decode()


def public_jwk(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPrivateKey):
        return dict(RSAKey.import_key(key.public_key()).as_dict(private=False))
    return dict(ECKey.import_key(key.public_key()).as_dict(private=False))


# --- certificates -------------------------------------------------------------------------


def test_certificate_x5t_is_base64url_sha1_of_der(rsa_certificate_pem: str) -> None:
    """§2: x5t = base64url (no padding) SHA-1 of the DER certificate."""
    key = key_from_certificate(rsa_certificate_pem)
    assert key.x5t == sha1_thumbprint(rsa_certificate_pem)
    assert "=" not in key.x5t


def test_certificate_kid_is_its_x5t(rsa_certificate_pem: str) -> None:
    """§2: the reference clients send the thumbprint as both kid and x5t."""
    key = key_from_certificate(rsa_certificate_pem)
    assert key.kid == key.x5t
    assert key.jwk["kid"] == key.jwk["x5t"] == key.kid


def test_certificate_jwk_is_the_public_key(
    rsa_certificate_pem: str, rsa_private: rsa.RSAPrivateKey
) -> None:
    key = key_from_certificate(rsa_certificate_pem)
    expected = public_jwk(rsa_private)
    assert (key.jwk["kty"], key.jwk["n"], key.jwk["e"]) == ("RSA", expected["n"], expected["e"])
    assert "d" not in key.jwk


def test_certificate_pem_is_kept(rsa_certificate_pem: str) -> None:
    key = key_from_certificate(rsa_certificate_pem)
    assert key.certificate_pem is not None
    assert sha1_thumbprint(key.certificate_pem) == key.x5t


def test_ec_p256_certificate_is_accepted(
    ec_private: ec.EllipticCurvePrivateKey, make_certificate: Any
) -> None:
    """§2: ES256 keys (P-256) may be registered as certificates too."""
    key = key_from_certificate(make_certificate(ec_private))
    assert key.jwk["kty"] == "EC"
    assert key.jwk["crv"] == "P-256"


@pytest.mark.parametrize(
    ("pem", "message"),
    [
        ("", "PEM"),
        ("not a certificate", "PEM"),
        ("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "not a valid PEM"),
    ],
)
def test_bad_pem_is_a_clear_error(pem: str, message: str) -> None:
    """§5: a bad certificate in a fixture is refused with a message naming it."""
    with pytest.raises(ValueError, match=message) as info:
        key_from_certificate(pem)
    assert "certificate" in str(info.value)


def test_two_certificates_in_one_pem_are_refused(rsa_certificate_pem: str) -> None:
    with pytest.raises(ValueError, match="exactly one certificate"):
        key_from_certificate(rsa_certificate_pem + rsa_certificate_pem)


def test_short_rsa_certificate_is_refused(make_certificate: Any) -> None:
    short = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.raises(ValueError, match="1024-bit RSA key; at least 2048"):
        key_from_certificate(make_certificate(short))


def test_p384_certificate_is_refused(make_certificate: Any) -> None:
    with pytest.raises(ValueError, match="only P-256"):
        key_from_certificate(make_certificate(ec.generate_private_key(ec.SECP384R1())))


# --- JWKs ---------------------------------------------------------------------------------


def test_jwk_without_kid_is_named_by_rfc7638_thumbprint() -> None:
    """§2: a JWK's kid defaults to its RFC 7638 thumbprint (the RFC's own example)."""
    key = key_from_jwk({"kty": "RSA", "n": RFC7638_N, "e": "AQAB"})
    assert key.kid == RFC7638_THUMBPRINT
    assert key.jwk["kid"] == RFC7638_THUMBPRINT
    assert key.x5t is None


def test_jwk_kid_and_x5t_are_kept(rsa_private: rsa.RSAPrivateKey) -> None:
    jwk = public_jwk(rsa_private) | {"kid": "aage-2025", "x5t": "abc", "use": "sig", "alg": "PS256"}
    key = key_from_jwk(jwk)
    assert (key.kid, key.x5t) == ("aage-2025", "abc")
    assert key.jwk["alg"] == "PS256"
    assert key.certificate_pem is None


def test_ec_p256_jwk_is_accepted(ec_private: ec.EllipticCurvePrivateKey) -> None:
    key = key_from_jwk(public_jwk(ec_private))
    assert set(key.jwk) == {"kty", "crv", "x", "y", "kid"}


def test_jwk_x5t_is_derived_from_x5c(
    rsa_private: rsa.RSAPrivateKey, rsa_certificate_pem: str
) -> None:
    """A JWK exported with its certificate chain is found by the certificate thumbprint."""
    der = x509.load_pem_x509_certificate(rsa_certificate_pem.encode()).public_bytes(Encoding.DER)
    jwk = public_jwk(rsa_private) | {"x5c": [base64.b64encode(der).decode()]}
    assert key_from_jwk(jwk).x5t == sha1_thumbprint(rsa_certificate_pem)


def test_jwk_x5c_of_another_key_is_refused(
    other_rsa_private: rsa.RSAPrivateKey, rsa_certificate_pem: str
) -> None:
    der = x509.load_pem_x509_certificate(rsa_certificate_pem.encode()).public_bytes(Encoding.DER)
    jwk = public_jwk(other_rsa_private) | {"x5c": [base64.b64encode(der).decode()]}
    with pytest.raises(ValueError, match="x5c"):
        key_from_jwk(jwk)


@pytest.mark.parametrize("member", ["d", "p", "q", "dp", "dq", "qi"])
def test_private_rsa_jwk_is_refused(rsa_private: rsa.RSAPrivateKey, member: str) -> None:
    """§5: a fixture never stores a private key: the error names the private member."""
    private = RSAKey.import_key(rsa_private).as_dict(private=True)
    with pytest.raises(ValueError, match=rf"private key member.*'{member}'"):
        key_from_jwk(private)


def test_private_ec_jwk_is_refused(ec_private: ec.EllipticCurvePrivateKey) -> None:
    private = ECKey.import_key(ec_private).as_dict(private=True)
    with pytest.raises(ValueError, match=r"private key member.*'d'"):
        key_from_jwk(private)


def test_symmetric_jwk_is_refused() -> None:
    with pytest.raises(ValueError, match="symmetric"):
        key_from_jwk({"kty": "oct", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"})


@pytest.mark.parametrize(
    ("jwk", "message"),
    [
        ({"n": RFC7638_N, "e": "AQAB"}, "no 'kty'"),
        (
            {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
            "'OKP' is not supported",
        ),
        ({"kty": "RSA", "e": "AQAB"}, "'n'"),
        ({"kty": "RSA", "n": "!!!", "e": "AQAB"}, "'n' is not valid base64url"),
        ({"kty": "RSA", "n": RFC7638_N}, "'e'"),
        ({"kty": "RSA", "n": RFC7638_N, "e": "AQAB", "use": "enc"}, "'use' must be 'sig'"),
        ({"kty": "RSA", "n": RFC7638_N, "e": "AQAB", "alg": "HS256"}, "'alg' 'HS256'"),
        ({"kty": "RSA", "n": RFC7638_N, "e": "AQAB", "kid": ""}, "'kid' must be"),
        ({"kty": "RSA", "n": RFC7638_N[:100], "e": "AQAB"}, "at least 2048"),
        ({"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"}, "curve P-256"),
        ({"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}, "not a valid EC public key"),
    ],
)
def test_bad_jwk_is_a_clear_error(jwk: dict[str, Any], message: str) -> None:
    """§5: a bad JWK in a fixture is refused with a message naming the problem."""
    with pytest.raises(ValueError, match=message):
        key_from_jwk(jwk)


def test_non_object_jwk_is_refused() -> None:
    with pytest.raises(ValueError, match="JSON object"):
        key_from_jwk(["RSA"])  # type: ignore[arg-type]


def test_jwks_error_names_the_index(rsa_private: rsa.RSAPrivateKey) -> None:
    """§5 fixtures: jwks.keys[i] names which key is wrong."""
    document = {"keys": [public_jwk(rsa_private), {"kty": "oct", "k": "AAAA"}]}
    with pytest.raises(ValueError, match=r"jwks\.keys\[1\]: .*symmetric"):
        keys_from_jwks(document)


def test_jwks_gives_every_key(
    rsa_private: rsa.RSAPrivateKey, ec_private: ec.EllipticCurvePrivateKey
) -> None:
    keys = keys_from_jwks({"keys": [public_jwk(rsa_private), public_jwk(ec_private)]})
    assert [key.jwk["kty"] for key in keys] == ["RSA", "EC"]


def test_jwks_without_keys_list_is_refused() -> None:
    with pytest.raises(ValueError, match="jwks must be"):
        keys_from_jwks({"kty": "RSA"})
