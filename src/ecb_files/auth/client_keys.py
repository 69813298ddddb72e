"""Registered partner public keys for ``private_key_jwt`` (§2, §5 fixtures).

A client registers any number of keys (so it can rotate), each either an X.509
certificate (PEM) or a public JWK. Both become one ``ClientPublicKey``: the public JWK to
verify with, and the two names an assertion header may use to pick it, ``kid`` and
``x5t``. The vendor's reference partner clients send the certificate's base64url SHA-1
thumbprint as both, so a certificate's ``kid`` *is* its ``x5t``.

Only keys that can verify an allowed assertion algorithm are accepted: RSA of at least
2048 bits (RS256, PS256) and EC on P-256 (ES256). Private and symmetric keys are
refused, so a fixture can never put a secret into the database by mistake. Every
refusal is a ``ValueError`` that says what is wrong; the fixture loader shows it to the
operator.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, RSAKey

MIN_RSA_BITS = 2048
EC_CURVE = "P-256"

# Every member that only a private or symmetric JWK has (RFC 7518 §6.2.2, §6.3.2, §6.4).
_PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
_ALGORITHMS_BY_KTY = {"RSA": ("RS256", "PS256"), "EC": ("ES256",)}
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class ClientPublicKey:
    """One verification key of an OAuth client.

    ``jwk`` is public only (``kty`` and the key's public members, plus ``kid`` and, when
    known, ``x5t``, ``alg``, ``use``). ``certificate_pem`` is the certificate the key came
    from, if any, kept for the operator.
    """

    kid: str
    x5t: str | None
    jwk: dict[str, object]
    certificate_pem: str | None

    def is_named(self, key_id: str) -> bool:
        """Whether an assertion header's ``kid`` or ``x5t`` value names this key."""
        return key_id == self.kid or (self.x5t is not None and key_id == self.x5t)


def b64url(data: bytes) -> str:
    """Base64url without padding (RFC 7515 §2), as JOSE writes every binary value."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def certificate_thumbprint(der: bytes) -> str:
    """The ``x5t`` of a DER certificate: base64url of its SHA-1 digest (RFC 7515 §4.1.7)."""
    # SHA-1 names the certificate here, as the JOSE header defines; nothing relies on
    # it for collision resistance, the signature check is what authenticates.
    return b64url(hashlib.sha1(der, usedforsecurity=False).digest())


def key_from_certificate(pem: str) -> ClientPublicKey:
    """The key of one PEM X.509 certificate; ``kid`` and ``x5t`` are its SHA-1 thumbprint.

    The certificate is only a container for the public key (the reference clients use
    self-signed ones), so its issuer and validity period are not checked.
    """
    if not isinstance(pem, str) or "-----BEGIN CERTIFICATE-----" not in pem:
        raise ValueError("certificate must be a PEM text starting with -----BEGIN CERTIFICATE-----")
    try:
        certificates = x509.load_pem_x509_certificates(pem.encode("utf-8"))
    except ValueError as error:
        raise ValueError(f"certificate is not a valid PEM X.509 certificate: {error}") from None
    if len(certificates) != 1:
        raise ValueError(
            f"certificate PEM must hold exactly one certificate, found {len(certificates)}"
        )
    certificate = certificates[0]
    try:
        public_key = certificate.public_key()
    except ValueError as error:
        raise ValueError(f"certificate's public key cannot be read: {error}") from None
    thumbprint = certificate_thumbprint(certificate.public_bytes(Encoding.DER))
    jwk = _public_jwk_of(public_key, what="certificate")
    jwk["kid"] = thumbprint
    jwk["x5t"] = thumbprint
    return ClientPublicKey(
        kid=thumbprint,
        x5t=thumbprint,
        jwk=jwk,
        certificate_pem=certificate.public_bytes(Encoding.PEM).decode("ascii"),
    )


def key_from_jwk(jwk: Mapping[str, Any]) -> ClientPublicKey:
    """The key of a public RSA or EC (P-256) JWK.

    ``kid`` is the JWK's own ``kid``, else its RFC 7638 thumbprint. ``x5t`` is the JWK's
    ``x5t``, else the thumbprint of the first ``x5c`` certificate if one is given (whose
    public key must then be this key).
    """
    if not isinstance(jwk, Mapping):
        raise ValueError("JWK must be a JSON object")
    kty = jwk.get("kty")
    if kty is None:
        raise ValueError("JWK has no 'kty' member")
    if kty == "oct":
        raise ValueError("JWK is a symmetric key (kty 'oct'); register a public RSA or EC key")
    if kty not in _ALGORITHMS_BY_KTY:
        raise ValueError(f"JWK key type {kty!r} is not supported; use 'RSA' or 'EC' (P-256)")
    private = [name for name in _PRIVATE_MEMBERS if name in jwk]
    if private:
        names = ", ".join(repr(name) for name in private)
        raise ValueError(
            f"JWK contains private key member(s) {names}; register the public key only"
        )
    _check_optional_members(jwk, kty)

    key = _import_public_jwk(jwk, kty)
    public = _public_jwk_of(key.public_key, what="JWK")
    thumbprint = key.thumbprint()
    kid = jwk.get("kid", thumbprint)
    x5t = jwk.get("x5t")
    if x5t is None and "x5c" in jwk:
        x5t = _x5t_from_chain(jwk["x5c"], key.public_key)
    public["kid"] = kid
    if x5t is not None:
        public["x5t"] = x5t
    for member in ("alg", "use"):
        if member in jwk:
            public[member] = jwk[member]
    return ClientPublicKey(kid=kid, x5t=x5t, jwk=public, certificate_pem=None)


def keys_from_jwks(jwks: Mapping[str, Any]) -> list[ClientPublicKey]:
    """Every key of a JWKS document ``{"keys": [...]}``; an error names the failing index."""
    if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
        raise ValueError('jwks must be a JSON object {"keys": [...]}')
    keys = []
    for index, member in enumerate(jwks["keys"]):
        try:
            keys.append(key_from_jwk(member))
        except ValueError as error:
            raise ValueError(f"jwks.keys[{index}]: {error}") from None
    return keys


def import_verification_key(key: ClientPublicKey) -> RSAKey | ECKey:
    """The joserfc key to verify signatures with (from the stored public JWK)."""
    kty = key.jwk.get("kty")
    if kty not in _ALGORITHMS_BY_KTY:
        raise ValueError(f"registered key {key.kid!r} has unsupported kty {kty!r}")
    return _import_public_jwk(key.jwk, str(kty))


def algorithms_for(key: ClientPublicKey) -> Sequence[str]:
    """The assertion algorithms this key can verify (by key type, narrowed by its ``alg``)."""
    allowed = _ALGORITHMS_BY_KTY.get(str(key.jwk.get("kty")), ())
    alg = key.jwk.get("alg")
    if alg is None:
        return allowed
    return tuple(a for a in allowed if a == alg)


def _check_optional_members(jwk: Mapping[str, Any], kty: str) -> None:
    for member in ("kid", "x5t"):
        value = jwk.get(member)
        if member in jwk and (not isinstance(value, str) or not value):
            raise ValueError(f"JWK member {member!r} must be a non-empty string")
    if "use" in jwk and jwk["use"] != "sig":
        raise ValueError(f"JWK 'use' must be 'sig' for a signing key, got {jwk['use']!r}")
    if "alg" in jwk and jwk["alg"] not in _ALGORITHMS_BY_KTY[kty]:
        allowed = " or ".join(_ALGORITHMS_BY_KTY[kty])
        raise ValueError(f"JWK 'alg' {jwk['alg']!r} is not allowed for kty {kty!r}; use {allowed}")
    if kty == "EC" and jwk.get("crv") != EC_CURVE:
        raise ValueError(f"EC JWK must be on curve {EC_CURVE} (ES256), got {jwk.get('crv')!r}")
    if kty == "RSA":
        bits = _modulus_bits(jwk.get("n"))
        if bits < MIN_RSA_BITS:
            raise ValueError(f"RSA JWK modulus is {bits} bits; at least {MIN_RSA_BITS} required")


def _modulus_bits(n: object) -> int:
    # Checked before joserfc sees the key: it would only warn about a short modulus.
    if not isinstance(n, str) or not n:
        raise ValueError("RSA JWK member 'n' must be a non-empty base64url string")
    if not _BASE64URL.fullmatch(n) or len(n) % 4 == 1:
        raise ValueError("RSA JWK member 'n' is not valid base64url")
    raw = base64.urlsafe_b64decode(n + "=" * (-len(n) % 4))
    return int.from_bytes(raw, "big").bit_length()


def _import_public_jwk(jwk: Mapping[str, Any], kty: str) -> RSAKey | ECKey:
    members = {"kty": kty}
    names = ("n", "e") if kty == "RSA" else ("crv", "x", "y")
    for name in names:
        value = jwk.get(name)
        if not isinstance(value, str) or not value:
            raise ValueError(f"{kty} JWK member {name!r} must be a non-empty string")
        members[name] = value
    try:
        if kty == "RSA":
            return RSAKey.import_key(members)  # type: ignore[arg-type]
        return ECKey.import_key(members)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as error:
        raise ValueError(f"JWK is not a valid {kty} public key: {error}") from None


def _public_jwk_of(public_key: object, *, what: str) -> dict[str, object]:
    if isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < MIN_RSA_BITS:
            raise ValueError(
                f"{what} has a {public_key.key_size}-bit RSA key; at least {MIN_RSA_BITS} required"
            )
        return dict(RSAKey.import_key(public_key).as_dict(private=False))
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if not isinstance(public_key.curve, ec.SECP256R1):
            raise ValueError(
                f"{what} has an EC key on {public_key.curve.name}; only {EC_CURVE} is accepted"
            )
        return dict(ECKey.import_key(public_key).as_dict(private=False))
    raise ValueError(
        f"{what} key type is not supported; use RSA (>= {MIN_RSA_BITS} bits) or EC {EC_CURVE}"
    )


def _x5t_from_chain(x5c: object, public_key: rsa.RSAPublicKey | ec.EllipticCurvePublicKey) -> str:
    if not isinstance(x5c, list) or not x5c or not isinstance(x5c[0], str):
        raise ValueError("JWK member 'x5c' must be a non-empty list of base64 certificates")
    try:
        der = base64.b64decode(x5c[0], validate=True)
        key_of_certificate = x509.load_der_x509_certificate(der).public_key()
    except (binascii.Error, ValueError) as error:
        raise ValueError(f"JWK member 'x5c[0]' is not a base64 DER certificate: {error}") from None
    spki = (Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    if key_of_certificate.public_bytes(*spki) != public_key.public_bytes(*spki):
        raise ValueError("JWK member 'x5c[0]' is a certificate for another key")
    return certificate_thumbprint(der)
