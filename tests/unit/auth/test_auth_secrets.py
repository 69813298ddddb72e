"""Client secrets are stored as argon2id hashes and checked without raising (§2, §5)."""

from __future__ import annotations

import pytest

from ecb_files.auth.secrets import hash_client_secret, secret_needs_rehash, verify_client_secret


@pytest.fixture(scope="module")
def stored() -> str:
    return hash_client_secret("s3cret-of-aage")


def test_hash_is_argon2id_and_not_the_secret(stored: str) -> None:
    """§2: the secret is stored hashed (argon2id), never in clear."""
    assert stored.startswith("$argon2id$")
    assert "s3cret-of-aage" not in stored


def test_same_secret_hashes_differently_each_time(stored: str) -> None:
    """§2: a fresh salt per hash."""
    assert hash_client_secret("s3cret-of-aage") != stored


def test_right_secret_verifies(stored: str) -> None:
    """§2 client_secret_basic/post: the registered secret authenticates."""
    assert verify_client_secret("s3cret-of-aage", stored) is True


def test_wrong_secret_is_false(stored: str) -> None:
    """§2: a wrong secret is refused, without an exception."""
    assert verify_client_secret("s3cret-of-aagE", stored) is False


@pytest.mark.parametrize("bad_hash", ["", "plain-text", "$argon2id$v=19$m=1$broken", "$2b$12$abc"])
def test_malformed_hash_is_false_not_an_error(bad_hash: str) -> None:
    """§2: a malformed or foreign stored hash never raises."""
    assert verify_client_secret("anything", bad_hash) is False


def test_unknown_client_is_false() -> None:
    """§2: no stored hash (unknown client) is a plain refusal, after the same work."""
    assert verify_client_secret("anything", None) is False


def test_empty_secret_cannot_be_registered() -> None:
    """§5 fixtures: an empty clientSecret is refused with a message naming it."""
    with pytest.raises(ValueError, match="clientSecret"):
        hash_client_secret("")


def test_fresh_hash_needs_no_rehash(stored: str) -> None:
    assert secret_needs_rehash(stored) is False


def test_foreign_hash_needs_rehash() -> None:
    assert secret_needs_rehash("plain-text") is True
