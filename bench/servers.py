"""The servers under test, started as real processes on free loopback ports.

``ProductServer`` is ``ecb-files serve`` on the embedded default (SQLite + local disk) in a
fresh data directory, loaded with ``FIXTURE`` and asked for a token the way a partner
would. ``NaiveServer`` is ``baselines/naive_app.py`` under uvicorn; ``NaiveFsyncServer``
is ``baselines/naive_fsync_app.py`` (durable: every blob fsync'd). All answer the same
URL paths, so every measurement drives them identically.
"""

from __future__ import annotations

import abc
import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent

SUBMIT_PATH = "/ecx/host/api/integration/v1/file/submitForCase"
LIMITS_PATH = "/ecx/host/api/integration/v1/file/limits"
WHOAMI_PATH = "/ecx/host/api/integration/v1/whoami"

PARTNER_ID = "2b1f0e6c-0000-4000-8000-00000000be01"
SECURITY_TOKEN = "9e8d7c6b-0000-4000-8000-00000000be01"
CASE_ID = "5d3c2b1a-0000-4000-8000-00000000be01"
EMAIL = "bench@example.com"
CLIENT_ID = "bench-client"
CLIENT_SECRET = "bench-secret-not-for-production"
WRITE_SCOPE = "platform-service-provider:write"

FIXTURE = {
    "insuranceCompanies": [{"alias": "company", "name": "Company Insurance"}],
    "servicePartners": [
        {
            "id": PARTNER_ID,
            "name": "Bench Partner",
            "securityToken": SECURITY_TOKEN,
            "insuranceCompanies": ["company"],
            "employees": [{"email": EMAIL, "active": True}],
            "clients": [
                {"clientId": CLIENT_ID, "scopes": [WRITE_SCOPE], "clientSecret": CLIENT_SECRET}
            ],
        }
    ],
    "cases": [
        {
            "id": CASE_ID,
            "insuranceCompany": "company",
            "number": "CN-BENCH",
            "status": "open",
            "servicePartners": [PARTNER_ID],
        }
    ],
    "damageNotifications": [],
}

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class ServerError(RuntimeError):
    """A server did not start, or a setup step against it failed."""


class _Server(abc.ABC):
    """One server process group; subclasses say how to launch it."""

    kind = "server"

    def __init__(self, data_dir: Path, workers: int) -> None:
        self.data_dir = data_dir
        self.workers = workers
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log_path = data_dir.parent / f"{data_dir.name}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.token = ""

    @property
    def label(self) -> str:
        return f"{self.kind} --workers {self.workers}"

    @property
    def pid(self) -> int:
        if self.process is None:
            raise ServerError(f"{self.label} is not running")
        return self.process.pid

    @abc.abstractmethod
    def _command(self) -> list[str]:
        """The server's command line."""

    def _env(self) -> dict[str, str]:
        return dict(os.environ)

    def _prepare(self) -> None:  # noqa: B027 — an optional hook, empty by default
        """Runs before the server process starts."""

    def _after_start(self) -> None:  # noqa: B027 — an optional hook, empty by default
        """Runs once the server answers /healthz."""

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._prepare()
        with self.log_path.open("ab") as log:
            # Its own session, so stop() can signal the supervisor and its workers as one.
            self.process = subprocess.Popen(
                self._command(),
                env=self._env(),
                cwd=self.data_dir,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_healthy()
        self._after_start()

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise ServerError(f"{self.label} exited on start:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.05)
        raise ServerError(f"{self.label} did not answer /healthz within 60 s")

    def stop(self) -> int | None:
        """Stops the server (SIGTERM, then SIGKILL after 30 s); returns its exit code."""
        if self.process is None:
            return None
        process, self.process = self.process, None
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        return process.returncode

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def log_problems(self) -> list[str]:
        """Lines of the server log that speak of an error (tracebacks, 5xx, criticals)."""
        if not self.log_path.exists():
            return []
        markers = ("Traceback", "ERROR", "CRITICAL", '" 500', '" 503', '" 507')
        lines = self.log_path.read_text(errors="replace").splitlines()
        return [line for line in lines if any(marker in line for marker in markers)]


# The §12.2 limits stay on, high enough that one client driving the small load is never
# refused: what is measured is their cost. Each is overridden by the same variable in
# the environment (``=off`` for the comparison in README.md).
BENCH_RATE_LIMITS = {
    "ECB_FILES_RATE_LIMIT": "100000/minute",
    "ECB_FILES_BYTE_RATE_LIMIT": "10000GiB/hour",
    "ECB_FILES_READ_RATE_LIMIT": "1000000/minute",
}


class ProductServer(_Server):
    """``ecb-files serve`` on a fresh data directory, fixtures loaded, a token in hand."""

    kind = "ecb-files"
    fixture: dict[str, Any] = FIXTURE

    def _cli(self) -> list[str]:
        return [sys.executable, "-m", "ecb_files.cli.main"]

    def _env(self) -> dict[str, str]:
        return {
            **BENCH_RATE_LIMITS,
            **os.environ,
            "ECB_FILES_DATA_DIR": str(self.data_dir),
            "ECB_FILES_PUBLIC_URL": self.url,
        }

    def _command(self) -> list[str]:
        command = [*self._cli(), "serve", "--host", HOST, "--port", str(self.port)]
        return [*command, "--workers", str(self.workers)]

    def _prepare(self) -> None:
        fixture = self.data_dir.parent / f"{self.data_dir.name}-fixture.json"
        fixture.write_text(json.dumps(self.fixture))
        loaded = subprocess.run(
            [*self._cli(), "load", str(fixture)],
            env=self._env(),
            cwd=self.data_dir,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if loaded.returncode != 0:
            raise ServerError(f"ecb-files load failed: {loaded.stderr.strip()}")

    def _after_start(self) -> None:
        self.token = fetch_token(self.url)


class NaiveServer(_Server):
    """The straightforward FastAPI implementation of ``baselines/naive_app.py``."""

    kind = "naive"

    def _env(self) -> dict[str, str]:
        return {**os.environ, "NAIVE_DATA_DIR": str(self.data_dir)}

    def _prepare(self) -> None:
        initialised = subprocess.run(
            [sys.executable, str(BENCH_DIR / "baselines" / "naive_app.py"), "--init"],
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if initialised.returncode != 0:
            raise ServerError(f"naive baseline --init failed: {initialised.stderr.strip()}")

    def _command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "naive_app:app",
            "--app-dir",
            str(BENCH_DIR / "baselines"),
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--no-server-header",
            "--log-level",
            "warning",
        ]

    def _after_start(self) -> None:
        # The baseline only checks that a Bearer header is present.
        self.token = "naive-baseline-accepts-any-bearer"


class NaiveFsyncServer(_Server):
    """The durable naive baseline of ``baselines/naive_fsync_app.py``.

    uvicorn with uvloop and httptools named explicitly (what ecb-files gets from uvicorn's
    ``auto``), no access log (ecb-files writes its own in batches off the event loop).
    """

    kind = "naive-fsync"
    TOKEN = "naive-fsync-static-token"

    def _env(self) -> dict[str, str]:
        return {**os.environ, "NAIVE_DATA_DIR": str(self.data_dir), "NAIVE_TOKEN": self.TOKEN}

    def _prepare(self) -> None:
        initialised = subprocess.run(
            [sys.executable, str(BENCH_DIR / "baselines" / "naive_fsync_app.py"), "--init"],
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if initialised.returncode != 0:
            raise ServerError(f"naive-fsync --init failed: {initialised.stderr.strip()}")
        self.init_output = initialised.stdout.strip()

    def _command(self) -> list[str]:
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "naive_fsync_app:app",
            "--app-dir",
            str(BENCH_DIR / "baselines"),
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-server-header",
            "--no-access-log",
            "--log-level",
            "warning",
        ]

    def _after_start(self) -> None:
        self.token = self.TOKEN


def answers(url: str, token: str) -> bool:
    """Whether a GET of ``url`` with the bearer token is answered 200 (the route exists)."""
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return bool(answer.status == 200)
    except urllib.error.HTTPError:
        return False


def fetch_token(url: str, scope: str = WRITE_SCOPE) -> str:
    """An access token by client_secret_basic, as a partner's backend gets one (§2)."""
    basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    request = urllib.request.Request(
        f"{url}/connect/token",
        data=f"grant_type=client_credentials&scope={scope}".encode(),
        headers={
            "Authorization": f"Basic {basic}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            document = json.loads(answer.read())
    except urllib.error.HTTPError as error:
        raise ServerError(f"POST /connect/token: {error.code} {error.read()[:500]!r}") from error
    token = document.get("access_token")
    if not isinstance(token, str):
        raise ServerError(f"POST /connect/token gave no access_token: {document}")
    return token
