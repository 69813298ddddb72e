"""Bearer checks of the submit endpoints (§2), decided from the headers alone."""

from __future__ import annotations

import time
from dataclasses import dataclass

from ecb_files.auth.assertions import peek_assertion_issuer
from ecb_files.auth.bearer import REQUIRED_SCOPE, parse_bearer
from ecb_files.auth.tokens import AccessClaims, AccessTokenVerifier, InvalidAccessToken
from ecb_files.config import Settings
from ecb_files.errors import Forbidden, Unauthorized
from ecb_files.services.keys import KeyRing, KeySnapshot
from ecb_files.services.trusted_issuers import TrustedIssuers


@dataclass(frozen=True)
class Principal:
    """Who is calling: the OAuth client named by a valid access token."""

    client_id: str
    scopes: frozenset[str]
    expires_at: float


class BearerGate:
    def __init__(self, keys: KeyRing, settings: Settings, trusted: TrustedIssuers) -> None:
        self._keys = keys
        self._settings = settings
        self._trusted = trusted
        self._cached: tuple[KeySnapshot, AccessTokenVerifier] | None = None

    def authenticate(self, authorization: str | None, now: float | None = None) -> Principal:
        """The caller of a write endpoint, or ``Unauthorized``/``Forbidden``."""
        principal = self.identify(authorization, now)
        if REQUIRED_SCOPE not in principal.scopes:
            raise Forbidden(
                f"the access token lacks the scope {REQUIRED_SCOPE}", reason="insufficient_scope"
            )
        return principal

    def identify(self, authorization: str | None, now: float | None = None) -> Principal:
        """The caller named by a valid access token, whatever its scopes."""
        token = parse_bearer(authorization)
        if token is None:
            raise Unauthorized(
                "an Authorization: Bearer header is required",
                token_error=False,
                reason="no_token",
            )
        moment = time.time() if now is None else now
        try:
            claims = self._verify(token, moment)
        except InvalidAccessToken as exc:
            raise Unauthorized(
                f"the access token is not valid: {exc}", reason="invalid_token"
            ) from None
        return Principal(
            client_id=claims.client_id, scopes=claims.scopes, expires_at=claims.expires_at
        )

    def _verify(self, token: str, now: float) -> AccessClaims:
        issuer = peek_assertion_issuer(token)  # unverified: only picks the verifier
        if issuer is not None and issuer != self._settings.issuer and issuer in self._trusted:
            return self._trusted.verify(issuer, token, now)
        snapshot = self._keys.snapshot()
        try:
            return self._verifier_for(snapshot).verify(token, now)
        except InvalidAccessToken as exc:
            if not exc.unknown_kid:
                raise
        # Another process may have rotated the key since this one last looked.
        return self._verifier_for(self._keys.reload()).verify(token, now)

    def _verifier_for(self, snapshot: KeySnapshot) -> AccessTokenVerifier:
        # Importing RSA keys is slow; build the verifier once per key snapshot.
        cached = self._cached
        if cached is not None and cached[0] is snapshot:
            return cached[1]
        verifier = AccessTokenVerifier(
            {key.kid: key for key in snapshot.published},
            issuer=self._settings.issuer,
            audience=self._settings.token_audience,
            skew=self._settings.clock_skew_seconds,
        )
        self._cached = (snapshot, verifier)
        return verifier
