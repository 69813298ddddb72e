"""Every endpoint with the database down and with the storage down (§3.2, §3.4, §8).

A dependency that is down is answered 503 with ``Retry-After`` wherever it is needed,
and never 500; endpoints that do not need it keep answering. Each request below is one
a client would send; the table must name every path the OpenAPI description lists, so
a new endpoint cannot be left out.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import pytest

from tests.functional.conftest import (
    PHOTO,
    assert_error,
    file_entry,
    secret_token,
    submission,
)
from tests.functional.proxy import TcpProxy
from tests.functional.server import ServerProcess
from tests.functional.stack import S3Server
from tests.functional.world import World

API = "/ecx/host/api/integration/v1"
BIG = PHOTO + b"b" * 100_000
SMALL = PHOTO + b"s" * 1000


@dataclass(frozen=True)
class Caller:
    """What the requests need, taken while everything is up: a partner's token, an
    insurer's token, and a file in the blob store."""

    partner_token: str
    insurer_token: str
    file_id: str


Send = Callable[[httpx.Client, World, Caller], httpx.Response]


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    send: Send


def _submit(endpoint: str, *, key: bool) -> Send:
    def send(client: httpx.Client, world: World, caller: Caller) -> httpx.Response:
        token = caller.partner_token
        target = world.open_case if endpoint == "submitForCase" else world.open_dn
        # Larger than ECB_FILES_SMALL_FILE_BYTES: it needs the blob store.
        body = json.dumps(submission(world, target, [file_entry("outage.jpg", BIG)]))
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        if key:
            headers["Idempotency-Key"] = f"outage-{uuid.uuid4()}"
        return client.post(f"{API}/file/{endpoint}", content=body, headers=headers)

    return send


def _token(client: httpx.Client, world: World, _caller: Caller) -> httpx.Response:
    return client.post(
        "/connect/token",
        data={"grant_type": "client_credentials"},
        auth=("secret-client", world.secret),
    )


def _fnol(*, key: bool) -> Send:
    def send(client: httpx.Client, world: World, caller: Caller) -> httpx.Response:
        document = {
            "securityToken": world.security_token,
            "insuranceCompanyAlias": "company",
            "userEmail": world.email,
            "damageNotification": {"incidentDate": "2026-11-28", "description": "outage"},
        }
        # An attachment larger than ECB_FILES_SMALL_FILE_BYTES: it needs the blob store.
        files = [
            ("fnol", (None, json.dumps(document).encode(), "application/vnd.casecreation+json")),
            ("photo", ("outage.jpg", BIG, "image/jpeg")),
        ]
        headers = {"Authorization": f"Bearer {caller.partner_token}"}
        if key:
            headers["Idempotency-Key"] = f"outage-{uuid.uuid4()}"
        return client.post(f"{API}/damageNotification", files=files, headers=headers)

    return send


def _get(path: str, *, bearer: bool = False) -> Send:
    def send(client: httpx.Client, _world: World, caller: Caller) -> httpx.Response:
        headers = {"Authorization": f"Bearer {caller.partner_token}"} if bearer else {}
        return client.get(path, headers=headers)

    return send


def _read(method: str, template: str) -> Send:
    """An insurer's request to a read-side path; ``{caseId}``, ``{dnId}`` and ``{fileId}``
    filled in with the world's open case and DN and the stored file."""

    def send(client: httpx.Client, world: World, caller: Caller) -> httpx.Response:
        path = template.format(caseId=world.open_case, dnId=world.open_dn, fileId=caller.file_id)
        headers = {"Authorization": f"Bearer {caller.insurer_token}"}
        if method == "POST":
            return client.post(path, json={"caseId": world.open_case}, headers=headers)
        return client.get(path, headers=headers)

    return send


READ_CALLS = [
    ("GET", f"{API}/case/{{caseId}}"),
    ("GET", f"{API}/case/{{caseId}}/files"),
    ("GET", f"{API}/case/{{caseId}}/files.zip"),
    ("POST", f"{API}/case/{{caseId}}/close"),
    ("POST", f"{API}/case/{{caseId}}/reopen"),
    ("GET", f"{API}/damageNotification/{{dnId}}"),
    ("GET", f"{API}/damageNotification/{{dnId}}/files"),
    ("POST", f"{API}/damageNotification/{{dnId}}/merge"),
    ("GET", f"{API}/file/{{fileId}}"),
    ("GET", f"{API}/file/{{fileId}}/content"),
    ("GET", f"{API}/file/{{fileId}}/thumbnail"),
]
# The read side's paths whose answer needs the blob store (a file larger than the
# small-file size is in it).
READS_FROM_STORAGE = {
    f"{API}/case/{{caseId}}/files.zip",
    f"{API}/file/{{fileId}}/content",
    f"{API}/file/{{fileId}}/thumbnail",
}


CALLS = [
    Call("POST", "/connect/token", _token),
    Call("POST", f"{API}/file/submitForCase", _submit("submitForCase", key=False)),
    Call("POST", f"{API}/file/submitForCase", _submit("submitForCase", key=True)),
    Call(
        "POST",
        f"{API}/file/submitForDamageNotification",
        _submit("submitForDamageNotification", key=False),
    ),
    Call(
        "POST",
        f"{API}/file/submitForDamageNotification",
        _submit("submitForDamageNotification", key=True),
    ),
    Call("POST", f"{API}/damageNotification", _fnol(key=False)),
    Call("POST", f"{API}/damageNotification", _fnol(key=True)),
    Call(
        "GET",
        f"{API}/damageNotification/schema",
        _get(f"{API}/damageNotification/schema?insuranceCompanyAlias=company"),
    ),
    Call("GET", "/.well-known/openid-configuration", _get("/.well-known/openid-configuration")),
    Call(
        "GET",
        "/.well-known/oauth-authorization-server",
        _get("/.well-known/oauth-authorization-server"),
    ),
    Call(
        "GET",
        "/.well-known/openid-configuration/jwks",
        _get("/.well-known/openid-configuration/jwks"),
    ),
    Call("GET", f"{API}/file/contentTypes", _get(f"{API}/file/contentTypes")),
    Call("GET", f"{API}/file/limits", _get(f"{API}/file/limits")),
    Call("GET", f"{API}/whoami", _get(f"{API}/whoami", bearer=True)),
    Call("GET", "/healthz", _get("/healthz")),
    Call("GET", "/readyz", _get("/readyz")),
    # §12.3: reads only the process's own metric files, so it keeps answering.
    Call("GET", "/metrics", _get("/metrics")),
    # Last: the merge and the close change the world the requests above rely on.
    *(Call(method, path, _read(method, path)) for method, path in READ_CALLS),
]

# What needs which dependency: these must answer 503 while it is down.
NEEDS_DATABASE = {
    "/connect/token",
    f"{API}/file/submitForCase",
    f"{API}/file/submitForDamageNotification",
    f"{API}/damageNotification",
    f"{API}/damageNotification/schema",
    "/readyz",
    *(path for _method, path in READ_CALLS),
}
NEEDS_STORAGE = {
    f"{API}/file/submitForCase",
    f"{API}/file/submitForDamageNotification",
    f"{API}/damageNotification",
    "/readyz",
    *READS_FROM_STORAGE,
}


def _caller(server: ServerProcess, world: World) -> Caller:
    partner_token = secret_token(server, "secret-client", world.secret)
    body = json.dumps(submission(world, world.open_case, [file_entry("stored.jpg", BIG)]))
    stored = httpx.post(
        f"{server.url}{API}/file/submitForCase",
        content=body,
        headers={"Authorization": f"Bearer {partner_token}", "Content-Type": "application/json"},
        timeout=60,
    )
    assert stored.status_code == 200, stored.text
    return Caller(
        partner_token=partner_token,
        insurer_token=secret_token(server, "insurer-client", world.secret),
        file_id=stored.json()["payload"]["files"][0]["id"],
    )


def _label(call: Call) -> str:
    return f"{call.method} {call.path}"


def test_the_table_names_every_documented_endpoint(server: ServerProcess) -> None:
    """§8: every path of /openapi.json is in the outage table."""
    documented = httpx.get(f"{server.url}/openapi.json").json()["paths"]
    listed = {(call.method, call.path) for call in CALLS}
    expected = {
        (method.upper(), path)
        for path, operations in documented.items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert expected <= listed, expected - listed


def _check(response: httpx.Response, call: Call, needed: bool) -> None:
    where = f"{_label(call)} → {response.status_code} {response.text[:200]}"
    assert response.status_code != 500, where
    if not needed:
        assert response.status_code < 500, where
        return
    assert response.status_code == 503, where
    assert int(response.headers["retry-after"]) > 0, where
    if call.path == "/connect/token":
        assert response.json()["error"] == "temporarily_unavailable", where
        assert response.headers["cache-control"] == "no-store", where
    elif call.path.startswith(API):
        assert_error(response, 503, "GenericError")


def test_database_down_every_endpoint_answers_503_or_keeps_working(
    database_behind_proxy: tuple[ServerProcess, TcpProxy], world: World
) -> None:
    """§3.2: PostgreSQL refusing connections → 503 + Retry-After where it is needed
    (the token endpoint in RFC 6749's form, submissions with and without an
    Idempotency-Key), never 500; the rest keeps answering."""
    server, proxy = database_behind_proxy
    caller = _caller(server, world)
    stored = server.blob_files()
    with httpx.Client(base_url=server.url, timeout=30) as client:
        client.get(f"{API}/whoami", headers={"Authorization": f"Bearer {caller.partner_token}"})
        proxy.cut()
        for call in CALLS:
            _check(call.send(client, world, caller), call, call.path in NEEDS_DATABASE)
    assert server.blob_files() == stored


def test_storage_down_every_endpoint_answers_503_or_keeps_working(
    storage_on_own_s3: tuple[ServerProcess, S3Server], world: World
) -> None:
    """§3.4/§8: the S3 API stopped → 503 + Retry-After for submissions (with and without
    an Idempotency-Key) and /readyz, never 500; tokens and the rest keep working."""
    server, s3 = storage_on_own_s3
    caller = _caller(server, world)
    s3.stop()
    with httpx.Client(base_url=server.url, timeout=60) as client:
        for call in CALLS:
            _check(call.send(client, world, caller), call, call.path in NEEDS_STORAGE)


@pytest.mark.parametrize("key", [False, True], ids=["without key", "with Idempotency-Key"])
def test_a_retry_after_the_database_returns_is_served_as_new(
    database_behind_proxy: tuple[ServerProcess, TcpProxy], world: World, key: bool
) -> None:
    """§3.4: a 503 is not remembered: the same request succeeds once the database is back."""
    server, proxy = database_behind_proxy
    token = secret_token(server, "secret-client", world.secret)
    body = json.dumps(submission(world, world.open_case, [file_entry("again.jpg")]))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = "retry-after-outage"
    url = f"{server.url}{API}/file/submitForCase"
    proxy.cut()
    assert httpx.post(url, content=body, headers=headers, timeout=30).status_code == 503
    proxy.start()
    retried = httpx.post(url, content=body, headers=headers, timeout=30)
    assert retried.status_code == 200, retried.text
    assert "idempotent-replayed" not in retried.headers


def test_storage_down_small_files_are_still_taken(
    storage_on_own_s3: tuple[ServerProcess, S3Server], world: World
) -> None:
    """§3.4: small files are kept with their rows, so they need no blob store: with the
    S3 API stopped, a submission of small files still lands, and can be read back."""
    server, s3 = storage_on_own_s3
    token = secret_token(server, "secret-client", world.secret)
    s3.stop()
    body = json.dumps(submission(world, world.open_case, [file_entry("small.jpg", SMALL)]))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    response = httpx.post(
        f"{server.url}{API}/file/submitForCase", content=body, headers=headers, timeout=30
    )
    assert response.status_code == 200, response.text
    stored = response.json()["payload"]["files"][0]
    copy = server.data_dir / "small-copy.jpg"
    server.cli("files", "get", stored["id"], "-o", str(copy))
    assert copy.read_bytes() == SMALL
