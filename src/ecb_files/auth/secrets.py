"""Client secrets (``client_secret_basic`` / ``client_secret_post``, §2) and insurer
users' passwords (§11.1), stored hashed: one hasher for both.

Secrets are hashed with argon2id (argon2-cffi's ``PasswordHasher`` defaults, RFC 9106's
second recommended profile); the clear secret is never stored. Verification compares in
argon2's own constant time and never raises: a wrong secret, a malformed or foreign hash,
or no hash at all is simply ``False``.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()


def hash_client_secret(secret: str) -> str:
    """The argon2id hash (PHC string, salt included) to store for ``secret``."""
    if not secret:
        raise ValueError("clientSecret must not be empty")
    return _HASHER.hash(secret)


def verify_client_secret(secret: str, stored_hash: str | None) -> bool:
    """Whether ``secret`` matches ``stored_hash``.

    Pass ``None`` for an unknown client (or one without a secret): a dummy hash is checked
    instead, so the answer takes as long as for a known client and cannot tell the two
    apart, and the result is ``False``.
    """
    if stored_hash is None:
        _verify(_dummy_hash(), secret)
        return False
    return _verify(stored_hash, secret)


def hash_password(password: str) -> str:
    """The argon2id hash to store for an insurer user's ``password``."""
    if not password:
        raise ValueError("the password must not be empty")
    return _HASHER.hash(password)


def verify_password(password: str, stored_hash: str | None) -> bool:
    """``verify_client_secret`` for a password: ``None`` still costs one verification."""
    return verify_client_secret(password, stored_hash)


def secret_needs_rehash(stored_hash: str) -> bool:
    """Whether ``stored_hash`` was made with weaker parameters than today's (rehash on load)."""
    try:
        return _HASHER.check_needs_rehash(stored_hash)
    except (InvalidHashError, ValueError):
        return True


def _verify(stored_hash: str, secret: str) -> bool:
    try:
        return _HASHER.verify(stored_hash, secret)
    except (VerificationError, InvalidHashError):
        # VerifyMismatchError is a VerificationError; InvalidHashError covers hashes
        # that are not argon2 at all. Neither is an error for the caller, just "no".
        return False


@cache
def _dummy_hash() -> str:
    return _HASHER.hash("ecb-files: no such client")
