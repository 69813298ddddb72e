"""The authorization server: token endpoint, discovery document and JWKS (§2)."""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime
from functools import partial
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from ecb_files.api.client_address import client_address
from ecb_files.api.dependencies import CallerDep, ServicesDep
from ecb_files.api.schemas import RETRY_AFTER_HEADER, ErrorEnvelope, TokenError, TokenSuccess
from ecb_files.api.threads import in_thread
from ecb_files.auth.tokens import jwks
from ecb_files.domain.endpoints import TOKEN_PATH
from ecb_files.domain.scopes import ALL_SCOPES
from ecb_files.errors import OAuthError
from ecb_files.services.tokens import AUTH_METHODS, TokenRequest

router = APIRouter(tags=["authorization server"])

DISCOVERY_PATH = "/.well-known/openid-configuration"
JWKS_PATH = "/.well-known/openid-configuration/jwks"
MAX_FORM_BYTES = 64 * 1024
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}

_FORM_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["grant_type"],
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["client_credentials"]},
                        "scope": {"type": "string"},
                        "client_id": {"type": "string"},
                        "client_secret": {"type": "string"},
                        "client_assertion_type": {
                            "type": "string",
                            "enum": ["urn:ietf:params:oauth:client-assertion-type:jwt-bearer"],
                        },
                        "client_assertion": {"type": "string"},
                    },
                }
            }
        },
    }
}


@router.post(
    TOKEN_PATH,
    summary="Issue an access token (client credentials)",
    openapi_extra=_FORM_DOC,
    response_model=None,
    responses={
        200: {"model": TokenSuccess, "description": "An access token"},
        400: {"model": TokenError, "description": "RFC 6749 §5.2 error"},
        401: {"model": TokenError, "description": "invalid_client"},
        429: {
            "model": TokenError,
            "description": "temporarily_unavailable: too many failed client "
            "authentications from this address (§12.2); see Retry-After",
            "headers": {"Retry-After": RETRY_AFTER_HEADER},
        },
    },
)
async def token(request: Request, services: ServicesDep) -> Response:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "the body must be application/x-www-form-urlencoded")
    form = await _read_form(request)
    try:
        basic = _basic_credentials(request.headers.get("authorization"))
        malformed = False
    except OAuthError:
        basic, malformed = None, True  # a failed authentication: the service counts it
    address = client_address(request, services.settings.rate_limits.trusted_proxies)
    token_request = TokenRequest(form, basic, address=address, basic_malformed=malformed)
    issued = await in_thread(partial(services.tokens.issue, token_request))
    services.metrics.token_issued()
    return JSONResponse(issued.as_json(), headers=_NO_STORE)


async def _read_form(request: Request) -> dict[str, str]:
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_FORM_BYTES:
            raise OAuthError("invalid_request", f"the form is larger than {MAX_FORM_BYTES} bytes")
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except (UnicodeDecodeError, ValueError):
        raise OAuthError("invalid_request", "the form is not valid UTF-8 url-encoding") from None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:
            # RFC 6749 §3.2: a parameter must not be sent more than once.
            raise OAuthError("invalid_request", f"parameter {name} is repeated")
        form[name] = value
    return form


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header:
        return None
    scheme, _, encoded = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError.invalid_client("malformed Basic credentials", basic=True) from None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        raise OAuthError.invalid_client("malformed Basic credentials", basic=True)
    # RFC 6749 §2.3.1: both parts are form-urlencoded before Base64.
    return unquote_plus(client_id), unquote_plus(secret)


@router.get(DISCOVERY_PATH, summary="OpenID Connect discovery document")
@router.get("/.well-known/oauth-authorization-server", include_in_schema=False)
async def discovery(services: ServicesDep) -> dict[str, object]:
    issuer = services.settings.issuer
    return {
        "issuer": issuer,
        "token_endpoint": services.settings.token_endpoint,
        "jwks_uri": f"{issuer}{JWKS_PATH}",
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "token_endpoint_auth_signing_alg_values_supported": ["RS256", "PS256", "ES256"],
        "scopes_supported": list(ALL_SCOPES),
        "response_types_supported": ["token"],
    }


@router.get(JWKS_PATH, summary="The public keys that sign access tokens")
async def key_set(services: ServicesDep) -> Response:
    # Fresh from the database (rate-limited), so a rotation shows at once.
    snapshot = await in_thread(services.keys.reload)
    return JSONResponse(jwks(snapshot.published), headers={"Cache-Control": "max-age=300"})


WHOAMI_PATH = "/ecx/host/api/integration/v1/whoami"


@router.get(
    WHOAMI_PATH,
    summary="Check an access token: the client it names, its scopes and expiry",
    responses={401: {"model": ErrorEnvelope, "description": "Unauthorized"}},
)
async def whoami(caller: CallerDep) -> dict[str, object]:
    expires = datetime.fromtimestamp(caller.expires_at, UTC).isoformat().replace("+00:00", "Z")
    return {"clientId": caller.client_id, "scopes": sorted(caller.scopes), "expiresAt": expires}
