"""Binary (multipart/form-data) submissions over HTTP (§10.1): built by httpx, by curl
``-F``, or by hand for what neither writes."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from tests.functional.conftest import Api

API = "/ecx/host/api/integration/v1/file"
# (part name, (filename or None, bytes, content type or None)), in body order.
Part = tuple[str, tuple[str | None, bytes, str | None]]


def submission_part(document: dict[str, Any]) -> Part:
    return ("submission", (None, json.dumps(document).encode(), "application/json"))


def post_parts(
    api: Api,
    endpoint: str,
    parts: list[Part],
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """httpx ``files=`` in the given order (duplicates allowed), new boundary each time."""
    files = [
        (name, (filename, data) if content_type is None else (filename, data, content_type))
        for name, (filename, data, content_type) in parts
    ]
    return httpx.post(
        f"{api.server.url}{API}/{endpoint}",
        files=files,
        headers={"Authorization": f"Bearer {api.token}", **(headers or {})},
        timeout=120,
    )


def post_raw(
    api: Api,
    endpoint: str,
    body: bytes | Iterator[bytes],
    boundary: str,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return httpx.post(
        f"{api.server.url}{API}/{endpoint}",
        content=body,
        headers={
            "Authorization": f"Bearer {api.token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            **(headers or {}),
        },
        timeout=600,
    )


def raw_part(boundary: str, name: str, data: bytes, headers: str = "") -> bytes:
    head = f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n{headers}\r\n'
    return head.encode() + data + b"\r\n"


def curl(api: Api, endpoint: str, *form: str, workdir: Path) -> httpx.Response:
    """``curl -F …`` as a partner would type it; the answer as an httpx response."""
    command = [
        "curl",
        "-sS",
        "-o",
        "body.json",
        "-D",
        "headers.txt",
        "-w",
        "%{http_code}",
        "-H",
        f"Authorization: Bearer {api.token}",
    ]
    for field in form:
        command += ["-F", field]
    command.append(f"{api.server.url}{API}/{endpoint}")
    done = subprocess.run(
        command, cwd=workdir, capture_output=True, text=True, check=True, timeout=120
    )
    body = (workdir / "body.json").read_bytes()
    lines = (workdir / "headers.txt").read_bytes().decode().split("\r\n\r\n")[-2].splitlines()[1:]
    headers = [tuple(line.split(": ", 1)) for line in lines if ": " in line]
    return httpx.Response(int(done.stdout), content=body, headers=headers)
