"""A 250 MiB file in flat client memory (issue: the client's RSS stays within 64 MiB of
its start), submitted by ``ecb-files-submit`` in its own process, as base64 JSON and as
binary multipart/form-data (streamed from disk twice: hashed ahead, then sent)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from client_support import CLI
from conftest import start_server

MIB = 1024 * 1024
FILE_BYTES = 250 * MIB
BLOCK = 4 * MIB


def rss_kib(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return None  # a zombie has no VmRSS line


class Sampler(threading.Thread):
    """Samples a process's resident memory every 10 ms until it ends."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.samples: list[int] = []

    def run(self) -> None:
        while (kib := rss_kib(self.pid)) is not None:
            self.samples.append(kib)
            time.sleep(0.01)


def _pseudo_random_file(path: Path) -> str:
    """250 MiB that no layer can compress or deduplicate, written fast; its SHA-256."""
    # The server's table of first bytes: the file starts as its name says (§12.1).
    from tests.content_samples import sample_for

    noise = os.urandom(BLOCK)
    digest = hashlib.sha256()
    with path.open("wb") as handle:
        for offset in range(0, FILE_BYTES, BLOCK):
            stamp = sample_for(path.name, f"{offset}:".encode()) if offset == 0 else b""
            stamp += f"{offset}:".encode()
            block = (stamp + noise[len(stamp) :])[: FILE_BYTES - offset]
            digest.update(block)
            handle.write(block)
    return digest.hexdigest()


@pytest.fixture(scope="module")
def big_server(tmp_path_factory: pytest.TempPathFactory, world: Any) -> Iterator[Any]:
    limits = {"ECB_FILES_MAX_FILE_BYTES": str(300 * MIB)}
    process = start_server(tmp_path_factory.mktemp("big"), world, limits)
    yield process
    process.stop()


@pytest.mark.large
@pytest.mark.parametrize("transfer", ["json", "multipart"])
def test_a_250_mib_upload_keeps_the_client_process_small(
    big_server: Any, world: Any, cli_env: dict[str, str], tmp_path: Path, transfer: str
) -> None:
    path = tmp_path / "site-survey.mp4"
    expected_sha256 = _pseudo_random_file(path)
    env = {**cli_env, "ECB_SUBMIT_URL": big_server.url}
    started = time.monotonic()
    process = subprocess.Popen(
        [
            *CLI,
            "case",
            "--id",
            world.open_case,
            "--transfer",
            transfer,
            "--json",
            "--progress",
            "none",
            str(path),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    sampler = Sampler(process.pid)
    sampler.start()
    stdout, stderr = process.communicate(timeout=600)
    elapsed = time.monotonic() - started
    sampler.join()
    assert process.returncode == 0, stderr.decode()
    [stored] = json.loads(stdout)["files"]
    assert stored["size"] == FILE_BYTES
    assert stored["sha256"] == expected_sha256
    assert stored["sha256Matches"]
    start, peak = sampler.samples[0], max(sampler.samples)
    growth_mib = (peak - start) / 1024
    print(
        f"\nclient RSS: start {start / 1024:.1f} MiB, peak {peak / 1024:.1f} MiB, "
        f"growth {growth_mib:.1f} MiB over {len(sampler.samples)} samples; "
        f"250 MiB as {transfer} in {elapsed:.1f} s "
        f"({FILE_BYTES / MIB / elapsed:.0f} MiB/s end to end)"
    )
    assert growth_mib <= 64, f"client RSS grew by {growth_mib:.1f} MiB"
