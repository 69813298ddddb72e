"""A server for the claims-handler page's tests: the test world, two users of its
tenant (a handler and a viewer), and files a handler would find there — a photo and a
PDF on case CN-1, and a damage notification created through FNoL with its payload."""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.functional.conftest import file_entry, secret_token, submission
from tests.functional.server import ServerProcess
from tests.functional.world import World

HANDLER_EMAIL = "handler@company.example"
VIEWER_EMAIL = "viewer@company.example"
LOCKABLE_EMAIL = "locked.out@company.example"
PASSWORD = "correct horse battery staple"
FNOL_URL = "/ecx/host/api/integration/v1/damageNotification"
FNOL_TYPE = "application/vnd.casecreation+json"
FNOL_DAMAGE = {
    "incidentDate": "2026-11-28",
    "description": "Water damage in the kitchen after a burst pipe",
    "policyNumber": "POL-778",
    "incidentType": "water",
    "address": {"street": "Vestergade 1", "postalCode": "8000", "city": "Aarhus"},
    "contact": {"name": "Anna Jensen", "phone": "+45 12 34 56 78"},
}


def png(width: int, height: int, rgb: tuple[int, int, int] = (40, 120, 160)) -> bytes:
    """A real PNG of one colour, made here so the tests need no image files."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


PHOTO = png(64, 48)
REPORT_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


@dataclass(frozen=True)
class UiWorld:
    server: ServerProcess
    world: World
    fnol_dn: str
    photo_id: str
    report_id: str


def fixture_with_users(world: World) -> dict[str, Any]:
    document = world.fixture()
    company = document["insuranceCompanies"][0]
    company["users"] = [
        {"email": HANDLER_EMAIL, "role": "handler", "password": PASSWORD},
        {"email": VIEWER_EMAIL, "role": "viewer", "password": PASSWORD},
        {"email": "disabled@company.example", "password": PASSWORD, "active": False},
        {"email": LOCKABLE_EMAIL, "role": "viewer", "password": PASSWORD},
    ]
    return document


def start_ui_server(tmp: Path, world: World, env: dict[str, str] | None = None) -> ServerProcess:
    server = ServerProcess(tmp / "data", env)
    fixture = tmp / "fixture.json"
    fixture.write_text(json.dumps(fixture_with_users(world)))
    server.cli("load", str(fixture))
    server.start()
    return server


def seed(server: ServerProcess, world: World) -> UiWorld:
    token = secret_token(server, "secret-client", world.secret)
    headers = {"Authorization": f"Bearer {token}"}
    files = [
        file_entry("kitchen floor.png", PHOTO, contentType="image/png"),
        file_entry(
            "inspection report.pdf",
            REPORT_PDF,
            contentType="application/pdf",
            isRestricted=True,
            description="first inspection",
        ),
    ]
    answer = httpx.post(
        f"{server.url}/ecx/host/api/integration/v1/file/submitForCase",
        json=submission(world, world.open_case, files),
        headers=headers,
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    stored = json.loads(server.cli("files", "list", "--json", "--case", world.open_case).stdout)
    by_name = {entry["fileName"]: entry["id"] for entry in stored}
    document = {
        "securityToken": world.security_token,
        "insuranceCompanyAlias": "company",
        "userEmail": world.email,
        "damageNotification": FNOL_DAMAGE,
        "attachments": [{"part": "photo", "isDamageImage": True}],
    }
    created = httpx.post(
        f"{server.url}{FNOL_URL}",
        files=[
            ("fnol", (None, json.dumps(document).encode(), FNOL_TYPE)),
            ("photo", ("sink.png", png(32, 32, (160, 90, 40)), "image/png")),
        ],
        headers=headers,
        timeout=60,
    )
    assert created.status_code == 201, created.text
    return UiWorld(
        server,
        world,
        fnol_dn=created.json()["payload"]["id"],
        photo_id=by_name["kitchen floor.png"],
        report_id=by_name["inspection report.pdf"],
    )


@pytest.fixture(scope="session")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiWorld]:
    world = World()
    server = start_ui_server(tmp_path_factory.mktemp("ui"), world)
    try:
        yield seed(server, world)
    finally:
        server.stop()
