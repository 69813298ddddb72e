"""Keys and certificates shared by the auth tests; made once per session (RSA is slow-ish)."""

from __future__ import annotations

import datetime
from collections.abc import Callable

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

CertificateFactory = Callable[[rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey], str]


@pytest.fixture(scope="session")
def rsa_private() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def other_rsa_private() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def ec_private() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture(scope="session")
def make_certificate() -> CertificateFactory:
    """A self-signed certificate, as the vendor's reference partner clients use."""

    def make(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aage-backend")])
        start = datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC)
        certificate = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + datetime.timedelta(days=3650))
            .sign(key, hashes.SHA256())
        )
        return certificate.public_bytes(Encoding.PEM).decode("ascii")

    return make


@pytest.fixture(scope="session")
def rsa_certificate_pem(
    rsa_private: rsa.RSAPrivateKey, make_certificate: CertificateFactory
) -> str:
    return make_certificate(rsa_private)
