"""A 300 MiB submission in O(1) server memory (§6, §3.4)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.functional.conftest import secret_token
from tests.functional.server import ServerProcess
from tests.functional.world import World

MIB = 1024 * 1024
FILE_BYTES = 100 * MIB
CHUNK = 3 * MIB  # a multiple of 3: base64 of each chunk concatenates without padding


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"{field} not found")


class PeakSampler(threading.Thread):
    """Samples a process's resident memory every 10 ms."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            self.peak = max(self.peak, rss_kib(self.pid))
            self.stopping.wait(0.01)


def with_peak_growth(pid: int, send: Callable[[], httpx.Response]) -> tuple[httpx.Response, float]:
    """``send()``'s answer, and how far (MiB) the process's RSS rose above idle meanwhile."""
    idle = rss_kib(pid)
    # The high-water mark covers start-up too; it counts only if the upload raised it.
    high_water_before = rss_kib(pid, "VmHWM")
    sampler = PeakSampler(pid)
    sampler.start()
    try:
        response = send()
    finally:
        sampler.stopping.set()
        sampler.join()
    high_water_after = rss_kib(pid, "VmHWM")
    peak = max(sampler.peak, high_water_after if high_water_after > high_water_before else 0)
    return response, (peak - idle) / 1024


def streamed_body(world: World, files: int, digests: list[str]) -> tuple[int, Iterator[bytes]]:
    """The body's exact length and a generator of it; never more than one chunk in memory."""
    head = json.dumps(
        {
            "securityToken": world.security_token,
            "payload": {
                "id": world.open_case,
                "insuranceCompanyAlias": "company",
                "userEmail": world.email,
                "files": "__FILES__",
            },
        }
    ).encode()
    before, after = head.split(b'"__FILES__"')
    entry_heads = [
        f'{{"fileName": "big-{i}.bin.zip", "contentType": "application/zip", "content": "'.encode()
        for i in range(files)
    ]
    b64_len = 4 * ((FILE_BYTES + 2) // 3)
    length = len(before) + len(after) + 2 + (files - 1)
    length += sum(len(h) + b64_len + 2 for h in entry_heads)

    noise = os.urandom(CHUNK)

    def generate() -> Iterator[bytes]:
        yield before + b"["
        for i, entry_head in enumerate(entry_heads):
            yield (b"," if i else b"") + entry_head
            digest = hashlib.sha256()
            sent = 0
            while sent < FILE_BYTES:
                # Random once, made distinct per chunk cheaply: the client must not be
                # the bottleneck. Each chunk starts as a ZIP: the first, the file (§12.1).
                stamp = b"PK\x03\x04" + f"{i}:{sent}:".encode()
                block = (stamp + noise[len(stamp) :])[: min(CHUNK, FILE_BYTES - sent)]
                digest.update(block)
                sent += len(block)
                yield base64.b64encode(block)
            digests.append(digest.hexdigest())
            yield b'"}'
        yield b"]" + after

    return length, generate()


@pytest.mark.large
def test_three_100_mib_files_in_one_request_keep_server_memory_flat(
    tmp_path: Path, world: World
) -> None:
    """§6: peak RSS growth ≤ 64 MiB for a 3 × 100 MiB submission; SHA-256s match."""
    server = ServerProcess(tmp_path / "data")
    server.cli("load", str(world.write_fixture(tmp_path / "fixture.json")))
    server.start()
    try:
        token = secret_token(server, "secret-client", world.secret)
        url = f"{server.url}/ecx/host/api/integration/v1/file/submitForCase"
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        warm = httpx.post(
            url,
            content=json.dumps(
                {
                    "securityToken": world.security_token,
                    "payload": {
                        "id": world.open_case,
                        "insuranceCompanyAlias": "company",
                        "userEmail": world.email,
                        "files": [
                            {
                                "fileName": "w.txt",
                                "contentType": "text/plain",
                                "content": "d2FybQ==",
                            }
                        ],
                    },
                }
            ),
            headers=headers,
        )
        assert warm.status_code == 200, warm.text
        digests: list[str] = []
        length, body = streamed_body(world, 3, digests)
        response, growth_mib = with_peak_growth(
            server.pid,
            lambda: httpx.post(
                url,
                content=body,
                headers={**headers, "Content-Length": str(length)},
                timeout=600,
            ),
        )
        assert response.status_code == 200, response.text
        stored = response.json()["payload"]["files"]
        assert [f["sha256"] for f in stored] == digests
        assert all(f["size"] == FILE_BYTES for f in stored)
        print(f"peak RSS growth {growth_mib:.1f} MiB")
        assert growth_mib <= 64, f"peak RSS grew by {growth_mib:.1f} MiB"
    finally:
        server.stop()
