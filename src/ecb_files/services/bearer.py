"""Bearer checks of the submit endpoints (§2), decided from the headers alone.

Verifying a token (an RS256 signature) is CPU work that needs a worker thread, and a
partner sends the same token with every request until it expires. So a token this
service issued is verified once per key snapshot: its claims are remembered with the
snapshot that verified them, and a later request with the same token is answered from
memory on the event loop, without a thread, as long as those keys are still the
current, fresh ones (a rotation, a removed key or a due refresh make it verify again)
and the token has not expired. Tokens of trusted external issuers are verified every
time: their keys are fetched from elsewhere.
"""

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

# Tokens live for an hour at most; a busy service sees far fewer distinct ones.
MAX_REMEMBERED_TOKENS = 10_000


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
        self._verified: dict[str, tuple[KeySnapshot, AccessClaims]] = {}

    def authenticate_known(
        self, authorization: str | None, now: float | None = None
    ) -> Principal | None:
        """``authenticate`` for a token verified before with the current keys; ``None``
        when it must be verified (by ``authenticate``, off the event loop). Never blocks."""
        principal = self.identify_known(authorization, now)
        return None if principal is None else _with_write_scope(principal)

    def identify_known(
        self, authorization: str | None, now: float | None = None
    ) -> Principal | None:
        """``identify`` for a token verified before with the current keys, else ``None``."""
        token = parse_bearer(authorization)
        remembered = self._verified.get(token) if token is not None else None
        if remembered is None:
            return None
        snapshot, claims = remembered
        moment = time.time() if now is None else now
        if snapshot is not self._keys.fresh() or not self._unexpired(claims, moment):
            return None
        return _principal(claims)

    def authenticate(self, authorization: str | None, now: float | None = None) -> Principal:
        """The caller of a write endpoint, or ``Unauthorized``/``Forbidden``."""
        return _with_write_scope(self.identify(authorization, now))

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
            claims = self._verify(token, moment, remember=now is None)
        except InvalidAccessToken as exc:
            raise Unauthorized(
                f"the access token is not valid: {exc}", reason="invalid_token"
            ) from None
        return _principal(claims)

    def _verify(self, token: str, now: float, *, remember: bool) -> AccessClaims:
        issuer = peek_assertion_issuer(token)  # unverified: only picks the verifier
        if issuer is not None and issuer != self._settings.issuer and issuer in self._trusted:
            return self._trusted.verify(issuer, token, now)
        snapshot = self._keys.snapshot()
        try:
            claims = self._verifier_for(snapshot).verify(token, now)
        except InvalidAccessToken as exc:
            if not exc.unknown_kid:
                raise
            # Another process may have rotated the key since this one last looked.
            snapshot = self._keys.reload()
            claims = self._verifier_for(snapshot).verify(token, now)
        if remember:  # only what was checked against the real clock (nbf, iat)
            self._remember(token, snapshot, claims, now)
        return claims

    def _remember(
        self, token: str, snapshot: KeySnapshot, claims: AccessClaims, now: float
    ) -> None:
        if len(self._verified) >= MAX_REMEMBERED_TOKENS:
            # Bounded: expired tokens go first, and if that is not enough, all of them.
            entries = list(self._verified.items())  # one C call: safe beside other threads
            kept = {t: v for t, v in entries if self._unexpired(v[1], now)}
            self._verified = kept if len(kept) < MAX_REMEMBERED_TOKENS // 2 else {}
        self._verified[token] = (snapshot, claims)

    def _unexpired(self, claims: AccessClaims, now: float) -> bool:
        # The verifier's rule: valid until exp, plus the clock-skew allowance.
        return now <= claims.expires_at + self._settings.clock_skew_seconds

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


def _principal(claims: AccessClaims) -> Principal:
    return Principal(client_id=claims.client_id, scopes=claims.scopes, expires_at=claims.expires_at)


def _with_write_scope(principal: Principal) -> Principal:
    if REQUIRED_SCOPE not in principal.scopes:
        raise Forbidden(
            f"the access token lacks the scope {REQUIRED_SCOPE}", reason="insufficient_scope"
        )
    return principal
