"""Request bodies on disk, and the raw limit of the same work without HTTP.

A body is the submission JSON of the contract with random file content as base64, or
its binary multipart/form-data form (§10.1) with the same random bytes raw in their
parts, written once in bounded slices (never held whole) with every file's byte range
and the SHA-256 of its bytes recorded, so that the raw limit can read exactly the bytes
the server reads (decoding them when they are base64) and every answer can be checked.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import pybase64
from servers import CASE_ID, EMAIL, SECURITY_TOKEN

MIB = 1024 * 1024
# A multiple of 3, so the base64 of consecutive slices concatenates without padding.
_RAW_SLICE = 3 * MIB
READ_CHUNK = MIB
# The first bytes of a JPEG: every file the bench sends is named .jpg.
JPEG_MAGIC = b"\xff\xd8\xff\xe0"


@dataclass(frozen=True)
class FileSpec:
    name: str
    size: int
    sha256: str
    content_start: int  # offset of the first base64 character in the body file
    content_end: int  # offset just past the last one


@dataclass(frozen=True)
class Body:
    path: Path
    files: tuple[FileSpec, ...]
    content_type: str = "application/json"
    base64: bool = True  # False: each file's byte range holds its bytes as they are

    @property
    def decoded_bytes(self) -> int:
        return sum(spec.size for spec in self.files)

    @property
    def length(self) -> int:
        return self.path.stat().st_size


def _envelope_prefix() -> bytes:
    head = json.dumps(
        {
            "securityToken": SECURITY_TOKEN,
            "timestamp": "2026-11-28",
            "payload": {"id": CASE_ID, "insuranceCompanyAlias": "company", "userEmail": EMAIL},
        }
    )
    # Leave the payload object open, ready for its "files" array.
    return (head[:-2] + ', "files": [').encode()


def _file_prefix(index: int, name: str) -> bytes:
    separator = ", " if index else ""
    fields = {"fileName": name, "contentType": "image/jpeg", "description": f"bench {index}"}
    return (separator + json.dumps(fields)[:-1] + ', "content": "').encode()


def _write_random(out: BinaryIO, size: int, encode: Callable[[bytes], bytes]) -> str:
    """Writes ``size`` random bytes that start as a JPEG (the files are named .jpg, and
    the server checks their first bytes, §12.1), each slice through ``encode``; their
    SHA-256."""
    digest = hashlib.sha256()
    left = size
    while left:
        raw = os.urandom(min(_RAW_SLICE, left))
        if left == size:
            raw = (JPEG_MAGIC + raw[len(JPEG_MAGIC) :])[: len(raw)]
        left -= len(raw)
        digest.update(raw)
        out.write(encode(raw))
    return digest.hexdigest()


def write_body(path: Path, sizes: list[int]) -> Body:
    """Writes a submission of ``len(sizes)`` random files; returns where each content is."""
    specs: list[FileSpec] = []
    with path.open("wb") as out:
        out.write(_envelope_prefix())
        for index, size in enumerate(sizes):
            name = f"photo-{index}.jpg"
            out.write(_file_prefix(index, name))
            start = out.tell()
            digest = _write_random(out, size, pybase64.b64encode)
            specs.append(FileSpec(name, size, digest, start, out.tell()))
            out.write(b'"}')
        out.write(b"]}}")
    return Body(path, tuple(specs))


MULTIPART_BOUNDARY = "ecb-bench-boundary-5c1f"


def write_multipart_body(path: Path, sizes: list[int]) -> Body:
    """The binary form (§10.1) of :func:`write_body`: a ``submission`` part naming one
    raw part per file."""
    files = [
        {"part": f"file{index}", "fileName": f"photo-{index}.jpg", "contentType": "image/jpeg"}
        for index in range(len(sizes))
    ]
    document = _submission(files)

    def part_head(name: str, extra: str = "") -> bytes:
        return (
            f"--{MULTIPART_BOUNDARY}\r\n"
            f'Content-Disposition: form-data; name="{name}"\r\n{extra}\r\n'
        ).encode()

    specs: list[FileSpec] = []
    with path.open("wb") as out:
        out.write(part_head("submission", "Content-Type: application/json\r\n"))
        out.write(json.dumps(document).encode() + b"\r\n")
        for index, size in enumerate(sizes):
            out.write(part_head(f"file{index}"))
            start = out.tell()
            digest = _write_random(out, size, bytes)
            specs.append(FileSpec(f"photo-{index}.jpg", size, digest, start, out.tell()))
            out.write(b"\r\n")
        out.write(f"--{MULTIPART_BOUNDARY}--\r\n".encode())
    content_type = f"multipart/form-data; boundary={MULTIPART_BOUNDARY}"
    return Body(path, tuple(specs), content_type=content_type, base64=False)


def _submission(files: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "securityToken": SECURITY_TOKEN,
        "timestamp": "2026-11-28",
        "payload": {
            "id": CASE_ID,
            "insuranceCompanyAlias": "company",
            "userEmail": EMAIL,
            "files": files,
        },
    }


def small_body(size: int) -> tuple[bytes, str]:
    """One file of ``size`` random bytes as a whole body, and the file's SHA-256."""
    raw = (JPEG_MAGIC + os.urandom(size))[:size]
    file = {
        "fileName": "small.jpg",
        "contentType": "image/jpeg",
        "content": base64.b64encode(raw).decode(),
    }
    return json.dumps(_submission([file])).encode(), hashlib.sha256(raw).hexdigest()


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


@dataclass(frozen=True)
class RawRun:
    seconds: float
    decoded_bytes: int
    phases: dict[str, float]  # seconds spent reading, decoding, hashing, writing, fsyncing
    cpu_seconds: float  # of this thread

    @property
    def mb_per_s(self) -> float:
        return self.decoded_bytes / self.seconds / 1e6


def raw_limit(body: Body, out_dir: Path) -> RawRun:
    """The same work as the server in one thread, no HTTP: read, decode, hash, write, fsync.

    Reads the body file in 1 MiB chunks, decodes each file's base64 with a carry of
    under four characters between chunks (pybase64), hashes the decoded bytes (SHA-256),
    writes them to a new file in ``out_dir`` and fsyncs it, then checks the digest. A
    binary body's bytes skip the decoding. The time of each phase is kept, to show
    which one bounds the rest.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    phases = dict.fromkeys(("read", "decode", "sha256", "write", "fsync"), 0.0)
    clock = time.perf_counter
    started = clock()
    cpu_started = time.thread_time()
    with body.path.open("rb", buffering=0) as source:
        for spec in body.files:
            source.seek(spec.content_start)
            left = spec.content_end - spec.content_start
            digest = hashlib.sha256()
            carry = b""
            fd, _ = tempfile.mkstemp(prefix="raw-", dir=out_dir)
            try:
                while left:
                    t0 = clock()
                    chunk = source.read(min(READ_CHUNK, left))
                    left -= len(chunk)
                    if body.base64:
                        data = carry + chunk
                        whole = len(data) - len(data) % 4
                        carry = data[whole:]
                        chunk = data[:whole]
                    t1 = clock()
                    # A binary body's bytes are the file's: nothing to decode.
                    decoded = pybase64.b64decode(chunk, validate=True) if body.base64 else chunk
                    t2 = clock()
                    digest.update(decoded)
                    t3 = clock()
                    _write_all(fd, decoded)
                    t4 = clock()
                    phases["read"] += t1 - t0
                    phases["decode"] += t2 - t1
                    phases["sha256"] += t3 - t2
                    phases["write"] += t4 - t3
                if carry:
                    raise ValueError(f"{spec.name}: base64 length is not a multiple of 4")
                t5 = clock()
                os.fsync(fd)
                phases["fsync"] += clock() - t5
            finally:
                os.close(fd)
            if digest.hexdigest() != spec.sha256:
                raise ValueError(f"{spec.name}: raw limit decoded other bytes than were written")
    seconds = clock() - started
    cpu_seconds = time.thread_time() - cpu_started
    for written in out_dir.glob("raw-*"):
        written.unlink()
    return RawRun(seconds, body.decoded_bytes, phases, cpu_seconds)
