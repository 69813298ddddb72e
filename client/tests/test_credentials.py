"""Client authentication material (§2): the assertion as the vendor's reference
clients make it, keys from PEM files or PKCS#12, and client secrets."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from ecb_files_client import ClientSecret, PrivateKeyJwt

ENDPOINT = "https://files.example.com/connect/token"


def _certified(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "partner")])
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def certificate(rsa_key: rsa.RSAPrivateKey) -> x509.Certificate:
    return _certified(rsa_key)


def _pem(
    key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, password: bytes | None = None
) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def _verifier(certificate: x509.Certificate) -> RSAKey:
    public = certificate.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    return RSAKey.import_key(public)


def _thumbprint(certificate: x509.Certificate) -> str:
    der = certificate.public_bytes(serialization.Encoding.DER)
    return base64.urlsafe_b64encode(hashlib.sha1(der).digest()).rstrip(b"=").decode()


def test_assertion_is_made_as_the_reference_clients_make_it(
    rsa_key: rsa.RSAPrivateKey, certificate: x509.Certificate
) -> None:
    """§2: kid = x5t = base64url SHA-1 thumbprint; iss = sub; aud = endpoint; short exp."""
    auth = PrivateKeyJwt(rsa_key, certificate)
    before = int(time.time())
    token = auth.assertion("aage-backend", ENDPOINT)
    decoded = jwt.decode(token, _verifier(certificate), algorithms=["RS256"])
    assert decoded.header == {
        "alg": "RS256",
        "typ": "JWT",
        "kid": _thumbprint(certificate),
        "x5t": _thumbprint(certificate),
    }
    claims = decoded.claims
    assert claims["iss"] == claims["sub"] == "aage-backend"
    assert claims["aud"] == ENDPOINT
    assert before <= claims["iat"] == claims["nbf"] <= before + 2
    assert claims["exp"] - claims["iat"] == 60


def test_every_assertion_has_a_fresh_jti(
    rsa_key: rsa.RSAPrivateKey, certificate: x509.Certificate
) -> None:
    """§2: a jti is never reused (the server refuses replays)."""
    auth = PrivateKeyJwt(rsa_key, certificate)
    public = _verifier(certificate)
    jtis = {
        jwt.decode(auth.assertion("c", ENDPOINT), public, algorithms=["RS256"]).claims["jti"]
        for _ in range(20)
    }
    assert len(jtis) == 20


def test_key_and_certificate_from_separate_pem_files_or_one(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey, certificate: x509.Certificate
) -> None:
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    (tmp_path / "key.pem").write_bytes(_pem(rsa_key))
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    (tmp_path / "both.pem").write_bytes(cert_pem + _pem(rsa_key))
    separate = PrivateKeyJwt.from_pem_files(tmp_path / "key.pem", tmp_path / "cert.pem")
    combined = PrivateKeyJwt.from_pem_files(tmp_path / "both.pem")
    assert separate.thumbprint == combined.thumbprint == _thumbprint(certificate)


def test_an_encrypted_key_needs_its_password(
    rsa_key: rsa.RSAPrivateKey, certificate: x509.Certificate
) -> None:
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)
    encrypted = _pem(rsa_key, b"pw")
    assert PrivateKeyJwt.from_pem(encrypted, cert_pem, password="pw").kid == _thumbprint(
        certificate
    )
    with pytest.raises(ValueError, match="cannot load the private key"):
        PrivateKeyJwt.from_pem(encrypted, cert_pem)


def test_pkcs12_bundle(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey, certificate: x509.Certificate
) -> None:
    bundle = pkcs12.serialize_key_and_certificates(
        b"partner", rsa_key, certificate, None, serialization.BestAvailableEncryption(b"pw")
    )
    (tmp_path / "client.p12").write_bytes(bundle)
    auth = PrivateKeyJwt.from_pkcs12(tmp_path / "client.p12", "pw")
    assert auth.kid == auth.thumbprint == _thumbprint(certificate)
    with pytest.raises(ValueError, match="PKCS#12"):
        PrivateKeyJwt.from_pkcs12(bundle, "wrong")


def test_a_certificate_of_another_key_is_refused(certificate: x509.Certificate) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(ValueError, match="does not belong"):
        PrivateKeyJwt(other, certificate)


def test_ec_key_signs_es256_with_its_jwk_kid() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    auth = PrivateKeyJwt(key, kid="ec-1")
    decoded = jwt.decode(
        auth.assertion("c", ENDPOINT), ECKey.import_key(key.public_key()), algorithms=["ES256"]
    )
    assert decoded.header == {"alg": "ES256", "typ": "JWT", "kid": "ec-1"}


def test_ps256_on_request_and_no_hmac_or_other_curves(rsa_key: rsa.RSAPrivateKey) -> None:
    assert PrivateKeyJwt(rsa_key, algorithm="PS256").algorithm == "PS256"
    with pytest.raises(ValueError, match="RS256 or PS256"):
        PrivateKeyJwt(rsa_key, algorithm="HS256")
    with pytest.raises(ValueError, match="P-256"):
        PrivateKeyJwt(ec.generate_private_key(ec.SECP384R1()))


def test_client_secret_basic_header_form_encodes_both_parts() -> None:
    """RFC 6749 §2.3.1: client id and secret are form-urlencoded before Base64."""
    header = ClientSecret("p@ss word:1").basic_header("my client")
    assert header == "Basic " + base64.b64encode(b"my+client:p%40ss+word%3A1").decode()


def test_secrets_do_not_show_in_repr(rsa_key: rsa.RSAPrivateKey) -> None:
    assert "hunter2" not in repr(ClientSecret("hunter2"))
    assert "PRIVATE" not in repr(PrivateKeyJwt(rsa_key))


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_the_readme_openssl_recipe_gives_what_the_client_loads(tmp_path: Path) -> None:
    """README: key + certificate, a PKCS#12 bundle, and the thumbprint to register."""

    def sh(command: str) -> str:
        done = subprocess.run(
            command, shell=True, cwd=tmp_path, capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    sh(
        "openssl req -x509 -newkey rsa:2048 -sha256 -days 730 -nodes "
        '-keyout client.key -out client.crt -subj "/CN=aage-backend"'
    )
    sh(
        "openssl pkcs12 -export -inkey client.key -in client.crt -out client.p12 "
        "-passout pass:changeit"
    )
    thumbprint = sh(
        "openssl x509 -in client.crt -outform DER | openssl dgst -sha1 -binary "
        "| base64 | tr '+/' '-_' | tr -d '='"
    )
    from_pem = PrivateKeyJwt.from_pem_files(tmp_path / "client.key", tmp_path / "client.crt")
    from_p12 = PrivateKeyJwt.from_pkcs12(tmp_path / "client.p12", "changeit")
    assert from_pem.kid == from_p12.kid == thumbprint
