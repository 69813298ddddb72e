"""Client authentication, signing keys and access tokens: pure cryptography, no I/O.

The database (clients, their keys, used ``jti``s, signing keys) and HTTP are the
callers' business; everything here takes what it needs as arguments, including ``now``.
joserfc and argon2-cffi are used in this package only.
"""

from ecb_files.auth.assertions import (
    ASSERTION_ALGORITHMS,
    FAILURE_DESCRIPTION,
    VerifiedAssertion,
    peek_assertion_issuer,
    verify_client_assertion,
)
from ecb_files.auth.bearer import REQUIRED_SCOPE, parse_bearer
from ecb_files.auth.client_keys import (
    ClientPublicKey,
    certificate_thumbprint,
    key_from_certificate,
    key_from_jwk,
    keys_from_jwks,
)
from ecb_files.auth.secrets import hash_client_secret, secret_needs_rehash, verify_client_secret
from ecb_files.auth.tokens import (
    AccessClaims,
    AccessTokenIssuer,
    AccessTokenVerifier,
    InvalidAccessToken,
    IssuedToken,
    SigningKey,
    generate_signing_key,
    jwks,
)

__all__ = [
    "ASSERTION_ALGORITHMS",
    "FAILURE_DESCRIPTION",
    "REQUIRED_SCOPE",
    "AccessClaims",
    "AccessTokenIssuer",
    "AccessTokenVerifier",
    "ClientPublicKey",
    "InvalidAccessToken",
    "IssuedToken",
    "SigningKey",
    "VerifiedAssertion",
    "certificate_thumbprint",
    "generate_signing_key",
    "hash_client_secret",
    "jwks",
    "key_from_certificate",
    "key_from_jwk",
    "keys_from_jwks",
    "parse_bearer",
    "peek_assertion_issuer",
    "secret_needs_rehash",
    "verify_client_assertion",
    "verify_client_secret",
]
