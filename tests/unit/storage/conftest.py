"""Fixtures for the storage tests: a real S3 API over HTTP (see ``tests/s3_support.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.s3_support import S3Sandbox, running_s3_server


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """The URL of one moto S3 server for the whole session, started when first needed."""
    with running_s3_server() as url:
        yield url


@pytest.fixture
def s3(s3_endpoint: str) -> Iterator[S3Sandbox]:
    """A fresh, empty bucket on the test server, removed afterwards."""
    sandbox = S3Sandbox(s3_endpoint)
    try:
        yield sandbox
    finally:
        sandbox.remove()
