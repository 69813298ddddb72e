"""The audit trail of the claims-handler page (§12.3, §11.3), driven over plain HTTP as a
browser would: sign-in (and a refused one), downloads, thumbnails, a ZIP, close and
reopen, merge, sign-out — each read back with ``ecb-files audit list --json``."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.functional.server import ServerProcess
from tests.functional.ui.conftest import (
    HANDLER_EMAIL,
    PASSWORD,
    UiWorld,
    seed,
    start_ui_server,
)
from tests.functional.ui.forms import csrf_token_in, sign_in, signed_in_client
from tests.functional.world import World


@pytest.fixture(scope="module")
def audited_ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UiWorld]:
    """A page of its own: its actions change its world."""
    world = World()
    server = start_ui_server(tmp_path_factory.mktemp("ui-audit"), world)
    try:
        yield seed(server, world)
    finally:
        server.stop()


def events(server: ServerProcess, *options: str) -> list[dict[str, Any]]:
    listed: list[dict[str, Any]] = json.loads(
        server.cli("audit", "list", *options, "--json").stdout
    )
    return listed


def test_a_sign_in_and_a_refused_one_are_recorded(audited_ui: UiWorld) -> None:
    """§12.3, §11.3: a sign in and a refused one are recorded."""
    server = audited_ui.server
    stranger = f"nobody-{uuid.uuid4().hex[:8]}@company.example"
    with signed_in_client(server.url, HANDLER_EMAIL, PASSWORD):
        pass
    with httpx.Client(base_url=server.url, timeout=60) as client:
        assert sign_in(client, stranger, "wrong").status_code == 401
    found = events(server)
    signed = [e for e in found if e["action"] == "ui.sign_in"]
    assert signed
    assert signed[-1]["principal"] == HANDLER_EMAIL
    assert (signed[-1]["principalKind"], signed[-1]["address"]) == ("user", "127.0.0.1")
    assert isinstance(signed[-1]["tenantId"], int)
    refused = [e for e in found if e["action"] == "ui.sign_in_refused"]
    assert [(e["principal"], e["detail"]) for e in refused][-1] == (stranger, "wrong")


def test_a_download_a_thumbnail_and_a_zip_are_recorded_as_reads(audited_ui: UiWorld) -> None:
    """§12.3, §11.3: a download a thumbnail and a zip are recorded as reads."""
    server, world = audited_ui.server, audited_ui.world
    with signed_in_client(server.url, HANDLER_EMAIL, PASSWORD) as client:
        assert client.get(f"/ui/files/{audited_ui.report_id}/content").status_code == 200
        assert client.get(f"/ui/files/{audited_ui.photo_id}/thumbnail").status_code == 200
        assert client.get(f"/ui/cases/{world.open_case}/files.zip").status_code == 200
    report = events(server, "--file", audited_ui.report_id)
    assert [e["action"] for e in report] == ["file.content", "file.zip"]
    assert {(e["principalKind"], e["principal"]) for e in report} == {("user", HANDLER_EMAIL)}
    photo = [e["action"] for e in events(server, "--file", audited_ui.photo_id)]
    assert photo == ["file.thumbnail", "file.zip"]


def test_close_reopen_and_merge_on_the_page_are_recorded(audited_ui: UiWorld) -> None:
    """§12.3, §11.3: close reopen and merge on the page are recorded."""
    server, world = audited_ui.server, audited_ui.world
    case = world.open_case
    with signed_in_client(server.url, HANDLER_EMAIL, PASSWORD) as client:
        token = csrf_token_in(client.get(f"/ui/cases/{case}").text)
        for action in ("close", "reopen"):
            answer = client.post(f"/ui/cases/{case}/{action}", data={"csrf_token": token})
            assert answer.status_code == 303, answer.text
        dn = world.open_dn
        page = client.get(f"/ui/damage-notifications/{dn}")
        merged = client.post(
            f"/ui/damage-notifications/{dn}/merge",
            data={"csrf_token": csrf_token_in(page.text), "case_number": "CN-1"},
        )
        assert merged.status_code == 303, merged.text
    acted = [
        (e["action"], e["principal"], e["damageNotificationId"])
        for e in events(server, "--case", case)
        if not e["action"].startswith("file.")
    ]
    assert acted == [
        ("case.close", HANDLER_EMAIL, None),
        ("case.reopen", HANDLER_EMAIL, None),
        ("dn.merge", HANDLER_EMAIL, world.open_dn),
    ]


def test_a_sign_out_is_recorded(audited_ui: UiWorld) -> None:
    """§12.3, §11.3: a sign out is recorded."""
    server = audited_ui.server
    with signed_in_client(server.url, HANDLER_EMAIL, PASSWORD) as client:
        home = client.get("/ui/")
        out = client.post("/ui/sign-out", data={"csrf_token": csrf_token_in(home.text)})
        assert out.status_code == 303
    assert events(server)[-1]["action"] == "ui.sign_out"
