"""The token endpoint, discovery and JWKS over HTTP (§2, §9 token endpoint)."""

from __future__ import annotations

import base64
import json
import time
import warnings

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.functional.conftest import secret_token
from tests.functional.server import ServerProcess
from tests.functional.tokens import (
    FromNow,
    assertion_form,
    ec_assertion,
    hs256_token,
    vendor_style_assertion,
)
from tests.functional.world import World

INVALID_CLIENT = {"error": "invalid_client", "error_description": "client authentication failed"}


def token_url(server: ServerProcess) -> str:
    return f"{server.url}/connect/token"


def claims_of(token: str) -> dict[str, object]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def test_secret_basic_issues_a_bearer_jwt_with_the_contract_claims(
    server: ServerProcess, world: World
) -> None:
    """§2: client_secret_basic; RFC 9068 claims; §9 aud = ecb-files, nbf = iat; no-store."""
    response = httpx.post(
        token_url(server),
        data={"grant_type": "client_credentials"},
        auth=("secret-client", world.secret),
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "platform-service-provider:write"
    claims = claims_of(body["access_token"])
    assert claims["iss"] == server.url
    assert claims["aud"] == "ecb-files"
    assert claims["sub"] == claims["client_id"] == "secret-client"
    assert claims["scope"] == "platform-service-provider:write"
    assert claims["nbf"] == claims["iat"]
    assert claims["exp"] == claims["iat"] + 3600  # type: ignore[operator]
    assert claims["jti"]


def test_issued_token_verifies_against_the_published_jwks(
    server: ServerProcess, world: World
) -> None:
    """§2: the JWKS publishes the key whose kid signs the tokens."""
    access = secret_token(server, "secret-client", world.secret)
    keys = httpx.get(f"{server.url}/.well-known/openid-configuration/jwks").json()
    assert all("d" not in key for key in keys["keys"])
    token = jwt.decode(access, KeySet.import_key_set(keys), algorithms=["RS256"])
    assert token.header["alg"] == "RS256"
    assert token.header["kid"] in {key["kid"] for key in keys["keys"]}


def test_secret_post_is_accepted(server: ServerProcess, world: World) -> None:
    """§2: client_secret_post."""
    response = httpx.post(
        token_url(server),
        data={
            "grant_type": "client_credentials",
            "client_id": "secret-client",
            "client_secret": world.secret,
        },
    )
    assert response.status_code == 200, response.text


def test_wrong_secret_with_basic_is_401_with_basic_challenge(
    server: ServerProcess, world: World
) -> None:
    """§9: invalid_client is 401, with WWW-Authenticate: Basic when the client used Basic."""
    response = httpx.post(
        token_url(server), data={"grant_type": "client_credentials"}, auth=("secret-client", "x")
    )
    assert response.status_code == 401
    assert response.json() == INVALID_CLIENT
    assert response.headers["www-authenticate"].lower().startswith("basic")
    assert response.headers["cache-control"] == "no-store"


def test_wrong_secret_with_post_is_401_invalid_client(server: ServerProcess) -> None:
    """§9: invalid_client is 401."""
    response = httpx.post(
        token_url(server),
        data={
            "grant_type": "client_credentials",
            "client_id": "secret-client",
            "client_secret": "x",
        },
    )
    assert response.status_code == 401
    assert response.json() == INVALID_CLIENT


def test_private_key_jwt_from_an_independent_oauth_library(
    server: ServerProcess, world: World
) -> None:
    """§2: private_key_jwt as authlib's OAuth2Client makes it (1 h expiry, RS256)."""
    with warnings.catch_warnings():
        # authlib announces its own future module moves; they are not ours to fix.
        warnings.simplefilter("ignore")
        from authlib.integrations.httpx_client import OAuth2Client
        from authlib.oauth2.rfc7523 import PrivateKeyJWT

        with OAuth2Client(
            client_id="jwt-client",
            client_secret=world.cert_key.private_pem.decode(),
            token_endpoint_auth_method=PrivateKeyJWT(token_url(server)),
        ) as client:
            token = client.fetch_token(token_url(server), grant_type="client_credentials")
    assert token["token_type"] == "Bearer"
    assert claims_of(token["access_token"])["client_id"] == "jwt-client"


def test_private_key_jwt_like_the_vendor_reference_client(
    server: ServerProcess, world: World
) -> None:
    """§2: kid = x5t = base64url SHA-1 thumbprint, aud = token endpoint, exp = now + 10 s."""
    assertion = vendor_style_assertion(
        server, "jwt-client", world.cert_key.private_pem, world.cert_key.x5t
    )
    response = httpx.post(token_url(server), data=assertion_form(assertion))
    assert response.status_code == 200, response.text


def test_assertion_replay_is_refused(server: ServerProcess, world: World) -> None:
    """§2: a jti is accepted once."""
    assertion = vendor_style_assertion(
        server, "jwt-client", world.cert_key.private_pem, world.cert_key.x5t
    )
    first = httpx.post(token_url(server), data=assertion_form(assertion))
    second = httpx.post(token_url(server), data=assertion_form(assertion))
    assert first.status_code == 200
    assert second.status_code == 401
    assert second.json() == INVALID_CLIENT


def test_es256_assertion_with_a_registered_jwk(server: ServerProcess, world: World) -> None:
    """§2: ES256 signatures by a JWK-registered key, chosen by kid."""
    pem, jwk = world.ec_key
    response = httpx.post(
        token_url(server), data=assertion_form(ec_assertion(server, "ec-client", pem, jwk["kid"]))
    )
    assert response.status_code == 200, response.text


def test_assertion_expired_20_seconds_ago_is_still_accepted(
    server: ServerProcess, world: World
) -> None:
    """§9: 60 s skew — exp 20 s in the past is accepted."""
    assertion = vendor_style_assertion(
        server, "jwt-client", world.cert_key.private_pem, world.cert_key.x5t, exp_in=-20
    )
    assert httpx.post(token_url(server), data=assertion_form(assertion)).status_code == 200


@pytest.mark.parametrize(
    ("exp_in", "extra"),
    [
        (-90, {}),  # expired beyond the skew
        (61 * 60 + 60, {}),  # more than 60 minutes (plus skew) ahead
        (10, {"nbf": FromNow(120)}),  # not yet valid
        (10, {"iat": FromNow(120)}),
        (10, {"aud": "https://elsewhere.example/connect/token"}),
        (10, {"sub": "someone-else"}),
        (10, {"jti": None}),
    ],
    ids=["expired", "too-long", "nbf-ahead", "iat-ahead", "wrong-aud", "sub-mismatch", "no-jti"],
)
def test_bad_assertions_get_one_identical_answer(
    server: ServerProcess, world: World, exp_in: float, extra: dict[str, object]
) -> None:
    """§9: every private_key_jwt failure gives the same status and error_description."""
    assertion = vendor_style_assertion(
        server,
        "jwt-client",
        world.cert_key.private_pem,
        world.cert_key.x5t,
        exp_in=exp_in,
        extra_claims=extra,
    )
    response = httpx.post(token_url(server), data=assertion_form(assertion))
    assert response.status_code == 401
    assert response.json() == INVALID_CLIENT


def test_alg_none_and_hmac_assertions_are_refused(server: ServerProcess, world: World) -> None:
    """§2: alg none and HMAC algorithms are refused."""
    now = int(time.time())
    claims = {
        "iss": "jwt-client",
        "sub": "jwt-client",
        "aud": token_url(server),
        "jti": "x1",
        "exp": now + 30,
    }

    def b64(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    unsigned = f"{b64({'alg': 'none'})}.{b64(claims)}."
    hmac_signed = hs256_token(world.cert_key.certificate_pem.encode(), claims)
    for assertion in (unsigned, hmac_signed):
        response = httpx.post(token_url(server), data=assertion_form(assertion))
        assert response.status_code == 401
        assert response.json() == INVALID_CLIENT


def test_client_id_beside_an_assertion_must_match_its_issuer(
    server: ServerProcess, world: World
) -> None:
    """§9: a client_id sent beside an assertion must equal its iss."""
    assertion = vendor_style_assertion(
        server, "jwt-client", world.cert_key.private_pem, world.cert_key.x5t
    )
    response = httpx.post(token_url(server), data=assertion_form(assertion, client_id="ec-client"))
    assert response.status_code == 401
    assert response.json() == INVALID_CLIENT


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({}, "invalid_request"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"grant_type": "client_credentials", "scope": "admin"}, "invalid_scope"),
    ],
)
def test_rfc6749_error_codes(
    server: ServerProcess, world: World, form: dict[str, str], error: str
) -> None:
    """§2: RFC 6749 §5.2 errors are 400 with the right code."""
    response = httpx.post(token_url(server), data=form, auth=("secret-client", world.secret))
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert response.headers["cache-control"] == "no-store"


def test_no_client_authentication_is_invalid_client(server: ServerProcess) -> None:
    """§2: a request naming no client method cannot be authenticated."""
    response = httpx.post(token_url(server), data={"grant_type": "client_credentials"})
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_requested_scope_subset_is_granted(server: ServerProcess, world: World) -> None:
    """§2: scope is optional and may name a subset of the client's scopes."""
    response = httpx.post(
        token_url(server),
        data={"grant_type": "client_credentials", "scope": "platform-service-provider:write"},
        auth=("secret-client", world.secret),
    )
    assert response.json()["scope"] == "platform-service-provider:write"


def test_discovery_document(server: ServerProcess) -> None:
    """§2: issuer, token_endpoint, jwks_uri, methods, grant types, scopes."""
    document = httpx.get(f"{server.url}/.well-known/openid-configuration").json()
    assert document["issuer"] == server.url
    assert document["token_endpoint"] == token_url(server)
    assert document["jwks_uri"] == f"{server.url}/.well-known/openid-configuration/jwks"
    assert set(document["token_endpoint_auth_methods_supported"]) == {
        "private_key_jwt",
        "client_secret_basic",
        "client_secret_post",
    }
    assert document["grant_types_supported"] == ["client_credentials"]
    assert "platform-service-provider:write" in document["scopes_supported"]
