"""Local checks refuse what the server would refuse, with the server's own words.

Each case is sent twice: checked locally (nothing goes out) and with
``validate_locally=False`` to a real server. The two answers must agree on
``errorDescription``, ``errorType`` and status (§3.1, §3.2 order, §4, §9), in the JSON
form and in the binary multipart form (§10.1), which names a file's content by its part.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ecb_files_client import (
    ApiError,
    ClientCredentials,
    LocalValidationError,
    SubmitClient,
    TokenCache,
    Transfer,
    Upload,
)

Overrides = Callable[[Any], dict[str, Any]]


def _txt(data: bytes = b"hello", name: str = "a.txt", **extra: Any) -> list[Upload]:
    return [Upload(data, file_name=name, **extra)]


DEFAULT_SERVER_CASES: dict[str, Overrides] = {
    "securityToken not a GUID": lambda w: {"security_token": "not-a-guid"},
    "timestamp not a date": lambda w: {"timestamp": "2024-13-01"},
    "payload.id not a GUID": lambda w: {"case_id": "123"},
    "alias empty": lambda w: {"insurance_company_alias": ""},
    "e-mail without a domain": lambda w: {"user_email": "nobody@localhost"},
    "fileName with a control character": lambda w: {"files": _txt(name="a\x01.txt")},
    "fileName '..'": lambda w: {"files": _txt(name="..")},
    "fileName with a slash": lambda w: {"files": _txt(name="dir/a.txt")},
    "description too long": lambda w: {"files": _txt(description="d" * 4001)},
    "empty file": lambda w: {"files": _txt(b"")},
    "empty second file after a bad description (order)": lambda w: {
        "files": [*_txt(b""), *_txt(name="b.txt", description="d" * 4001)]
    },
    "extension not allowed": lambda w: {"files": _txt(name="virus.exe")},
    "no extension": lambda w: {"files": _txt(name="README")},
    "dot-file": lambda w: {"files": _txt(name=".bashrc")},
    "content type not accepted": lambda w: {"files": _txt(name="a.jpg", content_type="text/plain")},
    "second file bad, first fine": lambda w: {"files": [*_txt(), *_txt(name="b.exe")]},
    "field fault beats file type (order)": lambda w: {
        "user_email": "x",
        "files": _txt(name="virus.exe"),
    },
    "Idempotency-Key with a space": lambda w: {"idempotency_key": "has space"},
}

SMALL_SERVER_CASES: dict[str, Overrides] = {
    "file over maxFileBytes": lambda w: {"files": _txt(b"x" * 1001, name="big.txt")},
    "more than maxFilesPerRequest": lambda w: {
        "files": [Upload(b"x", file_name=f"{i}.txt") for i in range(4)]
    },
    # Non-ASCII is escaped (\\u00f8, 6 bytes a character): 3 × 4000 of them pass 20000.
    "body over maxRequestBytes": lambda w: {
        "files": [Upload(b"x", file_name=f"{i}.txt", description="ø" * 4000) for i in range(3)]
    },
    "fileName over maxFileNameChars": lambda w: {"files": _txt(name="n" * 497 + ".txt")},
}


def _answers(
    server: Any,
    world: Any,
    credentials: ClientCredentials,
    overrides: dict[str, Any],
    transfer: Transfer,
) -> tuple[LocalValidationError, ApiError]:
    arguments: dict[str, Any] = {
        "case_id": world.open_case,
        "insurance_company_alias": "company",
        "user_email": world.email,
        "files": _txt(),
        "security_token": world.security_token,
    }
    arguments.update(overrides)
    case_id = arguments.pop("case_id")
    answers: list[Exception] = []
    for validate_locally in (True, False):
        client = SubmitClient(
            server.url,
            credentials,
            validate_locally=validate_locally,
            token_cache=TokenCache(),
            transfer=transfer,
        )
        with client, pytest.raises((LocalValidationError, ApiError)) as caught:
            client.submit_to_case(case_id, **arguments)
        answers.append(caught.value)
    local, remote = answers
    assert isinstance(local, LocalValidationError), local
    assert isinstance(remote, ApiError), remote
    return local, remote


def _same_words(local: LocalValidationError, remote: ApiError) -> None:
    assert local.description == remote.description
    assert (local.error_type, local.status) == (remote.error_type, remote.status)


TRANSFERS = pytest.mark.parametrize("transfer", ["json", "multipart"])


@TRANSFERS
@pytest.mark.parametrize("case", DEFAULT_SERVER_CASES)
def test_local_refusal_matches_the_server(
    case: str, server: Any, world: Any, secret_credentials: ClientCredentials, transfer: Transfer
) -> None:
    local, remote = _answers(
        server, world, secret_credentials, DEFAULT_SERVER_CASES[case](world), transfer
    )
    _same_words(local, remote)


@TRANSFERS
@pytest.mark.parametrize("case", SMALL_SERVER_CASES)
def test_local_refusal_at_the_servers_limits_matches_the_server(
    case: str,
    small_server: Any,
    world: Any,
    secret_credentials: ClientCredentials,
    transfer: Transfer,
) -> None:
    """The limits come from ``GET …/file/limits``: the small server's, not the defaults."""
    local, remote = _answers(
        small_server, world, secret_credentials, SMALL_SERVER_CASES[case](world), transfer
    )
    _same_words(local, remote)


def test_local_refusal_sends_nothing(
    server: Any, world: Any, secret_credentials: ClientCredentials
) -> None:
    """A refused submission makes no request but the public limits lookup."""
    import httpx

    requests: list[str] = []
    http = httpx.Client(event_hooks={"request": [lambda r: requests.append(r.url.path)]})
    client = SubmitClient(
        server.url,
        secret_credentials,
        security_token=world.security_token,
        http=http,
        token_cache=TokenCache(),
    )
    with http, client, pytest.raises(LocalValidationError):
        client.submit_to_case(
            world.open_case,
            insurance_company_alias="company",
            user_email=world.email,
            files=_txt(name="virus.exe"),
        )
    assert requests == ["/ecx/host/api/integration/v1/file/limits"]
