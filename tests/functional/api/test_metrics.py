"""``GET /metrics`` of a real server (§12.3): Prometheus text, parsed with the official
parser; counts taken before and after, so other tests' requests do not matter."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.functional.conftest import Api, assert_error, file_entry, secret_token, submission
from tests.functional.server import ServerProcess
from tests.functional.world import World

API = "/ecx/host/api/integration/v1"
FILE_ROUTE = f"{API}/file/{{fileId}}"
CASE_ROUTE = f"{API}/file/submitForCase"


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(server: ServerProcess) -> Samples:
    """Every sample of ``/metrics``: (name, labels) → value."""
    response = httpx.get(f"{server.url}/metrics", timeout=30)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_requests_are_counted_by_route_template_and_status(
    server: ServerProcess, world: World
) -> None:
    """§12.3: two file ids are one route (its template, not the raw path)."""
    token = secret_token(server, "insurer-client", world.secret)
    headers = {"Authorization": f"Bearer {token}"}
    before = scrape(server)
    for n in (1, 2):
        missing = f"00000000-0000-4000-8000-00000000f00{n}"
        assert httpx.get(f"{server.url}{API}/file/{missing}", headers=headers).status_code == 404
    after = scrape(server)
    labels = {"route": FILE_ROUTE, "method": "GET", "status": "404"}
    assert (
        value(after, "ecb_files_requests_total", **labels)
        - value(before, "ecb_files_requests_total", **labels)
        == 2
    )
    timed = {"route": FILE_ROUTE, "method": "GET"}
    assert (
        value(after, "ecb_files_request_seconds_count", **timed)
        - value(before, "ecb_files_request_seconds_count", **timed)
        == 2
    )
    assert not any(f"00000000f00{n}" in str(key) for key in after for n in (1, 2))


def test_an_unknown_path_is_counted_as_unmatched(server: ServerProcess) -> None:
    """§12.3: unknown paths never become labels of their own."""
    before = scrape(server)
    assert httpx.get(f"{server.url}/no/such/path-{os.getpid()}").status_code == 404
    after = scrape(server)
    labels = {"route": "unmatched", "method": "GET", "status": "404"}
    assert (
        value(after, "ecb_files_requests_total", **labels)
        - value(before, "ecb_files_requests_total", **labels)
        == 1
    )


def test_files_stored_and_bytes_received_are_counted(api: Api, world: World) -> None:
    """§12.3: a submission of two files adds 2 files, their decoded bytes, and the
    request body's bytes."""
    files = [
        file_entry("a.txt", b"a" * 300, contentType="text/plain"),
        file_entry("b.txt", b"b" * 700, contentType="text/plain"),
    ]
    body = json.dumps(submission(world, world.open_case, files)).encode()
    before = scrape(api.server)
    assert api.case(body).status_code == 200
    after = scrape(api.server)
    endpoint = {"endpoint": "submitForCase"}
    assert (
        value(after, "ecb_files_files_stored_total", **endpoint)
        - value(before, "ecb_files_files_stored_total", **endpoint)
        == 2
    )
    assert (
        value(after, "ecb_files_stored_bytes_total", **endpoint)
        - value(before, "ecb_files_stored_bytes_total", **endpoint)
        == 1000
    )
    received = {"route": CASE_ROUTE}
    assert value(after, "ecb_files_received_bytes_total", **received) - value(
        before, "ecb_files_received_bytes_total", **received
    ) == len(body)


def test_errors_are_counted_by_error_type(server: ServerProcess) -> None:
    """§12.3: a submission without a token is one ``Unauthorized`` error (401)."""
    before = scrape(server)
    assert httpx.post(f"{server.url}{CASE_ROUTE}", content=b"{}").status_code == 401
    after = scrape(server)
    labels = {"error_type": "Unauthorized", "status": "401"}
    assert (
        value(after, "ecb_files_errors_total", **labels)
        - value(before, "ecb_files_errors_total", **labels)
        == 1
    )


def test_tokens_issued_and_refused_are_counted(server: ServerProcess, world: World) -> None:
    """§12.3: one token issued, one refused as ``invalid_client``."""
    before = scrape(server)
    secret_token(server, "secret-client", world.secret)
    refused = httpx.post(
        f"{server.url}/connect/token",
        data={"grant_type": "client_credentials"},
        auth=("secret-client", "not-the-secret"),
    )
    assert refused.status_code == 401
    after = scrape(server)
    issued = {"outcome": "issued", "error": ""}
    invalid = {"outcome": "refused", "error": "invalid_client"}
    assert (
        value(after, "ecb_files_tokens_total", **issued)
        - value(before, "ecb_files_tokens_total", **issued)
        == 1
    )
    assert (
        value(after, "ecb_files_tokens_total", **invalid)
        - value(before, "ecb_files_tokens_total", **invalid)
        == 1
    )


def test_database_and_storage_calls_are_timed(api: Api, world: World) -> None:
    """§12.3: a file too large to keep with its row is written to the blob store: its
    publish and the commit show in the latency histograms."""
    body = submission(
        world, world.open_case, [file_entry("large.txt", b"L" * 200_000, contentType="text/plain")]
    )
    before = scrape(api.server)
    assert api.case(body).status_code == 200
    after = scrape(api.server)
    for name, operation in (
        ("ecb_files_db_seconds_count", "write"),
        ("ecb_files_storage_seconds_count", "publish"),
        ("ecb_files_storage_seconds_count", "seal"),
    ):
        grew = value(after, name, operation=operation) - value(before, name, operation=operation)
        assert grew >= 1, (name, operation)


def test_metrics_off_removes_the_endpoint(tmp_path: Path) -> None:
    """§12.3: ``ECB_FILES_METRICS=off`` → ``/metrics`` is an unknown path (404)."""
    server = ServerProcess(tmp_path / "data", {"ECB_FILES_METRICS": "off"})
    server.start()
    try:
        response = httpx.get(f"{server.url}/metrics")
        assert_error(response, 404, "GenericError", "/metrics")
        assert "/metrics" not in httpx.get(f"{server.url}/openapi.json").json()["paths"]
    finally:
        server.stop()


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[tuple[ServerProcess, Path]]:
    shared = tmp_path / "metrics"
    shared.mkdir()
    (shared / "counter_999999.db").write_bytes(b"left by an earlier run")
    server = ServerProcess(tmp_path / "data", {"PROMETHEUS_MULTIPROC_DIR": str(shared)})
    server.start("--workers", "2")
    yield server, shared
    server.stop()


def test_with_two_workers_every_scrape_sums_both(two_workers: tuple[ServerProcess, Path]) -> None:
    """§12.3: requests answered by either worker are in every scrape's count, whichever
    worker answers it; the shared directory was emptied of an earlier run's files."""
    server, shared = two_workers
    assert not (shared / "counter_999999.db").exists()
    sent = 0
    while len(list(shared.glob("counter_*.db"))) < 2 and sent < 400:
        # A new connection each: the kernel spreads them over both workers.
        assert httpx.get(f"{server.url}/healthz").status_code == 200
        sent += 1
    assert len(list(shared.glob("counter_*.db"))) == 2, "one worker answered everything"
    labels = {"route": "/healthz", "method": "GET", "status": "200"}
    # The start-up check's requests (ServerProcess.start) count too: at least one.
    counts = {value(scrape(server), "ecb_files_requests_total", **labels) for _ in range(8)}
    assert len(counts) == 1, counts
    assert counts.pop() >= sent + 1
