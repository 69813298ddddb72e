"""Access tokens by the client-credentials grant, cached until shortly before expiry.

A token is cached per (token endpoint, client id, requested scopes) in a
:class:`TokenCache`; by default one cache serves the whole process, so every client of
the same partner identity shares its token. The token endpoint is discovered from the
issuer's ``/.well-known/openid-configuration`` unless it is given (§2).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from types import TracebackType

import httpx

from ecb_files_client._credentials import ClientAuth, ClientSecret
from ecb_files_client._exceptions import DiscoveryError, TokenError, TransportError
from ecb_files_client._flow import Flow, HttpCall, HttpReply, arun, run
from ecb_files_client._version import USER_AGENT

WRITE_SCOPE = "platform-service-provider:write"
DISCOVERY_PATH = "/.well-known/openid-configuration"
DEFAULT_EXPIRES_IN = 3600
CacheKey = tuple[str, str, tuple[str, ...]]


@dataclass(frozen=True)
class ClientCredentials:
    """Who the client is and how it gets its tokens.

    ``issuer`` is the authorization server's URL; a :class:`SubmitClient` uses its own
    base URL when none is given (the service is its own issuer by default).
    ``token_endpoint`` skips discovery. ``scopes`` are requested explicitly.
    """

    client_id: str
    auth: ClientAuth
    scopes: tuple[str, ...] = (WRITE_SCOPE,)
    issuer: str | None = None
    token_endpoint: str | None = None

    def __post_init__(self) -> None:
        if not self.client_id:
            raise ValueError("client_id must not be empty")
        if isinstance(self.scopes, str):
            # A lone string would be split into characters; take it as space-separated.
            object.__setattr__(self, "scopes", tuple(self.scopes.split()))


@dataclass(frozen=True)
class AccessToken:
    """A bearer token and when it stops being usable (``time.time()`` seconds)."""

    value: str
    expires_at: float
    scope: str = ""

    def __repr__(self) -> str:
        return f"AccessToken(expires_at={self.expires_at!r}, scope={self.scope!r})"


class TokenCache:
    """Tokens per (token endpoint, client id, scopes); thread-safe.

    A token is handed out until ``refresh_margin`` seconds before it expires (at most
    half its lifetime), so a request never leaves with a token about to lapse.
    """

    def __init__(
        self, *, refresh_margin: float = 60.0, clock: Callable[[], float] = time.time
    ) -> None:
        self._margin = refresh_margin
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[CacheKey, tuple[AccessToken, float]] = {}

    def get(self, key: CacheKey) -> AccessToken | None:
        with self._lock:
            entry = self._tokens.get(key)
            if entry is None:
                return None
            token, refresh_at = entry
            if self._clock() >= refresh_at:
                del self._tokens[key]
                return None
            return token

    def put(self, key: CacheKey, token: AccessToken) -> None:
        lifetime = token.expires_at - self._clock()
        refresh_at = token.expires_at - min(self._margin, max(lifetime, 0) / 2)
        with self._lock:
            self._tokens[key] = (token, refresh_at)

    def discard(self, key: CacheKey, token: AccessToken) -> None:
        """Forget ``token`` (the server refused it), unless another replaced it already."""
        with self._lock:
            entry = self._tokens.get(key)
            if entry is not None and entry[0] == token:
                del self._tokens[key]

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()

    @property
    def clock(self) -> Callable[[], float]:
        return self._clock


DEFAULT_CACHE = TokenCache()


class TokenSource:
    """The token flow of one identity: discovery, the cache, the token request."""

    def __init__(self, credentials: ClientCredentials, cache: TokenCache | None = None) -> None:
        if credentials.issuer is None and credentials.token_endpoint is None:
            raise ValueError("ClientCredentials needs an issuer or a token_endpoint")
        self.credentials = credentials
        self.cache = cache or DEFAULT_CACHE
        self._endpoint = credentials.token_endpoint

    def token(self, *, refresh: bool = False) -> Flow[AccessToken]:
        token, _ = yield from self.obtain(refresh=refresh)
        return token

    def obtain(self, *, refresh: bool = False) -> Flow[tuple[AccessToken, bool]]:
        """A usable token and whether it came from the cache."""
        endpoint = yield from self.token_endpoint()
        key = self.cache_key(endpoint)
        if not refresh:
            cached = self.cache.get(key)
            if cached is not None:
                return cached, True
        reply = yield self._request(endpoint)
        if isinstance(reply, TransportError) or reply is None:
            raise reply or TransportError(f"no answer from {endpoint}")
        token = self._parse(reply)
        self.cache.put(key, token)
        return token, False

    def forget(self, token: AccessToken) -> None:
        if self._endpoint is not None:
            self.cache.discard(self.cache_key(self._endpoint), token)

    def cache_key(self, endpoint: str) -> CacheKey:
        return endpoint, self.credentials.client_id, tuple(sorted(set(self.credentials.scopes)))

    def token_endpoint(self) -> Flow[str]:
        """The token endpoint: configured, or read once from the discovery document."""
        if self._endpoint is not None:
            return self._endpoint
        issuer = (self.credentials.issuer or "").rstrip("/")
        url = issuer + DISCOVERY_PATH
        reply = yield HttpCall("GET", url, {"Accept": "application/json", "User-Agent": USER_AGENT})
        if isinstance(reply, TransportError) or reply is None:
            raise reply or TransportError(f"no answer from {url}")
        document = reply.json()
        if reply.status != 200 or not isinstance(document, dict):
            raise DiscoveryError(
                "discovery_failed", f"GET {url} answered {reply.status}", status=reply.status
            )
        endpoint = document.get("token_endpoint")
        announced = str(document.get("issuer", "")).rstrip("/")
        if announced != issuer:
            # OpenID Connect Discovery §4.3: a document for another issuer is not to be used.
            raise DiscoveryError(
                "discovery_failed", f"{url} names issuer {announced!r}, not {issuer!r}", status=200
            )
        if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
            raise DiscoveryError("discovery_failed", f"{url} has no token_endpoint", status=200)
        self._endpoint = endpoint
        return endpoint

    def _request(self, endpoint: str) -> HttpCall:
        credentials = self.credentials
        form = {"grant_type": "client_credentials"}
        if credentials.scopes:
            form["scope"] = " ".join(credentials.scopes)
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        auth = credentials.auth
        if isinstance(auth, ClientSecret):
            if auth.method == "client_secret_post":
                form.update(client_id=credentials.client_id, client_secret=auth.secret)
            else:
                headers["Authorization"] = auth.basic_header(credentials.client_id)
        else:
            form.update(auth.form(credentials.client_id, endpoint))
        return HttpCall("POST", endpoint, headers, form=form)

    def _parse(self, reply: HttpReply) -> AccessToken:
        document = reply.json()
        if not isinstance(document, dict):
            snippet = reply.content[:200].decode("utf-8", "replace")
            raise TokenError("invalid_response", f"not JSON: {snippet}", status=reply.status)
        if reply.status != 200:
            error = document.get("error")
            description = document.get("error_description")
            raise TokenError(
                error if isinstance(error, str) else "invalid_response",
                description if isinstance(description, str) else "",
                status=reply.status,
            )
        value = document.get("access_token")
        token_type = document.get("token_type", "Bearer")
        if not isinstance(value, str) or not value:
            raise TokenError("invalid_response", "no access_token in the answer", status=200)
        if not isinstance(token_type, str) or token_type.lower() != "bearer":
            raise TokenError("invalid_response", f"token_type {token_type!r}", status=200)
        expires_in = document.get("expires_in")
        lifetime = expires_in if isinstance(expires_in, int | float) else DEFAULT_EXPIRES_IN
        scope = document.get("scope")
        return AccessToken(
            value=value,
            expires_at=self.cache.clock() + float(lifetime),
            scope=scope if isinstance(scope, str) else " ".join(self.credentials.scopes),
        )


class TokenClient:
    """Gets access tokens with a blocking HTTP client.

    ``credentials`` must name an ``issuer`` (for discovery) or a ``token_endpoint``.
    Pass ``http`` to share a client (it is then not closed here).
    """

    def __init__(
        self,
        credentials: ClientCredentials,
        *,
        cache: TokenCache | None = None,
        http: httpx.Client | None = None,
        timeout: float = 30.0,
    ) -> None:
        self._source = TokenSource(credentials, cache)
        self._owns_http = http is None
        self._http = http or httpx.Client(timeout=timeout)

    def get_token(self, *, refresh: bool = False) -> AccessToken:
        """A cached token, or a new one (always a new one with ``refresh=True``)."""
        return run(self._source.token(refresh=refresh), self._http)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> TokenClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncTokenClient:
    """Gets access tokens with an asyncio HTTP client; see :class:`TokenClient`."""

    def __init__(
        self,
        credentials: ClientCredentials,
        *,
        cache: TokenCache | None = None,
        http: httpx.AsyncClient | None = None,
        timeout: float = 30.0,
    ) -> None:
        self._source = TokenSource(credentials, cache)
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=timeout)

    async def get_token(self, *, refresh: bool = False) -> AccessToken:
        return await arun(self._source.token(refresh=refresh), self._http)

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> AsyncTokenClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def with_issuer(credentials: ClientCredentials, issuer: str) -> ClientCredentials:
    """``credentials`` with ``issuer`` filled in when neither it nor an endpoint is set."""
    if credentials.issuer is None and credentials.token_endpoint is None:
        return replace(credentials, issuer=issuer)
    return credentials
