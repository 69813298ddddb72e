"""Suite-wide options: the large (multi-hundred-MiB) tests run only when asked for."""

from __future__ import annotations

import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--run-large",
        action="store_true",
        default=os.environ.get("ECB_FILES_RUN_LARGE") == "1",
        help="also run the tests marked 'large' (or set ECB_FILES_RUN_LARGE=1)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-large"):
        return
    skip = pytest.mark.skip(reason="large test: run with --run-large or ECB_FILES_RUN_LARGE=1")
    for item in items:
        if "large" in item.keywords:
            item.add_marker(skip)
