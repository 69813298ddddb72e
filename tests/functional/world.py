"""The tenants, partners, clients, cases and DNs the functional tests run against."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

WRITE_SCOPE = "platform-service-provider:write"


def _guid(n: int) -> str:
    return str(uuid.UUID(int=n))


@dataclass(frozen=True)
class CertifiedKey:
    private_pem: bytes
    certificate_pem: str
    x5t: str  # base64url SHA-1 thumbprint of the certificate (DER)


def make_certified_key(common_name: str) -> CertifiedKey:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    der = cert.public_bytes(serialization.Encoding.DER)
    return CertifiedKey(
        private_pem=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        certificate_pem=cert.public_bytes(serialization.Encoding.PEM).decode(),
        x5t=base64.urlsafe_b64encode(hashlib.sha1(der).digest()).rstrip(b"=").decode(),
    )


def make_ec_jwk() -> tuple[bytes, dict[str, str]]:
    key = ec.generate_private_key(ec.SECP256R1())
    numbers = key.public_key().public_numbers()

    def b64(n: int) -> str:
        return base64.urlsafe_b64encode(n.to_bytes(32, "big")).rstrip(b"=").decode()

    jwk = {"kty": "EC", "crv": "P-256", "x": b64(numbers.x), "y": b64(numbers.y), "kid": "ec-1"}
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return pem, jwk


@dataclass
class World:
    """Fixed ids for everything; the fixture document built from them."""

    partner_id: str = _guid(0xA1)
    security_token: str = _guid(0xA2)
    other_partner_id: str = _guid(0xB1)
    other_security_token: str = _guid(0xB2)
    email: str = "company_ds@example.com"
    inactive_email: str = "gone@example.com"
    open_case: str = _guid(0xC1)
    closed_case: str = _guid(0xC2)
    unassigned_case: str = _guid(0xC3)
    other_tenant_case: str = _guid(0xC4)
    open_dn: str = _guid(0xD1)
    merged_dn: str = _guid(0xD2)
    other_partner_dn: str = _guid(0xD3)
    secret: str = "s3cret-for-tests"
    handler_email: str = "handler@company.example"
    cert_key: CertifiedKey = field(default_factory=lambda: make_certified_key("partner-jwt"))
    ec_key: tuple[bytes, dict[str, str]] = field(default_factory=make_ec_jwk)

    def fixture(self) -> dict[str, Any]:
        return {
            "insuranceCompanies": [
                {
                    "alias": "company",
                    "name": "Company Insurance",
                    "users": [
                        {"email": self.handler_email, "role": "handler", "password": self.secret}
                    ],
                    "clients": [
                        {
                            "clientId": "insurer-client",
                            "scopes": ["platform-insurer:read", "platform-insurer:write"],
                            "clientSecret": self.secret,
                        }
                    ],
                },
                {"alias": "other", "name": "Other Insurance"},
            ],
            "servicePartners": [
                {
                    "id": self.partner_id,
                    "name": "Aage & Søn",
                    "securityToken": self.security_token,
                    "insuranceCompanies": ["company"],
                    "employees": [
                        {"email": self.email, "active": True},
                        {"email": self.inactive_email, "active": False},
                    ],
                    "clients": [
                        {
                            "clientId": "secret-client",
                            "scopes": [WRITE_SCOPE],
                            "clientSecret": self.secret,
                        },
                        {
                            "clientId": "jwt-client",
                            "scopes": [WRITE_SCOPE],
                            "certificates": [self.cert_key.certificate_pem],
                        },
                        {
                            "clientId": "ec-client",
                            "scopes": [WRITE_SCOPE],
                            "jwks": {"keys": [self.ec_key[1]]},
                        },
                        {
                            "clientId": "read-only-client",
                            "scopes": ["platform-service-provider:read"],
                            "clientSecret": self.secret,
                        },
                    ],
                },
                {
                    "id": self.other_partner_id,
                    "name": "Other Partner",
                    "securityToken": self.other_security_token,
                    "insuranceCompanies": ["company", "other"],
                    "employees": [{"email": "other@example.com", "active": True}],
                    "clients": [
                        {
                            "clientId": "other-client",
                            "scopes": [WRITE_SCOPE],
                            "clientSecret": self.secret,
                        }
                    ],
                },
            ],
            "cases": [
                self._case(self.open_case, "CN-1", "open", "company", [self.partner_id]),
                self._case(self.closed_case, "CN-2", "closed", "company", [self.partner_id]),
                self._case(
                    self.unassigned_case, "CN-3", "open", "company", [self.other_partner_id]
                ),
                self._case(
                    self.other_tenant_case, "CN-4", "open", "other", [self.other_partner_id]
                ),
            ],
            "damageNotifications": [
                self._dn(self.open_dn, self.partner_id, None),
                self._dn(self.merged_dn, self.partner_id, self.open_case),
                self._dn(self.other_partner_dn, self.other_partner_id, None),
            ],
        }

    @staticmethod
    def _case(
        case_id: str, number: str, status: str, company: str, partners: list[str]
    ) -> dict[str, Any]:
        return {
            "id": case_id,
            "insuranceCompany": company,
            "number": number,
            "status": status,
            "servicePartners": partners,
        }

    @staticmethod
    def _dn(dn_id: str, partner: str, merged: str | None) -> dict[str, Any]:
        return {
            "id": dn_id,
            "insuranceCompany": "company",
            "servicePartner": partner,
            "mergedToCaseId": merged,
        }

    def write_fixture(self, path: Path) -> Path:
        path.write_text(json.dumps(self.fixture(), indent=2))
        return path
