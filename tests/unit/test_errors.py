"""The error tree (``ecb_files.errors``): the failure envelope of §3.3, and the token
endpoint's RFC 6749 answers for the service's errors (§3.2 "Failures that are not about
the request")."""

from __future__ import annotations

import json

import pytest

from ecb_files.errors import (
    ClaimNotFound,
    DatabaseUnavailable,
    EcbError,
    GenericError,
    InvalidRequest,
    MalwareDetected,
    OAuthError,
    PayloadTooLarge,
    RequestTimeout,
    ScannerUnavailable,
    StorageFull,
    StorageUnavailable,
)

SECRET_DETAIL = "postgresql://ecb:hunter2@db.internal:5432/ecb: connection refused"


@pytest.mark.parametrize(
    ("error", "status", "error_type"),
    [
        pytest.param(InvalidRequest("payload.id: must be a GUID"), 400, "InvalidRequest", id="400"),
        pytest.param(ClaimNotFound("payload.id: no case"), 404, "ClaimNotFound", id="404"),
        pytest.param(PayloadTooLarge("too large"), 413, "GenericError", id="413"),
        pytest.param(GenericError("internal error"), 500, "GenericError", id="500"),
        pytest.param(DatabaseUnavailable(SECRET_DETAIL), 503, "GenericError", id="503"),
        pytest.param(
            MalwareDetected("payload.files[0] ('a.txt'): found", signature="Eicar"),
            422,
            "MalwareDetected",
            id="422-malware",
        ),
        pytest.param(
            ScannerUnavailable("the malware scanner is unavailable", detail="clamd: refused"),
            503,
            "GenericError",
            id="503-scanner",
        ),
    ],
)
def test_the_envelope_has_exactly_the_three_members(
    error: EcbError, status: int, error_type: str
) -> None:
    """§3.3 and §9: every refusal, whatever its status, is exactly
    ``{"success": false, "errorDescription", "errorType"}``."""
    body = json.loads(error.envelope())
    assert body == {
        "success": False,
        "errorDescription": error.description,
        "errorType": error_type,
    }
    assert list(body) == ["success", "errorDescription", "errorType"]
    assert error.status == status


def test_the_envelope_is_utf8_json_that_keeps_non_ascii_characters() -> None:
    """§3.3: the body is JSON (UTF-8); a description quoting a file name or an e-mail
    keeps its characters as they are, not as ``\\u`` escapes."""
    error = InvalidRequest("payload.files[0] ('skæring ø.jpg'): fil ✓")
    raw = error.envelope()
    assert isinstance(raw, bytes)
    assert "skæring ø.jpg".encode() in raw
    assert "✓".encode() in raw
    assert b"\\u" not in raw
    assert json.loads(raw.decode("utf-8"))["errorDescription"] == error.description


def test_a_database_outage_at_the_token_endpoint_is_temporarily_unavailable() -> None:
    """§3.2: with the database down, the token endpoint answers
    ``503 {"error": "temporarily_unavailable"}`` in RFC 6749's form, with Retry-After."""
    outage = DatabaseUnavailable(SECRET_DETAIL)
    oauth = OAuthError.from_ecb_error(outage)
    assert oauth.error == "temporarily_unavailable"
    assert oauth.status == 503
    assert oauth.retry_after == outage.retry_after
    assert oauth.retry_after is not None
    assert oauth.retry_after > 0
    assert oauth.description == outage.description
    assert "hunter2" not in oauth.description


def test_a_storage_outage_at_the_token_endpoint_is_temporarily_unavailable() -> None:
    """§3.2: every outage (a 503 of the service) is temporarily_unavailable."""
    oauth = OAuthError.from_ecb_error(StorageUnavailable("local storage could not write"))
    assert (oauth.error, oauth.status) == ("temporarily_unavailable", 503)
    assert oauth.retry_after is not None


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(GenericError("internal error (KeyError)"), id="generic"),
        pytest.param(StorageFull("local storage is full"), id="storage-full"),
    ],
)
def test_any_other_error_at_the_token_endpoint_is_server_error(error: EcbError) -> None:
    """§3.2: what is not an outage is RFC 6749's ``server_error``, without Retry-After."""
    oauth = OAuthError.from_ecb_error(error)
    assert oauth.error == "server_error"
    assert oauth.status == error.status
    assert oauth.retry_after is None
    assert oauth.description == error.description


def test_a_body_cut_off_at_the_token_endpoint_is_invalid_request() -> None:
    """§9 Robustness: a form body too slow or idle (408) is the client's fault: RFC 6749's
    ``invalid_request``, keeping its status and description."""
    error = RequestTimeout("the request body arrived too slowly", reason="body_too_slow")
    oauth = OAuthError.from_ecb_error(error)
    assert oauth.error == "invalid_request"
    assert oauth.status == 408
    assert oauth.description == error.description


def test_a_database_outage_never_tells_the_caller_its_detail() -> None:
    """§3.2: a 503 says which dependency is down — never its address: the ``detail``
    (URL, driver message) stays out of the description and the envelope."""
    outage = DatabaseUnavailable(SECRET_DETAIL)
    assert outage.detail == SECRET_DETAIL
    assert "database" in outage.description
    for leaked in (SECRET_DETAIL, "hunter2", "db.internal", "connection refused"):
        assert leaked not in outage.description
        assert leaked.encode() not in outage.envelope()
        assert leaked not in str(outage)
    assert outage.status == 503
    assert outage.headers() == {"Retry-After": str(outage.retry_after)}
