"""How a partner's machine proves who it is at the token endpoint (§2).

Two ways, both OAuth 2.0 client authentication for the client-credentials grant:

- :class:`PrivateKeyJwt` signs a short-lived assertion (RFC 7523 §2.2) with a private
  key whose certificate (or public JWK) is registered for the client. The assertion is
  made exactly as the vendor's reference clients make it: header ``kid`` = ``x5t`` =
  the base64url SHA-1 thumbprint of the certificate's DER; claims ``iss`` = ``sub`` =
  the client id, ``aud`` = the token endpoint URL, ``iat`` = ``nbf`` = now, ``exp`` a
  minute ahead, and a fresh random ``jti``.
- :class:`ClientSecret`, sent by HTTP Basic (default) or in the form.

This is the one module that touches ``cryptography`` and ``joserfc``.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import quote_plus

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_PRIVATE_KEY_BLOCK = re.compile(
    rb"-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----.+?-----END \1-----", re.DOTALL
)
_RSA_ALGORITHMS = ("RS256", "PS256")

PathLike = str | os.PathLike[str]


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _password(value: str | bytes | None) -> bytes | None:
    return value.encode("utf-8") if isinstance(value, str) else value


class PrivateKeyJwt:
    """``private_key_jwt`` client authentication with an RSA or EC P-256 key.

    With a ``certificate`` the assertion names the key by its thumbprint (``kid`` and
    ``x5t``), as the server's key lookup expects for registered certificates. Without
    one (a key registered as a public JWK) pass the JWK's ``kid``.
    """

    def __init__(
        self,
        private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey,
        certificate: x509.Certificate | None = None,
        *,
        kid: str | None = None,
        algorithm: str | None = None,
        lifetime: float = 60.0,
    ) -> None:
        self._key = private_key
        self._algorithm = _algorithm_for(private_key, algorithm)
        self.certificate = certificate
        if certificate is not None:
            if _public_der(certificate.public_key()) != _public_der(private_key.public_key()):
                raise ValueError("the certificate does not belong to the private key")
            self.thumbprint: str | None = _b64url(
                hashlib.sha1(  # noqa: S324 — x5t is defined as the SHA-1 thumbprint (RFC 7515)
                    certificate.public_bytes(serialization.Encoding.DER)
                ).digest()
            )
        else:
            self.thumbprint = None
        self.kid = kid or self.thumbprint
        if not 0 < lifetime <= 3600:
            raise ValueError("lifetime must be more than 0 and at most 3600 seconds")
        self.lifetime = lifetime

    @property
    def algorithm(self) -> str:
        return self._algorithm

    @classmethod
    def from_pem(
        cls,
        key_pem: bytes,
        certificate_pem: bytes | None = None,
        *,
        password: str | bytes | None = None,
        kid: str | None = None,
        algorithm: str | None = None,
    ) -> PrivateKeyJwt:
        """From PEM text; the certificate may also sit in ``key_pem`` (a combined file)."""
        block = _PRIVATE_KEY_BLOCK.search(key_pem)
        if block is None:
            raise ValueError("no PEM private key found (expected -----BEGIN PRIVATE KEY-----)")
        try:
            key = serialization.load_pem_private_key(block.group(0), _password(password))
        except (TypeError, ValueError) as error:
            raise ValueError(f"cannot load the private key: {error}") from None
        certificate = _first_certificate(certificate_pem or key_pem)
        if certificate_pem is not None and certificate is None:
            raise ValueError("no PEM certificate found (expected -----BEGIN CERTIFICATE-----)")
        return cls(_signing_key(key), certificate, kid=kid, algorithm=algorithm)

    @classmethod
    def from_pem_files(
        cls,
        key_path: PathLike,
        certificate_path: PathLike | None = None,
        *,
        password: str | bytes | None = None,
        kid: str | None = None,
        algorithm: str | None = None,
    ) -> PrivateKeyJwt:
        """From a PEM key file and a PEM certificate file (or one file holding both)."""
        key_pem = Path(key_path).read_bytes()
        certificate_pem = None if certificate_path is None else Path(certificate_path).read_bytes()
        return cls.from_pem(
            key_pem, certificate_pem, password=password, kid=kid, algorithm=algorithm
        )

    @classmethod
    def from_pkcs12(
        cls,
        bundle: PathLike | bytes,
        password: str | bytes | None = None,
        *,
        algorithm: str | None = None,
    ) -> PrivateKeyJwt:
        """From a PKCS#12 (``.p12``/``.pfx``) bundle holding the key and its certificate."""
        data = bundle if isinstance(bundle, bytes) else Path(bundle).read_bytes()
        try:
            key, certificate, _ = pkcs12.load_key_and_certificates(data, _password(password))
        except (TypeError, ValueError) as error:
            raise ValueError(f"cannot open the PKCS#12 bundle: {error}") from None
        if key is None or certificate is None:
            raise ValueError("the PKCS#12 bundle must hold a private key and its certificate")
        return cls(_signing_key(key), certificate, algorithm=algorithm)

    def assertion(self, client_id: str, audience: str, *, now: float | None = None) -> str:
        """A fresh signed client assertion for ``client_id`` at the token endpoint."""
        issued = int(time.time() if now is None else now)
        header: dict[str, str] = {"alg": self._algorithm, "typ": "JWT"}
        if self.kid is not None:
            header["kid"] = self.kid
        if self.thumbprint is not None:
            header["x5t"] = self.thumbprint
        claims = {
            "iss": client_id,
            "sub": client_id,
            "aud": audience,
            "jti": str(uuid.uuid4()),
            "iat": issued,
            "nbf": issued,
            "exp": issued + int(self.lifetime),
        }
        signing_key: RSAKey | ECKey
        if isinstance(self._key, rsa.RSAPrivateKey):
            signing_key = RSAKey.import_key(self._key)
        else:
            signing_key = ECKey.import_key(self._key)
        return jwt.encode(header, claims, signing_key, algorithms=[self._algorithm])

    def form(self, client_id: str, token_endpoint: str) -> dict[str, str]:
        """The client-authentication members of the token request."""
        return {
            "client_id": client_id,
            "client_assertion_type": JWT_BEARER,
            "client_assertion": self.assertion(client_id, token_endpoint),
        }

    def __repr__(self) -> str:
        return f"PrivateKeyJwt(algorithm={self._algorithm!r}, kid={self.kid!r})"


@dataclass(frozen=True, repr=False)
class ClientSecret:
    """A client secret, sent by HTTP Basic (``client_secret_basic``) or in the form."""

    secret: str
    method: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic"

    def basic_header(self, client_id: str) -> str:
        # RFC 6749 §2.3.1: both parts are form-urlencoded before Base64.
        pair = f"{quote_plus(client_id)}:{quote_plus(self.secret)}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")

    def __repr__(self) -> str:
        return f"ClientSecret(method={self.method!r}, secret='***')"


ClientAuth = PrivateKeyJwt | ClientSecret


def _algorithm_for(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, requested: str | None
) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        algorithm = requested or "RS256"
        if algorithm not in _RSA_ALGORITHMS:
            raise ValueError(f"an RSA key signs with RS256 or PS256, not {algorithm}")
        return algorithm
    if not isinstance(key.curve, ec.SECP256R1):
        raise ValueError(f"an EC key must be on P-256 for ES256, not {key.curve.name}")
    if requested not in (None, "ES256"):
        raise ValueError(f"an EC P-256 key signs with ES256, not {requested}")
    return "ES256"


def _signing_key(key: object) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        return key
    raise ValueError(f"the private key must be RSA or EC P-256, not {type(key).__name__}")


def _first_certificate(pem: bytes) -> x509.Certificate | None:
    if b"-----BEGIN CERTIFICATE-----" not in pem:
        return None
    try:
        return x509.load_pem_x509_certificates(pem)[0]
    except ValueError as error:
        raise ValueError(f"cannot load the certificate: {error}") from None


def _public_der(key: object) -> bytes:
    if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
        return b""
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
