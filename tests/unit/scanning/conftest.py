"""A real clamd for the scanner adapter's tests (see ``tests/clamd_support.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.clamd_support import ClamdProcess


@pytest.fixture(scope="session")
def clamd_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClamdProcess]:
    process = ClamdProcess(tmp_path_factory.mktemp("clamd"))
    process.start()
    yield process
    process.stop()
