"""Verified tokens remembered (§2, §3.2 step 1): ``authenticate_known`` and
``identify_known`` answer from memory only for a token verified against the real clock
with the current, fresh keys, and only until it expires; otherwise ``None`` (verify)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import pytest

from ecb_files.auth.bearer import REQUIRED_SCOPE
from ecb_files.auth.tokens import AccessTokenIssuer, generate_signing_key
from ecb_files.config import Settings
from ecb_files.db import Database
from ecb_files.errors import Forbidden, Unauthorized
from ecb_files.services.bearer import BearerGate, Principal
from ecb_files.services.keys import KeyRing, ensure_signing_key, rotate_signing_key
from ecb_files.services.trusted_issuers import TrustedIssuers

REFRESH_SECONDS = 60.0
LIFETIME = 3600
CLIENT = "aage-backend"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Gate:
    """A bearer gate on a real key ring (with a fake refresh clock) and its token signer."""

    gate: BearerGate
    ring: KeyRing
    clock: FakeClock
    settings: Settings
    database: Database

    def header(
        self, scopes: Sequence[str] = (REQUIRED_SCOPE,), issued_at: float | None = None
    ) -> str:
        """``Bearer <token>`` signed with the ring's current key, as the token endpoint does."""
        issuer = AccessTokenIssuer(
            self.ring.snapshot().current,
            issuer=self.settings.issuer,
            audience=self.settings.token_audience,
            lifetime=LIFETIME,
        )
        moment = time.time() if issued_at is None else issued_at
        return f"Bearer {issuer.issue(CLIENT, scopes, moment).access_token}"


@pytest.fixture
def gate(database: Database) -> Gate:
    ensure_signing_key(database)
    settings = Settings()
    clock = FakeClock()
    ring = KeyRing(database, keep_seconds=LIFETIME, refresh_seconds=REFRESH_SECONDS, clock=clock)
    trusted = TrustedIssuers((), audience=settings.token_audience, skew=settings.clock_skew_seconds)
    return Gate(BearerGate(ring, settings, trusted), ring, clock, settings, database)


def test_a_token_never_verified_is_not_known(gate: Gate) -> None:
    header = gate.header()
    assert gate.gate.authenticate_known(header) is None
    assert gate.gate.identify_known(header) is None


def test_a_token_verified_with_the_real_clock_is_known(gate: Gate) -> None:
    header = gate.header()
    principal = gate.gate.authenticate(header)
    assert gate.gate.authenticate_known(header) == principal
    assert gate.gate.identify_known(header) == principal
    assert principal.client_id == CLIENT
    assert REQUIRED_SCOPE in principal.scopes


def test_a_token_identified_is_known_to_authenticate_too(gate: Gate) -> None:
    header = gate.header()
    principal = gate.gate.identify(header)
    assert gate.gate.authenticate_known(header) == principal


def test_the_bearer_scheme_is_matched_case_insensitively_when_known(gate: Gate) -> None:
    """§9: the scheme is case-insensitive; the token is what is remembered."""
    header = gate.header()
    principal = gate.gate.authenticate(header)
    token = header.split()[1]
    assert gate.gate.authenticate_known(f"bEaReR {token}") == principal


def test_a_token_verified_at_an_explicit_moment_is_not_remembered(gate: Gate) -> None:
    """Only what was checked against the real clock (nbf, iat) is remembered."""
    header = gate.header()
    gate.gate.authenticate(header, now=time.time())
    assert gate.gate.authenticate_known(header) is None
    assert gate.gate.identify_known(header) is None


def test_a_known_token_must_verify_again_once_keys_are_due_for_refresh(gate: Gate) -> None:
    """A due refresh may bring a rotation or a removed key: verify again, then remember."""
    header = gate.header()
    principal = gate.gate.authenticate(header)
    gate.clock.now += REFRESH_SECONDS + 1
    assert gate.gate.authenticate_known(header) is None
    assert gate.gate.identify_known(header) is None
    assert gate.gate.authenticate(header) == principal  # refreshes the keys
    assert gate.gate.authenticate_known(header) == principal


def test_a_known_token_is_still_known_just_before_the_refresh(gate: Gate) -> None:
    header = gate.header()
    principal = gate.gate.authenticate(header)
    gate.clock.now += REFRESH_SECONDS
    assert gate.gate.authenticate_known(header) == principal


def test_a_key_reload_makes_known_tokens_verify_again(gate: Gate) -> None:
    """§2: after a rotation is loaded, tokens are checked against the new key set."""
    header = gate.header()
    gate.gate.authenticate(header)
    rotate_signing_key(gate.database, keep_seconds=LIFETIME)
    gate.clock.now += 2  # past reload's rate limit, well before the refresh
    gate.ring.reload()
    assert gate.gate.authenticate_known(header) is None
    # The old key stays published until its tokens expire: still valid when verified.
    assert gate.gate.authenticate(header).client_id == CLIENT


def test_a_known_token_is_forgotten_after_expiry_and_clock_skew(gate: Gate) -> None:
    """§2/§9: the verifier's rule — valid until exp plus the skew allowance."""
    header = gate.header()
    principal = gate.gate.authenticate(header)
    last_valid = principal.expires_at + gate.settings.clock_skew_seconds
    assert gate.gate.authenticate_known(header, now=last_valid) == principal
    assert gate.gate.authenticate_known(header, now=last_valid + 1) is None
    assert gate.gate.identify_known(header, now=last_valid + 1) is None


def test_a_known_token_without_the_write_scope_is_forbidden(gate: Gate) -> None:
    """§2: a valid token without platform-service-provider:write is 403, known or not."""
    header = gate.header(scopes=["platform-service-provider:read"])
    with pytest.raises(Forbidden):
        gate.gate.authenticate(header)  # verified, remembered, then refused for its scope
    identified = gate.gate.identify_known(header)
    assert identified is not None
    assert identified.scopes == frozenset({"platform-service-provider:read"})
    with pytest.raises(Forbidden, match=REQUIRED_SCOPE):
        gate.gate.authenticate_known(header)


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer ",
        "Bearer not-a-jwt",
        "Bearer a.b.c",
        "Basic YWFnZTpzZWNyZXQ=",
        "Bearer \x00\xff",
    ],
)
def test_no_or_garbage_authorization_is_never_known_and_never_raises(
    gate: Gate, authorization: str | None
) -> None:
    gate.gate.authenticate(gate.header())  # something is remembered
    assert gate.gate.authenticate_known(authorization) is None
    assert gate.gate.identify_known(authorization) is None


def test_a_refused_token_is_not_remembered(gate: Gate) -> None:
    """A token signed by a key the ring does not hold is refused, and stays unknown."""
    foreign = AccessTokenIssuer(
        generate_signing_key(time.time()),
        issuer=gate.settings.issuer,
        audience=gate.settings.token_audience,
        lifetime=LIFETIME,
    )
    header = f"Bearer {foreign.issue(CLIENT, [REQUIRED_SCOPE], time.time()).access_token}"
    with pytest.raises(Unauthorized):
        gate.gate.authenticate(header)
    assert gate.gate.authenticate_known(header) is None
    assert gate.gate.identify_known(header) is None


def test_known_tokens_are_remembered_each_on_its_own(gate: Gate) -> None:
    first, second = gate.header(), gate.header(scopes=[REQUIRED_SCOPE, "extra"])
    one = gate.gate.authenticate(first)
    assert gate.gate.authenticate_known(second) is None
    two = gate.gate.authenticate(second)
    assert gate.gate.authenticate_known(first) == one
    assert gate.gate.authenticate_known(second) == two
    assert one != two
    assert isinstance(one, Principal)
