"""The token endpoint's use case: authenticate a client, then issue an access token (§2).

Client authentication methods, decided from what the request carries:

- ``client_secret_basic``: an ``Authorization: Basic`` header;
- ``private_key_jwt``: ``client_assertion_type`` + ``client_assertion`` form fields;
- ``client_secret_post``: ``client_id`` + ``client_secret`` form fields.

More than one method in one request is ``invalid_request`` (RFC 6749 §2.3). Every
failure of client authentication is the same ``invalid_client`` answer (§9), and counts
towards the lockout of the caller's address (``services/auth_failures.py``, §12.2),
which is checked before anything else.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from ecb_files.auth.assertions import peek_assertion_issuer, verify_client_assertion
from ecb_files.auth.client_keys import ClientPublicKey
from ecb_files.auth.secrets import verify_client_secret
from ecb_files.auth.tokens import AccessTokenIssuer
from ecb_files.config import Settings
from ecb_files.db import Database, Transaction, clients, models
from ecb_files.errors import OAuthError
from ecb_files.services.auth_failures import AuthFailures
from ecb_files.services.keys import KeyRing

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
CLIENT_CREDENTIALS = "client_credentials"
AUTH_FAILED = "client authentication failed"
AUTH_METHODS = ("private_key_jwt", "client_secret_basic", "client_secret_post")


@dataclass(frozen=True)
class TokenRequest:
    """The form, the ``Authorization: Basic`` credentials (``basic_malformed`` when the
    header was Basic but unreadable) and the caller's address (§12.2)."""

    form: Mapping[str, str]
    basic_credentials: tuple[str, str] | None = None
    address: str = ""
    basic_malformed: bool = False

    @property
    def claimed_client_id(self) -> str | None:
        """The client the request says it is, before anything is verified."""
        if self.basic_credentials is not None:
            return self.basic_credentials[0]
        assertion = self.form.get("client_assertion")
        if assertion and not self.form.get("client_id"):
            return peek_assertion_issuer(assertion)
        return self.form.get("client_id") or None


@dataclass(frozen=True)
class TokenResponse:
    access_token: str
    expires_in: int
    scope: str

    def as_json(self) -> dict[str, object]:
        return {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": self.scope,
        }


class TokenService:
    def __init__(
        self, database: Database, keys: KeyRing, settings: Settings, failures: AuthFailures
    ) -> None:
        self._database = database
        self._keys = keys
        self._settings = settings
        self._failures = failures
        self._cached_issuer: tuple[str, AccessTokenIssuer] | None = None

    def issue(self, request: TokenRequest, now: float | None = None) -> TokenResponse:
        moment = time.time() if now is None else now
        form = request.form
        claimed = request.claimed_client_id
        self._failures.check(request.address, claimed)
        try:
            if request.basic_malformed:
                raise OAuthError.invalid_client("malformed Basic credentials", basic=True)
            grant_type = form.get("grant_type")
            if not grant_type:
                raise OAuthError("invalid_request", "grant_type is required")
            if grant_type != CLIENT_CREDENTIALS:
                raise OAuthError("unsupported_grant_type", "only client_credentials is supported")
            with self._database.write() as unit:
                client = self._authenticate(unit, request, moment)
                scopes = self._grant_scopes(client, form.get("scope"))
        except OAuthError as error:
            if error.error == "invalid_client":
                # In a transaction of its own: the one above has rolled back.
                self._failures.failed(request.address, claimed)
            raise
        issued = self._issuer().issue(client.client_id, scopes, moment)
        return TokenResponse(issued.access_token, issued.expires_in, issued.scope)

    def _issuer(self) -> AccessTokenIssuer:
        # Loading the private key is slow; keep one issuer per current signing key.
        current = self._keys.snapshot().current
        if self._cached_issuer is None or self._cached_issuer[0] != current.kid:
            issuer = AccessTokenIssuer(
                current,
                issuer=self._settings.issuer,
                audience=self._settings.token_audience,
                lifetime=self._settings.token_lifetime_seconds,
            )
            self._cached_issuer = (current.kid, issuer)
        return self._cached_issuer[1]

    def _authenticate(
        self, unit: Transaction, request: TokenRequest, now: float
    ) -> models.OAuthClient:
        form = request.form
        has_assertion = "client_assertion" in form or "client_assertion_type" in form
        has_secret = "client_secret" in form
        methods = sum((request.basic_credentials is not None, has_assertion, has_secret))
        if methods > 1:
            raise OAuthError("invalid_request", "use exactly one client authentication method")
        if request.basic_credentials is not None:
            client_id, secret = request.basic_credentials
            if form.get("client_id") not in (None, client_id):
                raise OAuthError("invalid_request", "client_id differs from the Basic credentials")
            return self._by_secret(unit, client_id, secret, basic=True)
        if has_assertion:
            return self._by_assertion(unit, form, now)
        if has_secret:
            posted_id = form.get("client_id")
            if not posted_id:
                raise OAuthError("invalid_request", "client_id is required with client_secret")
            return self._by_secret(unit, posted_id, form["client_secret"], basic=False)
        raise OAuthError.invalid_client("client authentication is required")

    def _by_secret(
        self, unit: Transaction, client_id: str, secret: str, *, basic: bool
    ) -> models.OAuthClient:
        client = clients.find_client(unit, client_id)
        # Verified against a dummy hash when there is no client, so that an unknown
        # client takes as long to refuse as a known one.
        stored = client.secret_hash if client is not None else None
        if not verify_client_secret(secret, stored) or client is None:
            raise OAuthError.invalid_client(AUTH_FAILED, basic=basic)
        return client

    def _by_assertion(
        self, unit: Transaction, form: Mapping[str, str], now: float
    ) -> models.OAuthClient:
        if form.get("client_assertion_type") != JWT_BEARER:
            raise OAuthError("invalid_request", f"client_assertion_type must be {JWT_BEARER}")
        assertion = form.get("client_assertion")
        if not assertion:
            raise OAuthError("invalid_request", "client_assertion is required")
        issuer = peek_assertion_issuer(assertion)
        client = clients.find_client(unit, issuer) if issuer else None

        def keys_for(client_id: str) -> Sequence[ClientPublicKey] | None:
            if client is None or client.client_id != client_id:
                return None
            return [_public_key(k) for k in client.keys]

        verified = verify_client_assertion(
            assertion,
            client_id_hint=form.get("client_id") or None,
            keys_for=keys_for,
            audiences=(self._settings.token_endpoint, self._settings.issuer),
            now=now,
            skew=self._settings.clock_skew_seconds,
        )
        assert client is not None  # keys_for refused every other case
        self._remember_jti(unit, verified.client_id, verified.jti, verified.expires_at)
        return client

    def _remember_jti(self, unit: Transaction, issuer: str, jti: str, expires_at: float) -> None:
        # A replay is refused in every process sharing the database; the jti is kept
        # until the assertion could no longer be accepted anyway.
        keep_until = datetime.fromtimestamp(expires_at + self._settings.clock_skew_seconds, UTC)
        if not clients.record_assertion_use(unit, issuer, jti, keep_until):
            raise OAuthError.invalid_client(AUTH_FAILED)

    def _grant_scopes(self, client: models.OAuthClient, requested: str | None) -> list[str]:
        allowed = client.scopes.split()
        if requested is None or not requested.strip():
            return allowed
        wanted = list(dict.fromkeys(requested.split()))
        unknown = [s for s in wanted if s not in allowed]
        if unknown:
            raise OAuthError("invalid_scope", f"scope not allowed for this client: {unknown[0]}")
        return wanted


def _public_key(row: models.ClientKey) -> ClientPublicKey:
    return ClientPublicKey(
        kid=row.kid, x5t=row.x5t, jwk=json.loads(row.jwk), certificate_pem=row.certificate_pem
    )
