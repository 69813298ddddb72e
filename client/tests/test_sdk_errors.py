"""Every errorType of the contract (§3.3) surfaces as its exception class in the SDK and
as its documented exit status in ``ecb-files-submit`` — plus the client's own errors."""

from __future__ import annotations

import json
import socket
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from client_support import Scripted, ScriptedServer, closed_port, envelope, run_cli
from ecb_files_client import (
    ClaimIsClosed,
    ClaimNotFound,
    ClientCredentials,
    ClientSecret,
    DamageNotificationMergedToClaim,
    DamageNotificationNotFound,
    EcbClientError,
    Forbidden,
    GenericError,
    IdempotencyKeyReused,
    InvalidRequest,
    InvalidSecurityToken,
    LocalValidationError,
    RequestInProgress,
    RetryPolicy,
    SubmitClient,
    TokenCache,
    TokenClient,
    TokenError,
    TooManyRequests,
    TransportError,
    Unauthorized,
    UserNotFound,
)
from ecb_files_client._cli.exit_codes import ExitCode


@dataclass(frozen=True)
class Scenario:
    """One way to fail, described once and played through the SDK and the CLI."""

    error: type[EcbClientError]
    exit_code: ExitCode
    error_type: str
    endpoint: str = "case"
    target: str = "open_case"  # an attribute of World
    url: str = "server"  # server | small | scripted | closed
    client_id: str = "jwt-client"
    secret: str | None = None  # a client secret instead of jwt-client's key
    scope: str | None = None
    token_from: str | None = None  # "small": tokens of another server
    email: str | None = None
    security_token: str | None = None
    timestamp: str | None = None
    file_name: str = "a.txt"
    file_bytes: int = 5
    local_checks: bool = True
    idempotency_key: str | None = None
    setup: str | None = None  # key_used | key_in_flight
    answer: Scripted | None = None


SCENARIOS = {
    "Unauthorized": Scenario(Unauthorized, ExitCode.AUTH, "Unauthorized", token_from="small"),
    "Forbidden": Scenario(
        Forbidden,
        ExitCode.AUTH,
        "Forbidden",
        client_id="read-only-client",
        secret="world",
        scope="platform-service-provider:read",
    ),
    "InvalidSecurityToken": Scenario(
        InvalidSecurityToken, ExitCode.AUTH, "InvalidSecurityToken", security_token="other"
    ),
    "InvalidRequest": Scenario(
        InvalidRequest,
        ExitCode.REFUSED,
        "InvalidRequest",
        timestamp="2024-13-01",
        local_checks=False,
    ),
    "UserNotFound": Scenario(
        UserNotFound, ExitCode.NOT_FOUND, "UserNotFound", email="nobody@example.com"
    ),
    "ClaimNotFound": Scenario(
        ClaimNotFound, ExitCode.NOT_FOUND, "ClaimNotFound", target="unassigned_case"
    ),
    "DamageNotificationNotFound": Scenario(
        DamageNotificationNotFound,
        ExitCode.NOT_FOUND,
        "DamageNotificationNotFound",
        endpoint="dn",
        target="other_partner_dn",
    ),
    "ClaimIsClosed": Scenario(
        ClaimIsClosed, ExitCode.TARGET_CLOSED, "ClaimIsClosed", target="closed_case"
    ),
    "DamageNotificationMergedToClaim": Scenario(
        DamageNotificationMergedToClaim,
        ExitCode.TARGET_CLOSED,
        "DamageNotificationMergedToClaim",
        endpoint="dn",
        target="merged_dn",
    ),
    "IdempotencyKeyReused": Scenario(
        IdempotencyKeyReused, ExitCode.REFUSED, "IdempotencyKeyReused", setup="key_used"
    ),
    "RequestInProgress": Scenario(
        RequestInProgress, ExitCode.TEMPORARY, "RequestInProgress", setup="key_in_flight"
    ),
    "TooManyRequests": Scenario(
        TooManyRequests,
        ExitCode.TEMPORARY,
        "TooManyRequests",
        url="scripted",
        answer=Scripted(429, envelope("TooManyRequests", "slow down"), {"Retry-After": "0"}),
    ),
    "GenericError 415": Scenario(
        GenericError, ExitCode.REFUSED, "GenericError", file_name="a.exe", local_checks=False
    ),
    "GenericError 413": Scenario(
        GenericError,
        ExitCode.REFUSED,
        "GenericError",
        url="small",
        file_bytes=1001,
        local_checks=False,
    ),
    "GenericError 503": Scenario(
        GenericError,
        ExitCode.TEMPORARY,
        "GenericError",
        url="scripted",
        answer=Scripted(503, envelope("GenericError", "database down"), {"Retry-After": "0"}),
    ),
    "token endpoint refuses": Scenario(
        TokenError, ExitCode.AUTH, "TokenError", client_id="secret-client", secret="wrong"
    ),
    "connection refused": Scenario(
        TransportError, ExitCode.TEMPORARY, "TransportError", url="closed"
    ),
    "local validation": Scenario(
        LocalValidationError, ExitCode.LOCAL_VALIDATION, "GenericError", file_name="a.exe"
    ),
}


@dataclass
class Played:
    """A scenario made concrete: URLs, credentials, arguments."""

    url: str
    credentials: ClientCredentials
    target: str
    security_token: str
    email: str
    file: Path
    scenario: Scenario
    idempotency_key: str | None


@contextmanager
def _arranged(
    scenario: Scenario, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[Played]:
    world = request.getfixturevalue("world")
    server = request.getfixturevalue("server")
    jwt_auth = request.getfixturevalue("jwt_credentials").auth
    with ExitStack() as stack:
        url = server.url
        if scenario.url == "small":
            url = request.getfixturevalue("small_server").url
        elif scenario.url == "scripted":
            assert scenario.answer is not None
            url = stack.enter_context(ScriptedServer([scenario.answer])).url
        elif scenario.url == "closed":
            url = f"http://127.0.0.1:{closed_port()}"
        secret = world.secret if scenario.secret == "world" else scenario.secret
        auth = ClientSecret(secret) if secret else jwt_auth
        token_endpoint = None
        if scenario.token_from == "small":
            token_endpoint = request.getfixturevalue("small_server").url + "/connect/token"
        elif scenario.url == "scripted":
            token_endpoint = url + "/connect/token"
        credentials = ClientCredentials(
            scenario.client_id,
            auth,
            scopes=tuple((scenario.scope or "platform-service-provider:write").split()),
            token_endpoint=token_endpoint,
        )
        key = scenario.idempotency_key
        if scenario.setup is not None:
            key = f"{scenario.setup}-{uuid.uuid4()}"
        file = tmp_path / scenario.file_name
        file.write_bytes(b"x" * scenario.file_bytes)
        played = Played(
            url=url,
            credentials=credentials,
            target=getattr(world, scenario.target),
            security_token=(
                world.other_security_token
                if scenario.security_token == "other"
                else world.security_token
            ),
            email=scenario.email or world.email,
            file=file,
            scenario=scenario,
            idempotency_key=key,
        )
        if scenario.setup == "key_used":
            _submit(replace(played, file=_other_file(tmp_path)))
        elif scenario.setup == "key_in_flight":
            stack.enter_context(_held_in_flight(server, played))
        yield played


def _other_file(tmp_path: Path) -> Path:
    other = tmp_path / "first.txt"
    other.write_bytes(b"the first body")
    return other


@contextmanager
def _held_in_flight(server: Any, played: Played) -> Iterator[None]:
    """A request with the key whose body is still arriving: the key is in flight."""
    credentials = replace(played.credentials, issuer=server.url)
    with TokenClient(credentials, cache=TokenCache()) as tokens:
        token = tokens.get_token().value
    head = (
        "POST /ecx/host/api/integration/v1/file/submitForCase HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{server.port}\r\n"
        f"Authorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\n"
        "Content-Length: 100000\r\n"
        f"Idempotency-Key: {played.idempotency_key}\r\n\r\n"
        '{"securityToken":'
    )
    with socket.create_connection(("127.0.0.1", server.port)) as held:
        held.sendall(head.encode())
        yield


def _submit(played: Played) -> None:
    scenario = played.scenario
    client = SubmitClient(
        played.url,
        played.credentials,
        security_token=played.security_token,
        validate_locally=scenario.local_checks,
        retry=RetryPolicy(max_attempts=2, initial_delay=0.05),
        token_cache=TokenCache(),
    )
    with client:
        submit = (
            client.submit_to_case
            if scenario.endpoint == "case"
            else client.submit_to_damage_notification
        )
        submit(
            played.target,
            insurance_company_alias="company",
            user_email=played.email,
            files=[played.file],
            timestamp=scenario.timestamp,
            idempotency_key=played.idempotency_key,
        )


def _cli(played: Played, env: dict[str, str], key_files: tuple[Path, Path]) -> Any:
    scenario = played.scenario
    env = {k: v for k, v in env.items() if k not in ("ECB_SUBMIT_KEY", "ECB_SUBMIT_CERT")}
    credentials = played.credentials
    env.update(
        ECB_SUBMIT_URL=played.url,
        ECB_SUBMIT_CLIENT_ID=credentials.client_id,
        ECB_SUBMIT_SCOPE=" ".join(credentials.scopes),
        ECB_SUBMIT_SECURITY_TOKEN=played.security_token,
        ECB_SUBMIT_EMAIL=played.email,
    )
    if isinstance(credentials.auth, ClientSecret):
        env["ECB_SUBMIT_CLIENT_SECRET"] = credentials.auth.secret
    else:
        env.update(ECB_SUBMIT_KEY=str(key_files[0]), ECB_SUBMIT_CERT=str(key_files[1]))
    if credentials.token_endpoint:
        env["ECB_SUBMIT_TOKEN_ENDPOINT"] = credentials.token_endpoint
    args = [scenario.endpoint, "--id", played.target, "--json", "--max-attempts", "2"]
    if not scenario.local_checks:
        args.append("--no-local-checks")
    if scenario.timestamp:
        args += ["--timestamp", scenario.timestamp]
    if played.idempotency_key:
        args += ["--idempotency-key", played.idempotency_key]
    return run_cli(*args, str(played.file), env=env)


@pytest.mark.parametrize("name", SCENARIOS)
def test_each_error_surfaces_as_its_exception_and_exit_code(
    name: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    cli_env: dict[str, str],
    key_files: tuple[Path, Path],
) -> None:
    scenario = SCENARIOS[name]
    with _arranged(scenario, request, tmp_path) as played:
        with pytest.raises(EcbClientError) as caught:
            _submit(played)
        assert type(caught.value) is scenario.error, caught.value
        if scenario.error is not LocalValidationError:
            assert caught.value.attempts >= 1
        done = _cli(played, cli_env, key_files)
    assert done.returncode == scenario.exit_code, done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["success"] is False
    assert outcome["errorType"] == scenario.error_type
    assert outcome["exitCode"] == scenario.exit_code
    assert done.stderr.strip(), "a failure is also explained on stderr"


def test_a_merged_damage_notification_names_its_case(
    client: SubmitClient, world: Any, tmp_path: Path
) -> None:
    (tmp_path / "a.txt").write_bytes(b"x")
    with pytest.raises(DamageNotificationMergedToClaim) as caught:
        client.submit_to_damage_notification(
            world.merged_dn,
            insurance_company_alias="company",
            user_email=world.email,
            files=[tmp_path / "a.txt"],
        )
    assert caught.value.case_id == world.open_case
    assert caught.value.request_id


def test_missing_settings_are_a_usage_error(cli_env: dict[str, str], tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"x")
    env = {k: v for k, v in cli_env.items() if k != "ECB_SUBMIT_EMAIL"}
    done = run_cli("case", "--id", "x", str(tmp_path / "a.txt"), env=env)
    assert done.returncode == ExitCode.USAGE
    assert "--email is required (or set ECB_SUBMIT_EMAIL)" in done.stderr
