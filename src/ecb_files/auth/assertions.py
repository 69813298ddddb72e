"""``private_key_jwt`` client assertions (RFC 7523 §2.2 and §3, OIDC Core §9; §2, §9).

``verify_client_assertion`` checks, in this order, and refuses at the first failure:

1. the text is a compact JWS whose header ``alg`` is RS256, PS256 or ES256 (never
   ``none`` or HMAC: joserfc itself is handed a registry allowing only these three);
2. ``iss`` = ``sub`` = the client id, equal to the ``client_id`` sent beside it, if any;
3. the client is known and has keys; a header ``kid`` or ``x5t`` picks the key (either
   may name either field of a registered key), and one that names none is refused
   rather than falling back; without both, each key is tried;
4. the signature verifies with the chosen key;
5. ``aud`` names the token endpoint or the issuer; ``exp`` is present, passed by at most
   ``skew`` seconds, and less than ``max_lifetime + skew`` seconds ahead; ``nbf`` and
   ``iat``, if present, at most ``skew`` seconds ahead; ``jti`` a non-empty string of at
   most 255 characters.

Every refusal is the same ``OAuthError.invalid_client`` with the same description, so a
caller learns nothing about which check failed (§9); the reason is logged at debug level
on the ``ecb_files.auth`` logger. Refusing a replayed ``jti`` is the caller's job: it
gets the ``jti`` and the time after which the assertion is dead anyway.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from joserfc.errors import ExpiredTokenError, JoseError
from joserfc.jws import CompactSignature, JWSRegistry, extract_compact, validate_compact
from joserfc.jwt import JWTClaimsRegistry

from ecb_files.auth.client_keys import ClientPublicKey, algorithms_for, import_verification_key
from ecb_files.errors import OAuthError

logger = logging.getLogger("ecb_files.auth")

ASSERTION_ALGORITHMS = ("RS256", "PS256", "ES256")
FAILURE_DESCRIPTION = "client authentication failed"
MAX_JTI_CHARS = 255
MAX_ASSERTION_CHARS = 32 * 1024


class _AssertionRegistry(JWSRegistry):
    # A header may carry an x5c chain, far beyond joserfc's 512-byte default; the whole
    # assertion is still bounded by MAX_ASSERTION_CHARS before anything is parsed.
    max_header_length = 16 * 1024


# Unknown header members are allowed (RFC 7515 §4: they must be ignored unless listed in
# "crit", which joserfc still enforces): partner libraries add their own.
_REGISTRY = _AssertionRegistry(algorithms=list(ASSERTION_ALGORITHMS), strict_check_header=False)


@dataclass(frozen=True)
class VerifiedAssertion:
    """A client assertion that passed every check but replay: store ``jti`` until ``expires_at``."""

    client_id: str
    jti: str
    expires_at: float


class _Refused(Exception):
    """Internal: why an assertion is refused; never shown to the client."""


def verify_client_assertion(
    assertion: str,
    *,
    client_id_hint: str | None,
    keys_for: Callable[[str], Sequence[ClientPublicKey] | None],
    audiences: Collection[str],
    now: float,
    skew: int = 60,
    max_lifetime: int = 3600,
) -> VerifiedAssertion:
    """Authenticate a client by its assertion, or raise ``OAuthError.invalid_client``.

    ``keys_for(client_id)`` returns the client's registered keys, ``None`` for an unknown
    client; its own exceptions (a database that is down) propagate unchanged.
    """
    try:
        return _verify(
            assertion,
            client_id_hint=client_id_hint,
            keys_for=keys_for,
            audiences=audiences,
            now=now,
            skew=skew,
            max_lifetime=max_lifetime,
        )
    except _Refused as refusal:
        logger.debug("client assertion refused: %s", refusal)
        raise OAuthError.invalid_client(FAILURE_DESCRIPTION) from None


def peek_assertion_issuer(assertion: str) -> str | None:
    """The assertion's ``iss``, unverified (to look the client up); ``None`` if unreadable."""
    try:
        _, claims = _parse(assertion)
    except _Refused:
        return None
    issuer = claims.get("iss")
    return issuer if isinstance(issuer, str) and issuer else None


def _verify(
    assertion: str,
    *,
    client_id_hint: str | None,
    keys_for: Callable[[str], Sequence[ClientPublicKey] | None],
    audiences: Collection[str],
    now: float,
    skew: int,
    max_lifetime: int,
) -> VerifiedAssertion:
    signed, claims = _parse(assertion)
    header = signed.headers()
    alg = header.get("alg")
    if alg not in ASSERTION_ALGORITHMS:
        raise _Refused(f"alg {alg!r} is not one of {', '.join(ASSERTION_ALGORITHMS)}")
    if header.get("b64", True) is not True:
        raise _Refused("unencoded payload (b64: false) is not a JWT")

    client_id = _client_id(claims, client_id_hint)
    keys = keys_for(client_id)
    if keys is None:
        raise _Refused(f"unknown client {client_id!r}")
    candidates = _candidate_keys(header, keys, client_id)
    _check_signature(signed, alg, candidates, client_id)
    expires_at = _check_claims(
        claims, client_id, audiences=audiences, now=now, skew=skew, max_lifetime=max_lifetime
    )
    return VerifiedAssertion(client_id=client_id, jti=claims["jti"], expires_at=expires_at)


def _parse(assertion: object) -> tuple[CompactSignature, dict[str, Any]]:
    if not isinstance(assertion, str) or not assertion:
        raise _Refused("assertion is empty")
    if len(assertion) > MAX_ASSERTION_CHARS:
        raise _Refused(f"assertion is longer than {MAX_ASSERTION_CHARS} characters")
    try:
        signed = extract_compact(assertion.encode("ascii"), registry=_REGISTRY)
        claims = json.loads(signed.payload)
    except (JoseError, UnicodeError, ValueError, TypeError, AttributeError, KeyError) as error:
        # Hostile input reaches joserfc's parser here: whatever it trips on is a refusal.
        raise _Refused(f"not a compact JWS with a JSON payload: {error}") from None
    if not isinstance(signed.headers(), dict):
        raise _Refused("header is not a JSON object")
    if not isinstance(claims, dict):
        raise _Refused("payload is not a JSON object")
    return signed, claims


def _client_id(claims: dict[str, Any], client_id_hint: str | None) -> str:
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise _Refused("iss is missing or not a string")
    if claims.get("sub") != issuer:
        raise _Refused(f"sub {claims.get('sub')!r} differs from iss {issuer!r}")
    if client_id_hint is not None and client_id_hint != issuer:
        raise _Refused(f"client_id {client_id_hint!r} differs from iss {issuer!r}")
    return issuer


def _candidate_keys(
    header: dict[str, Any], keys: Sequence[ClientPublicKey], client_id: str
) -> Sequence[ClientPublicKey]:
    if not keys:
        raise _Refused(f"client {client_id!r} has no registered keys")
    names = [header[member] for member in ("kid", "x5t") if member in header]
    if not names:
        return keys
    if not all(isinstance(name, str) for name in names):
        raise _Refused("header kid/x5t is not a string")
    chosen = [key for key in keys if any(key.is_named(name) for name in names)]
    if not chosen:
        raise _Refused(f"header kid/x5t {names!r} names no key of client {client_id!r}")
    return chosen


def _check_signature(
    signed: CompactSignature, alg: str, candidates: Sequence[ClientPublicKey], client_id: str
) -> None:
    for candidate in candidates:
        if alg not in algorithms_for(candidate):
            continue
        try:
            if validate_compact(signed, import_verification_key(candidate), registry=_REGISTRY):
                return
        except (JoseError, ValueError, TypeError):
            # A stored key joserfc cannot use for this alg (e.g. wrong curve) just does
            # not verify; the next candidate may.
            continue
    raise _Refused(
        f"{alg} signature verifies with none of {len(candidates)} key(s) of client {client_id!r}"
    )


def _check_claims(
    claims: dict[str, Any],
    client_id: str,
    *,
    audiences: Collection[str],
    now: float,
    skew: int,
    max_lifetime: int,
) -> float:
    registry = JWTClaimsRegistry(
        now=int(now),
        leeway=skew,
        iss={"essential": True, "value": client_id},
        sub={"essential": True, "value": client_id},
        aud={"essential": True, "values": list(audiences)},
        exp={"essential": True},
        jti={"essential": True},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise _Refused(f"exp {claims.get('exp')!r} passed more than {skew} s ago") from None
    except JoseError as error:
        raise _Refused(f"claims: {error}") from None
    # Compared before any arithmetic: a JSON integer may be too large for a float.
    if claims["exp"] >= now + max_lifetime + skew:
        raise _Refused(f"exp {claims['exp']!r} is {max_lifetime} s + skew or more ahead of now")
    expires_at = float(claims["exp"])
    jti = claims["jti"]
    if len(jti) > MAX_JTI_CHARS:
        raise _Refused(f"jti is longer than {MAX_JTI_CHARS} characters")
    return expires_at
