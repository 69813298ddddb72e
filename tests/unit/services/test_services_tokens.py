"""The client a token request names, before anything is verified: what the §12.2
lockout counts a failure against and checks a request for."""

from __future__ import annotations

import base64
import json

import pytest

from ecb_files.services.tokens import JWT_BEARER, TokenRequest


def _unsigned_assertion(claims: dict[str, object]) -> str:
    def part(value: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256'})}.{part(claims)}.c2ln"


@pytest.mark.parametrize(
    ("request_", "client_id"),
    [
        (TokenRequest({}, ("basic-client", "secret")), "basic-client"),
        (TokenRequest({"client_id": "posted", "client_secret": "s"}), "posted"),
        (
            TokenRequest(
                {
                    "client_assertion_type": JWT_BEARER,
                    "client_assertion": _unsigned_assertion({"iss": "jwt-client"}),
                }
            ),
            "jwt-client",
        ),
        (
            TokenRequest(
                {
                    "client_id": "named",
                    "client_assertion": _unsigned_assertion({"iss": "jwt-client"}),
                }
            ),
            "named",
        ),
        (TokenRequest({"client_assertion": "not a jwt"}), None),
        (TokenRequest({"grant_type": "client_credentials"}), None),
    ],
    ids=["basic", "post", "assertion-iss", "assertion-client-id", "unreadable", "none"],
)
def test_the_claimed_client_id(request_: TokenRequest, client_id: str | None) -> None:
    """§12.2: the Basic user, the posted client_id, else the assertion's unverified iss."""
    assert request_.claimed_client_id == client_id
