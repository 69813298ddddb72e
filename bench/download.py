"""Download benchmark (§11.2 ``…/content``, §6): a 100 MiB file streamed to a client.

    .venv/bin/python bench/download.py            # 5 interleaved runs of each
    .venv/bin/python bench/download.py --runs 2

Starts ``ecb-files serve --workers 1`` on the embedded default (SQLite, blobs on local
disk) in a temporary directory, submits one 100 MiB file (binary multipart), then
alternates, ``--runs`` times each:

- ``server``: ``GET …/file/{id}/content`` read to the end in 1 MiB reads over one
  loopback connection, timed from the request to the last byte; the server's process
  tree RSS sampled every 10 ms (growth = peak − median idle RSS before the request);
- ``curl``: the same download by ``curl -o /dev/null`` (when installed), a client
  that costs next to nothing, so the row shows the server's own rate;
- ``raw``: the same blob file read in 1 MiB chunks by this process: the page cache's
  read rate (warm for every row), with no HTTP at all;
- ``disk``: the same file read with ``O_DIRECT`` (the page cache bypassed): what the
  disk itself delivers — the rate "at disk speed" means;
- ``sendfile``: the same file served by a bare socket with ``sendfile(2)`` (zero-copy,
  no HTTP parsing, no Python per byte) and read by curl: the loopback connection's
  ceiling on this machine, the strongest server a download could be compared with.

The first download is checked byte for byte (SHA-256); the timed ones are not hashed,
so the client costs little. Prints a table and writes ``bench/results/<date>-download.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import mmap
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from procfs import PeakSampler, idle_rss
from servers import (
    CASE_ID,
    EMAIL,
    FIXTURE,
    HOST,
    SECURITY_TOKEN,
    SUBMIT_PATH,
    WRITE_SCOPE,
    ProductServer,
    ServerError,
    fetch_token,
)

MIB = 1024 * 1024
FILE_BYTES = 100 * MIB
READ_SCOPE = "platform-service-provider:read"
CONTENT_PATH = "/ecx/host/api/integration/v1/file/{}/content"
RESULTS_DIR = Path(__file__).resolve().parent / "results"


def _reading_fixture() -> dict[str, Any]:
    fixture: dict[str, Any] = json.loads(json.dumps(FIXTURE))
    fixture["servicePartners"][0]["clients"][0]["scopes"] = [WRITE_SCOPE, READ_SCOPE]
    return fixture


class DownloadServer(ProductServer):
    """The product server whose bench client may also read (§11.1 partner read scope)."""

    fixture = _reading_fixture()

    def _after_start(self) -> None:
        self.token = fetch_token(self.url, f"{WRITE_SCOPE} {READ_SCOPE}")


def submit(server: DownloadServer, data: bytes) -> str:
    boundary = uuid.uuid4().hex
    submission = {
        "securityToken": SECURITY_TOKEN,
        "payload": {
            "id": CASE_ID,
            "insuranceCompanyAlias": "company",
            "userEmail": EMAIL,
            "files": [{"part": "file", "fileName": "big.zip", "contentType": "application/zip"}],
        },
    }
    body = b"".join(
        [
            f'--{boundary}\r\nContent-Disposition: form-data; name="submission"\r\n'
            "Content-Type: application/json\r\n\r\n".encode(),
            json.dumps(submission).encode(),
            f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            'filename="big.zip"\r\nContent-Type: application/zip\r\n\r\n'.encode(),
            data,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )
    connection = http.client.HTTPConnection(HOST, server.port, timeout=300)
    connection.request(
        "POST",
        SUBMIT_PATH,
        body=body,
        headers={
            "Authorization": f"Bearer {server.token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    answer = connection.getresponse()
    document = json.loads(answer.read())
    connection.close()
    if answer.status != 200:
        raise ServerError(f"submission refused: {answer.status} {document}")
    return str(document["payload"]["files"][0]["id"])


def download(server: DownloadServer, file_id: str, *, check: str | None = None) -> dict[str, Any]:
    connection = http.client.HTTPConnection(HOST, server.port, timeout=300)
    digest = hashlib.sha256()
    idle = idle_rss(server.pid)
    received = 0
    with PeakSampler(server.pid, idle) as sampler:
        began = time.perf_counter()
        connection.request(
            "GET",
            CONTENT_PATH.format(file_id),
            headers={"Authorization": f"Bearer {server.token}"},
        )
        answer = connection.getresponse()
        if answer.status != 200:
            raise ServerError(f"download refused: {answer.status} {answer.read()[:300]!r}")
        while chunk := answer.read(MIB):
            received += len(chunk)
            if check is not None:
                digest.update(chunk)
        seconds = time.perf_counter() - began
    connection.close()
    if received != FILE_BYTES or (check is not None and digest.hexdigest() != check):
        raise ServerError("the downloaded bytes differ from the file submitted")
    assert sampler.reading is not None
    return {"mb_per_s": received / seconds / 1e6, "seconds": seconds, **sampler.reading.as_dict()}


def curl(url: str, *headers: str) -> dict[str, Any]:
    """One download by curl into /dev/null (a client that costs next to nothing): its
    rate, checked to be the whole file."""
    done = subprocess.run(
        ["curl", "-s", "-f", "-o", "/dev/null", "-w", "%{size_download} %{time_total}",
         *[arg for header in headers for arg in ("-H", header)], url],
        capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    size, seconds = done.stdout.split()
    if int(size) != FILE_BYTES:
        raise ServerError(f"curl received {size} bytes from {url}")
    return {"mb_per_s": FILE_BYTES / float(seconds) / 1e6, "seconds": float(seconds)}


def curl_download(server: DownloadServer, file_id: str) -> dict[str, Any]:
    """The service's download by curl, with the server's memory sampled meanwhile."""
    idle = idle_rss(server.pid)
    url = f"{server.url}{CONTENT_PATH.format(file_id)}"
    with PeakSampler(server.pid, idle) as sampler:
        rate = curl(url, f"Authorization: Bearer {server.token}")
    assert sampler.reading is not None
    return {**rate, **sampler.reading.as_dict()}


def raw_read(path: Path) -> dict[str, Any]:
    began = time.perf_counter()
    read = 0
    with open(path, "rb", buffering=0) as source:
        while chunk := source.read(MIB):
            read += len(chunk)
    seconds = time.perf_counter() - began
    return {"mb_per_s": read / seconds / 1e6, "seconds": seconds}


def disk_read(path: Path) -> dict[str, Any]:
    """``O_DIRECT`` reads into an aligned buffer: the device's rate, not the page cache's."""
    buffer = mmap.mmap(-1, MIB)  # page-aligned, as O_DIRECT requires
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECT)
    read = 0
    began = time.perf_counter()
    try:
        while count := os.readv(descriptor, [buffer]):
            read += count
    finally:
        os.close(descriptor)
        buffer.close()
    seconds = time.perf_counter() - began
    return {"mb_per_s": read / seconds / 1e6, "seconds": seconds}


class SendfileServer:
    """A bare HTTP/1.1 answer with ``sendfile(2)`` for every connection: the ceiling."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._listener = socket.create_server((HOST, 0))
        self.url = f"http://{HOST}:{self._listener.getsockname()[1]}/"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            with connection, open(self._path, "rb") as source:
                connection.recv(65536)
                size = os.fstat(source.fileno()).st_size
                connection.sendall(
                    f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n"
                    "Connection: close\r\n\r\n".encode()
                )
                connection.sendfile(source)

    def download(self) -> dict[str, Any]:
        return curl(self.url)

    def close(self) -> None:
        self._listener.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="ecb-download-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        server = DownloadServer(data_dir, 1)
        server.start()
        try:
            data = b"PK\x03\x04" + os.urandom(FILE_BYTES - 4)
            expected = hashlib.sha256(data).hexdigest()
            file_id = submit(server, data)
            del data
            [blob] = [p for p in (data_dir / "blobs").glob("??/*") if p.is_file()]
            download(server, file_id, check=expected)  # checked, and warms the cache
            served, by_curl, raw, disk, ceiling = [], [], [], [], []
            bare = SendfileServer(blob) if shutil.which("curl") else None
            try:
                for _ in range(args.runs):
                    raw.append(raw_read(blob))
                    disk.append(disk_read(blob))
                    served.append(download(server, file_id))
                    if bare is not None:
                        by_curl.append(curl_download(server, file_id))
                        ceiling.append(bare.download())
            finally:
                if bare is not None:
                    bare.close()
        finally:
            server.stop()
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpus": os.cpu_count(),
        "load_avg": os.getloadavg(),
        "file_mib": FILE_BYTES / MIB,
        "server": served,
        "curl": by_curl,
        "raw": raw,
        "disk": disk,
        "sendfile": ceiling,
        "median_server_mb_per_s": statistics.median(r["mb_per_s"] for r in served),
        "median_raw_mb_per_s": statistics.median(r["mb_per_s"] for r in raw),
        "median_curl_mb_per_s": statistics.median(
            r["mb_per_s"] for r in by_curl or [{"mb_per_s": 0}]
        ),
        "median_disk_mb_per_s": statistics.median(r["mb_per_s"] for r in disk),
        "median_sendfile_mb_per_s": statistics.median(
            r["mb_per_s"] for r in ceiling or [{"mb_per_s": 0}]
        ),
        "max_growth_mib": max(r["growth_mib"] for r in served + by_curl),
    }
    RESULTS_DIR.mkdir(exist_ok=True)
    out = RESULTS_DIR / f"{datetime.now(UTC):%Y-%m-%d}-download.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    to_disk = result["median_server_mb_per_s"] / result["median_disk_mb_per_s"]
    to_ceiling = result["median_curl_mb_per_s"] / (result["median_sendfile_mb_per_s"] or 1)
    print(f"{'row':<28}{'MB/s (median)':>16}{'RSS growth MiB (max)':>24}")
    print(
        f"{'ecb-files …/content':<28}{result['median_server_mb_per_s']:>16.0f}"
        f"{result['max_growth_mib']:>24.1f}"
    )
    print(f"{'… read by curl':<28}{result['median_curl_mb_per_s']:>16.0f}")
    print(f"{'sendfile server, by curl':<28}{result['median_sendfile_mb_per_s']:>16.0f}")
    print(f"{'disk read (O_DIRECT)':<28}{result['median_disk_mb_per_s']:>16.0f}")
    print(f"{'page-cache read':<28}{result['median_raw_mb_per_s']:>16.0f}")
    print(
        f"ecb-files / disk {to_disk:.2f}; curl: ecb-files / sendfile {to_ceiling:.2f}; "
        f"load average {result['load_avg']}; written to {out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
