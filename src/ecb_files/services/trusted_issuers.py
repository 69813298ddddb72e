"""External authorization servers whose access tokens the submit endpoints accept (§2, §8).

An operator names them as ``ECB_FILES_TRUSTED_ISSUERS="issuer=jwks_url …"``. Their
tokens must carry this service's audience and name, in ``client_id`` (or ``sub``), a
client registered here — that is how a token maps to a service partner. Each issuer's
JWKS is fetched on first use, again every ``REFRESH_SECONDS``, and at once (at most
every ``MIN_REFETCH_SECONDS``) when a token names a key it does not have.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from ecb_files.auth.tokens import AccessClaims, AccessTokenVerifier, InvalidAccessToken

log = logging.getLogger("ecb_files.auth")

REFRESH_SECONDS = 600.0
MIN_REFETCH_SECONDS = 30.0
FETCH_TIMEOUT_SECONDS = 5.0
MAX_JWKS_BYTES = 512 * 1024

Fetch = Callable[[str], dict[str, Any]]


def fetch_jwks(url: str) -> dict[str, Any]:
    """GET a JWKS document (blocking; callers run in a worker thread)."""
    if not url.startswith(("https://", "http://")):
        raise ValueError(f"JWKS URL must be http(s): {url}")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310
        raw = response.read(MAX_JWKS_BYTES + 1)
    if len(raw) > MAX_JWKS_BYTES:
        raise ValueError(f"JWKS at {url} is larger than {MAX_JWKS_BYTES} bytes")
    document = json.loads(raw)
    if not isinstance(document, dict):
        raise ValueError(f"JWKS at {url} is not a JSON object")
    return document


class _Issuer:
    def __init__(self, issuer: str, jwks_url: str) -> None:
        self.issuer = issuer
        self.jwks_url = jwks_url
        self.verifier: AccessTokenVerifier | None = None
        self.fetched_at = float("-inf")
        self.lock = threading.Lock()


class TrustedIssuers:
    def __init__(
        self,
        issuers: tuple[tuple[str, str], ...],
        *,
        audience: str,
        skew: int,
        fetch: Fetch = fetch_jwks,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._issuers = {issuer: _Issuer(issuer, url) for issuer, url in issuers}
        self._audience = audience
        self._skew = skew
        self._fetch = fetch
        self._clock = clock

    def __contains__(self, issuer: object) -> bool:
        return issuer in self._issuers

    def verify(self, issuer: str, token: str, now: float) -> AccessClaims:
        entry = self._issuers[issuer]
        verifier = self._verifier(entry, force=False)
        try:
            return verifier.verify(token, now)
        except InvalidAccessToken as error:
            if not error.unknown_kid:
                raise
        # The issuer may have rotated its keys since we last looked.
        return self._verifier(entry, force=True).verify(token, now)

    def _verifier(self, entry: _Issuer, *, force: bool) -> AccessTokenVerifier:
        with entry.lock:
            age = self._clock() - entry.fetched_at
            due = age > REFRESH_SECONDS or (force and age > MIN_REFETCH_SECONDS)
            if entry.verifier is None or due:
                self._refresh(entry)
            if entry.verifier is None:
                raise InvalidAccessToken("the issuer's keys are not available")
            return entry.verifier

    def _refresh(self, entry: _Issuer) -> None:
        entry.fetched_at = self._clock()
        try:
            document = self._fetch(entry.jwks_url)
            entry.verifier = AccessTokenVerifier.from_jwks(
                document, entry.issuer, self._audience, self._skew
            )
        except (OSError, ValueError) as error:
            # Keep the keys we had: a JWKS endpoint blip must not refuse good tokens.
            log.warning("could not fetch JWKS of %s: %s", entry.issuer, error)
