"""The interactive API docs render in a real browser, with no CDN (§9 robustness)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.functional.server import ServerProcess

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (.ci/run installs it)")
def test_docs_page_renders_every_endpoint_offline(server: ServerProcess, tmp_path: Path) -> None:
    """/docs loads its scripts from this service and lists the operations."""
    assert CHROMIUM is not None
    dom = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            f"{server.url}/docs",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    for path in (
        "/connect/token",
        "/ecx/host/api/integration/v1/file/submitForCase",
        "/ecx/host/api/integration/v1/file/submitForDamageNotification",
        "/ecx/host/api/integration/v1/file/contentTypes",
    ):
        assert f'data-path="{path}"' in dom, path
    assert "Authorize" in dom  # the OAuth2 client-credentials scheme is offered
    assert "cdn.jsdelivr" not in dom
