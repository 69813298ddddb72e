"""A real ``ecb-files serve`` process on a free port, for black-box tests over HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from tests.functional.stack import STACK, Deployment

CLI = [sys.executable, "-m", "ecb_files.cli.main"]

# The §12.2 limits are on in every test server, but loose: the suite makes more failed
# client authentications from 127.0.0.1 (and, on a fast machine, more submissions per
# minute) than the defaults allow one caller. The rate-limit tests set their own.
LOOSE_RATE_LIMITS = {
    "ECB_FILES_AUTH_FAILURES_PER_CLIENT": "10000",
    "ECB_FILES_AUTH_FAILURES_PER_ADDRESS": "10000",
    "ECB_FILES_RATE_LIMIT": "100000/minute",
    "ECB_FILES_READ_RATE_LIMIT": "100000/minute",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    def __init__(
        self,
        data_dir: Path,
        extra_env: Mapping[str, str] | None = None,
        *,
        deployment: Deployment | None = None,
        public_url: bool = True,
    ) -> None:
        """A server of ``deployment`` (the stores it shares), or of a new one of its own.

        ``public_url=False`` leaves ``ECB_FILES_PUBLIC_URL`` unset, so the server takes
        its public URL from where it listens.
        """
        self.data_dir = data_dir
        self.deployment = deployment or STACK.deployment(data_dir)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            **LOOSE_RATE_LIMITS,
            "ECB_FILES_DATA_DIR": str(data_dir),
            "ECB_FILES_PUBLIC_URL": self.url,
            **self.deployment.env,
            **(extra_env or {}),
        }
        if not public_url:
            self.env.pop("ECB_FILES_PUBLIC_URL")
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / "server.log"

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*CLI, *args], env=self.env, capture_output=True, text=True, timeout=120
        )
        if check and result.returncode != 0:
            raise AssertionError(f"ecb-files {' '.join(args)} failed: {result.stderr}")
        return result

    def start(self, *extra_args: str) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*CLI, "serve", "--port", str(self.port), *extra_args],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited: {self.log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError("server did not become healthy in 60 s")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def blob_files(self) -> list[str]:
        """Everything in the storage area: blobs, temp files, incomplete uploads."""
        return self.deployment.stored_blobs()
