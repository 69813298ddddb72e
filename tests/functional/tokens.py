"""Client assertions and access tokens built the way partners (and attackers) build them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from tests.functional.server import ServerProcess

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass(frozen=True)
class FromNow:
    """A claim time relative to when the token is made (not to when tests are collected)."""

    seconds: int


def resolve_times(claims: dict[str, Any]) -> dict[str, Any]:
    now = int(time.time())
    return {k: now + v.seconds if isinstance(v, FromNow) else v for k, v in claims.items()}


def vendor_style_assertion(
    server: ServerProcess,
    client_id: str,
    private_pem: bytes,
    x5t: str,
    *,
    exp_in: float = 10,
    jti: str | None = None,
    alg: str = "RS256",
    extra_claims: dict[str, Any] | None = None,
) -> str:
    """As the vendor's reference clients make it: kid = x5t = SHA-1 thumbprint, exp = now+10 s."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": client_id,
        "sub": client_id,
        "aud": f"{server.url}/connect/token",
        "jti": jti or str(uuid.uuid4()),
        "iat": now,
        "nbf": now,
        "exp": int(now + exp_in),
        **resolve_times(extra_claims or {}),
    }
    claims = {k: v for k, v in claims.items() if v is not None}
    header = {"alg": alg, "typ": "JWT", "kid": x5t, "x5t": x5t}
    return jwt.encode(header, claims, RSAKey.import_key(private_pem), algorithms=[alg])


def ec_assertion(server: ServerProcess, client_id: str, private_pem: bytes, kid: str) -> str:
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": f"{server.url}/connect/token",
        "jti": str(uuid.uuid4()),
        "exp": now + 60,
    }
    return jwt.encode(
        {"alg": "ES256", "kid": kid}, claims, ECKey.import_key(private_pem), algorithms=["ES256"]
    )


def assertion_form(assertion: str, **extra: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_assertion_type": JWT_BEARER,
        "client_assertion": assertion,
        **extra,
    }


def access_token(server: ServerProcess, **overrides: Any) -> str:
    """An access token signed by the server's own key, with claims overridden for a test."""
    kid, pem = server.deployment.signing_key()
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": server.url,
        "aud": "ecb-files",
        "sub": "secret-client",
        "client_id": "secret-client",
        "scope": "platform-service-provider:write",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": str(uuid.uuid4()),
    }
    header = {"alg": "RS256", "kid": kid, "typ": "at+jwt"}
    header.update(overrides.pop("header", {}))
    claims.update(resolve_times(overrides))
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(header, claims, RSAKey.import_key(pem), algorithms=["RS256"])


def hs256_token(secret: bytes, claims: dict[str, Any]) -> str:
    """HS256 keyed with public material: the classic algorithm-confusion forgery."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    signing_input = f"{header}.{b64(json.dumps(claims).encode())}"
    signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"
