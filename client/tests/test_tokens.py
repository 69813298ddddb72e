"""Access tokens (§2): both client authentications against a real server,
discovery, and the cache that reuses a token until shortly before it expires."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from ecb_files_client import (
    AccessToken,
    AsyncTokenClient,
    ClientCredentials,
    ClientSecret,
    DiscoveryError,
    SubmitClient,
    TokenCache,
    TokenClient,
    TokenError,
    Upload,
)

WRITE = "platform-service-provider:write"


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _key(endpoint: str = "https://as/connect/token") -> tuple[str, str, tuple[str, ...]]:
    return endpoint, "client", (WRITE,)


def test_cache_hands_out_a_token_until_the_margin_before_expiry() -> None:
    clock = Clock()
    cache = TokenCache(refresh_margin=60, clock=clock)
    token = AccessToken("t", expires_at=clock.now + 3600)
    cache.put(_key(), token)
    clock.now += 3600 - 61
    assert cache.get(_key()) == token
    clock.now += 1
    assert cache.get(_key()) is None


def test_a_short_lived_token_is_renewed_at_half_its_life() -> None:
    clock = Clock()
    cache = TokenCache(refresh_margin=60, clock=clock)
    cache.put(_key(), AccessToken("t", expires_at=clock.now + 40))
    clock.now += 19
    assert cache.get(_key()) is not None
    clock.now += 1
    assert cache.get(_key()) is None


def test_tokens_are_kept_apart_by_endpoint_client_and_scopes() -> None:
    cache = TokenCache(clock=Clock())
    token = AccessToken("t", expires_at=2e9)
    cache.put(_key(), token)
    assert cache.get(_key("https://other/connect/token")) is None
    assert cache.get(("https://as/connect/token", "other", (WRITE,))) is None
    assert cache.get(("https://as/connect/token", "client", ())) is None


def test_discard_forgets_only_the_token_it_names() -> None:
    cache = TokenCache(clock=Clock())
    old, new = AccessToken("old", expires_at=2e9), AccessToken("new", expires_at=2e9)
    cache.put(_key(), new)
    cache.discard(_key(), old)
    assert cache.get(_key()) == new
    cache.discard(_key(), new)
    assert cache.get(_key()) is None


def test_the_token_value_is_not_in_its_repr() -> None:
    assert "s3cret" not in repr(AccessToken("s3cret", expires_at=1.0))


def _counting_http() -> tuple[httpx.Client, list[str]]:
    paths: list[str] = []
    http = httpx.Client(event_hooks={"request": [lambda r: paths.append(r.url.path)]})
    return http, paths


@pytest.mark.parametrize("credentials_fixture", ["jwt_credentials", "secret_credentials"])
def test_token_by_private_key_jwt_or_secret_with_discovery(
    credentials_fixture: str, request: pytest.FixtureRequest, server: Any
) -> None:
    """§2: discovery finds the token endpoint; the server issues a write-scoped token."""
    base: ClientCredentials = request.getfixturevalue(credentials_fixture)
    credentials = ClientCredentials(base.client_id, base.auth, issuer=server.url)
    http, paths = _counting_http()
    with http, TokenClient(credentials, cache=TokenCache(), http=http) as tokens:
        token = tokens.get_token()
        assert token.scope == WRITE
        assert tokens.get_token() == token  # from the cache
        assert tokens.get_token(refresh=True) != token  # a fresh assertion, a fresh jti
    assert paths == ["/.well-known/openid-configuration", "/connect/token", "/connect/token"]


def test_client_secret_post(server: Any, world: Any) -> None:
    credentials = ClientCredentials(
        "secret-client",
        ClientSecret(world.secret, method="client_secret_post"),
        token_endpoint=f"{server.url}/connect/token",
    )
    with TokenClient(credentials, cache=TokenCache()) as tokens:
        assert tokens.get_token().value


def test_async_token_client(server: Any, jwt_credentials: ClientCredentials) -> None:
    credentials = ClientCredentials("jwt-client", jwt_credentials.auth, issuer=server.url)

    async def get() -> AccessToken:
        async with AsyncTokenClient(credentials, cache=TokenCache()) as tokens:
            return await tokens.get_token()

    assert asyncio.run(get()).scope == WRITE


def test_refusals_of_the_token_endpoint_are_token_errors(server: Any, world: Any) -> None:
    """§2: RFC 6749 §5.2 codes come through as ``TokenError.error``."""
    endpoint = f"{server.url}/connect/token"
    wrong = ClientCredentials("secret-client", ClientSecret("wrong"), token_endpoint=endpoint)
    with TokenClient(wrong, cache=TokenCache()) as tokens, pytest.raises(TokenError) as caught:
        tokens.get_token()
    assert (caught.value.error, caught.value.status) == ("invalid_client", 401)
    read_only = ClientCredentials(
        "read-only-client", ClientSecret(world.secret), token_endpoint=endpoint
    )
    with TokenClient(read_only, cache=TokenCache()) as tokens, pytest.raises(TokenError) as caught:
        tokens.get_token()
    assert caught.value.error == "invalid_scope"


def test_discovery_of_another_issuer_is_refused(server: Any, world: Any) -> None:
    """OpenID Connect Discovery §4.3: the document must name the issuer asked for."""
    spelled_otherwise = server.url.replace("127.0.0.1", "localhost")
    credentials = ClientCredentials(
        "secret-client", ClientSecret(world.secret), issuer=spelled_otherwise
    )
    with (
        TokenClient(credentials, cache=TokenCache()) as tokens,
        pytest.raises(DiscoveryError, match="names issuer"),
    ):
        tokens.get_token()


def _submit(client: SubmitClient, world: Any, name: str) -> None:
    client.submit_to_case(
        world.open_case,
        insurance_company_alias="company",
        user_email=world.email,
        files=[Upload(b"cached", file_name=name)],
    )


def test_submissions_reuse_one_token(
    server: Any, world: Any, jwt_credentials: ClientCredentials
) -> None:
    """Two submissions by one client, and one by a second client: one token request."""
    http, paths = _counting_http()
    cache = TokenCache()
    with http:
        for _ in range(2):
            client = SubmitClient(
                server.url,
                jwt_credentials,
                security_token=world.security_token,
                http=http,
                token_cache=cache,
            )
            with client:
                _submit(client, world, "t1.txt")
                _submit(client, world, "t2.txt")
    assert paths.count("/connect/token") == 1
    assert paths.count("/ecx/host/api/integration/v1/file/submitForCase") == 4


def test_a_refused_cached_token_is_replaced_once(
    server: Any, world: Any, jwt_credentials: ClientCredentials
) -> None:
    """A 401 with a cached token (revoked, keys rotated) → one fresh token, no backoff."""
    cache = TokenCache()
    endpoint = f"{server.url}/connect/token"
    stale = AccessToken("not-a-valid-token", expires_at=2e9)
    cache.put((endpoint, "jwt-client", (WRITE,)), stale)
    http, paths = _counting_http()
    client = SubmitClient(
        server.url,
        jwt_credentials,
        security_token=world.security_token,
        http=http,
        token_cache=cache,
    )
    with http, client:
        result = client.submit_to_case(
            world.open_case,
            insurance_company_alias="company",
            user_email=world.email,
            files=[Upload(b"fresh", file_name="fresh.txt")],
        )
    assert result.attempts == 2  # the refused one and the one with the fresh token
    assert paths.count("/connect/token") == 1
    assert cache.get((endpoint, "jwt-client", (WRITE,))) not in (None, stale)
