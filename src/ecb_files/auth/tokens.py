"""The server's signing keys and its access tokens (RFC 9068 style; §2, §9).

Access tokens are JWTs signed RS256, header ``{"alg": "RS256", "kid", "typ": "at+jwt"}``,
claims ``iss``, ``aud``, ``sub`` = ``client_id``, ``scope`` (space-delimited), ``iat``,
``nbf`` = ``iat``, ``exp``, ``jti``. Signing keys are RSA 2048 named by their RFC 7638
thumbprint; where they are kept (the database) and when they rotate is the caller's
business, this module only makes, uses and publishes them.

``AccessTokenVerifier`` checks a token against a fixed set of public keys, of this server
or of one external issuer (from its JWKS). A token naming a ``kid`` it does not know
raises ``InvalidAccessToken`` with ``unknown_kid`` set, so the caller can reload the keys
(another process may have rotated) and try once more.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeGuard

from joserfc import jwt
from joserfc.errors import ExpiredTokenError, InvalidClaimError, JoseError, MissingClaimError
from joserfc.jwk import RSAKey
from joserfc.jws import CompactSignature, JWSRegistry, extract_compact, validate_compact
from joserfc.jwt import JWTClaimsRegistry

SIGNING_ALGORITHM = "RS256"
ACCESS_TOKEN_TYPES = ("at+jwt", "application/at+jwt")
SIGNING_KEY_BITS = 2048
MAX_TOKEN_CHARS = 16 * 1024

# Only RS256 is ever accepted, whatever the token's header says (RFC 8725 §3.1).
_REGISTRY = JWSRegistry(algorithms=[SIGNING_ALGORITHM], strict_check_header=False)


@dataclass(frozen=True)
class SigningKey:
    """One of the server's RSA signing keys; ``private_pem`` is PKCS#8, unencrypted."""

    kid: str
    private_pem: str
    created_at: float

    def public_jwk(self) -> dict[str, object]:
        """The JWKS entry of this key: ``kty``, ``n``, ``e``, ``kid``, ``alg``, ``use``."""
        public = _load_private_key(self.private_pem).as_dict(private=False)
        return {
            "kty": "RSA",
            "n": public["n"],
            "e": public["e"],
            "kid": self.kid,
            "alg": SIGNING_ALGORITHM,
            "use": "sig",
        }


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scope: str


@dataclass(frozen=True)
class AccessClaims:
    """What a valid access token says: whose it is, what it may do, until when."""

    client_id: str
    scopes: frozenset[str]
    expires_at: float


class InvalidAccessToken(Exception):
    """An access token that must be refused (401 ``invalid_token``); ``str()`` says why.

    ``unknown_kid`` is set when the token names a key this verifier does not hold: the
    one case where reloading the keys and retrying can change the answer.
    """

    def __init__(self, reason: str, *, unknown_kid: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.unknown_kid = unknown_kid


def generate_signing_key(now: float) -> SigningKey:
    """A fresh RSA 2048 signing key, named by its RFC 7638 thumbprint."""
    key = RSAKey.generate_key(SIGNING_KEY_BITS, private=True)
    pem = key.as_pem(private=True).decode("ascii")
    return SigningKey(kid=key.thumbprint(), private_pem=pem, created_at=now)


def jwks(public_keys: Sequence[SigningKey]) -> dict[str, list[dict[str, object]]]:
    """The JWKS document publishing these keys, public members only."""
    return {"keys": [key.public_jwk() for key in public_keys]}


class AccessTokenIssuer:
    """Signs access tokens for authenticated clients with one signing key."""

    def __init__(self, signing_key: SigningKey, issuer: str, audience: str, lifetime: int) -> None:
        if lifetime <= 0:
            raise ValueError(f"access token lifetime must be positive, got {lifetime}")
        self._kid = signing_key.kid
        self._key = _load_private_key(signing_key.private_pem)
        self._issuer = issuer
        self._audience = audience
        self._lifetime = lifetime

    def issue(self, client_id: str, scopes: Sequence[str], now: float) -> IssuedToken:
        """A token for ``client_id`` granting ``scopes`` (kept in order, duplicates dropped)."""
        if not client_id:
            raise ValueError("client_id must not be empty")
        granted = list(dict.fromkeys(scopes))
        for scope in granted:
            if not scope or any(c.isspace() or c in '"\\' for c in scope):
                raise ValueError(f"scope {scope!r} is not an RFC 6749 scope token")
        scope = " ".join(granted)
        issued_at = int(now)
        header = {"alg": SIGNING_ALGORITHM, "kid": self._kid, "typ": "at+jwt"}
        claims = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": client_id,
            "client_id": client_id,
            "scope": scope,
            "iat": issued_at,
            "nbf": issued_at,
            "exp": issued_at + self._lifetime,
            "jti": str(uuid.uuid4()),
        }
        token = jwt.encode(header, claims, self._key, registry=_REGISTRY, default_type=None)
        return IssuedToken(access_token=token, expires_in=self._lifetime, scope=scope)


class AccessTokenVerifier:
    """Verifies access tokens of one issuer against a fixed set of RSA public keys.

    ``keys`` maps each ``kid`` to a ``SigningKey`` (this server's) or to a public JWK (an
    external issuer's; only its public members are used). ``require_typ`` insists on the
    RFC 9068 ``typ`` ``at+jwt``, which this server always sets; many external issuers
    write ``JWT`` instead, so ``from_jwks`` does not ask for it by default.
    """

    def __init__(
        self,
        keys: Mapping[str, SigningKey | Mapping[str, Any]],
        issuer: str,
        audience: str,
        skew: int = 60,
        *,
        require_typ: bool = True,
    ) -> None:
        self._keys = {kid: _public_key(kid, key) for kid, key in keys.items()}
        self._issuer = issuer
        self._audience = audience
        self._skew = skew
        self._require_typ = require_typ

    @classmethod
    def from_jwks(
        cls,
        document: Mapping[str, Any],
        issuer: str,
        audience: str,
        skew: int = 60,
        *,
        require_typ: bool = False,
    ) -> AccessTokenVerifier:
        """A verifier for an external issuer from its JWKS document.

        Keys that cannot sign RS256 tokens (other key types, ``use: enc``, another
        ``alg``) are skipped; a key without ``kid`` is named by its thumbprint.
        """
        members = document.get("keys") if isinstance(document, Mapping) else None
        if not isinstance(members, list):
            raise ValueError('JWKS must be a JSON object {"keys": [...]}')
        keys: dict[str, Mapping[str, Any]] = {}
        for member in members:
            if not _is_rs256_signing_jwk(member):
                continue
            kid = member.get("kid")
            if not isinstance(kid, str) or not kid:
                kid = _public_key("(no kid)", member).thumbprint()
            keys[kid] = member
        return cls(keys, issuer, audience, skew, require_typ=require_typ)

    @property
    def kids(self) -> frozenset[str]:
        return frozenset(self._keys)

    def verify(self, token: str, now: float) -> AccessClaims:
        """The token's claims, or ``InvalidAccessToken`` saying why it is refused."""
        signed, claims = _parse(token)
        header = signed.headers()
        if header.get("alg") != SIGNING_ALGORITHM:
            raise InvalidAccessToken(f"alg {header.get('alg')!r} is not {SIGNING_ALGORITHM}")
        if header.get("b64", True) is not True:
            raise InvalidAccessToken("unencoded payload (b64: false) is not a JWT")
        if self._require_typ and header.get("typ") not in ACCESS_TOKEN_TYPES:
            raise InvalidAccessToken(f"typ {header.get('typ')!r} is not at+jwt")
        key = self._key_for(header.get("kid"))
        try:
            verified = validate_compact(signed, key, registry=_REGISTRY)
        except (JoseError, ValueError, TypeError) as error:
            raise InvalidAccessToken(f"signature cannot be checked: {error}") from None
        if not verified:
            raise InvalidAccessToken("signature does not verify")
        return self._check_claims(claims, now)

    def _key_for(self, kid: object) -> RSAKey:
        if kid is None and len(self._keys) == 1:
            # An external issuer with a single key may leave kid out.
            return next(iter(self._keys.values()))
        if not isinstance(kid, str):
            raise InvalidAccessToken("header kid is missing or not a string", unknown_kid=True)
        key = self._keys.get(kid)
        if key is None:
            raise InvalidAccessToken(f"unknown signing key {kid!r}", unknown_kid=True)
        return key

    def _check_claims(self, claims: dict[str, Any], now: float) -> AccessClaims:
        for name in ("nbf", "iat"):
            value = claims.get(name)
            if _is_number(value) and value > now + self._skew:
                raise InvalidAccessToken("not yet valid")
        registry = JWTClaimsRegistry(
            now=int(now),
            leeway=self._skew,
            iss={"essential": True, "value": self._issuer},
            aud={"essential": True, "value": self._audience},
            exp={"essential": True},
        )
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            raise InvalidAccessToken("expired") from None
        except MissingClaimError as error:
            raise InvalidAccessToken(f"missing claim(s) {error.claim}") from None
        except InvalidClaimError as error:
            what = _CLAIM_FAULTS.get(error.claim, f"invalid claim {error.claim!r}")
            raise InvalidAccessToken(what) from None
        except JoseError as error:
            raise InvalidAccessToken(f"claims: {error.description}") from None
        try:
            expires_at = float(claims["exp"])
        except OverflowError:
            raise InvalidAccessToken("exp is out of range") from None
        return AccessClaims(
            client_id=_client_id(claims), scopes=_scopes(claims), expires_at=expires_at
        )


_CLAIM_FAULTS = {"iss": "issued by another issuer", "aud": "meant for another audience"}


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _parse(token: object) -> tuple[CompactSignature, dict[str, Any]]:
    if not isinstance(token, str) or not token:
        raise InvalidAccessToken("malformed: empty token")
    if len(token) > MAX_TOKEN_CHARS:
        raise InvalidAccessToken(f"malformed: longer than {MAX_TOKEN_CHARS} characters")
    try:
        signed = extract_compact(token.encode("ascii"), registry=_REGISTRY)
        claims = json.loads(signed.payload)
    except (JoseError, UnicodeError, ValueError, TypeError, AttributeError, KeyError):
        # Hostile input reaches joserfc's parser here: whatever it trips on is a refusal.
        raise InvalidAccessToken("malformed: not a compact JWS with a JSON payload") from None
    if not isinstance(signed.headers(), dict):
        raise InvalidAccessToken("malformed: header is not a JSON object")
    if not isinstance(claims, dict):
        raise InvalidAccessToken("malformed: payload is not a JSON object")
    return signed, claims


def _client_id(claims: dict[str, Any]) -> str:
    # RFC 9068 puts the client in client_id; an external issuer may only set sub.
    for name in ("client_id", "sub"):
        value = claims.get(name)
        if isinstance(value, str) and value:
            return value
    raise InvalidAccessToken("no client_id or sub claim")


def _scopes(claims: dict[str, Any]) -> frozenset[str]:
    # RFC 9068 writes one space-delimited string; some external issuers write a list,
    # or use "scp".
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str):
            return frozenset(value.split())
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return frozenset(value)
        if value is not None:
            raise InvalidAccessToken(f"claim {name!r} is neither a string nor a list of strings")
    return frozenset()


def _public_key(kid: str, key: SigningKey | Mapping[str, Any]) -> RSAKey:
    if isinstance(key, SigningKey):
        return _load_public_of_private(key.private_pem)
    if not _is_rs256_signing_jwk(key):
        raise ValueError(f"key {kid!r} is not an RSA public key usable for RS256 signatures")
    members = {"kty": "RSA", "n": key["n"], "e": key["e"]}
    try:
        return RSAKey.import_key(members)
    except (JoseError, ValueError, TypeError) as error:
        raise ValueError(f"key {kid!r} is not a valid RSA public JWK: {error}") from None


def _is_rs256_signing_jwk(member: object) -> bool:
    return (
        isinstance(member, Mapping)
        and member.get("kty") == "RSA"
        and isinstance(member.get("n"), str)
        and isinstance(member.get("e"), str)
        and member.get("use", "sig") == "sig"
        and member.get("alg", SIGNING_ALGORITHM) == SIGNING_ALGORITHM
    )


@lru_cache(maxsize=16)
def _load_private_key(private_pem: str) -> RSAKey:
    # Loading an RSA private key parses the PEM and checks the key; the same few keys are
    # loaded for every issuer and verifier the callers build, so keep them.
    try:
        key = RSAKey.import_key(private_pem)
    except (JoseError, ValueError, TypeError) as error:
        raise ValueError(f"signing key is not an RSA private key PEM: {error}") from None
    if not key.is_private:
        raise ValueError("signing key PEM holds a public key, not a private one")
    return key


@lru_cache(maxsize=16)
def _load_public_of_private(private_pem: str) -> RSAKey:
    return RSAKey.import_key(_load_private_key(private_pem).public_key)
