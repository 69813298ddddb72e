"""The audit trail over the API (§12.3): reads of a file's bytes and insurer actions,
read back with ``ecb-files audit list --json``."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.functional.conftest import Api, file_entry, secret_token, submission
from tests.functional.server import ServerProcess
from tests.functional.world import World

API = "/ecx/host/api/integration/v1"


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory, world: World) -> Iterator[ServerProcess]:
    """A server of its own: merges and status changes here change its world."""
    tmp = tmp_path_factory.mktemp("audit")
    server = ServerProcess(tmp / "data")
    server.cli("load", str(world.write_fixture(tmp / "fixture.json")))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def insurer(audited: ServerProcess, world: World) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret_token(audited, 'insurer-client', world.secret)}"}


def stored_file(server: ServerProcess, world: World, target: str, data: bytes = b"x" * 100) -> str:
    api = Api(server, secret_token(server, "secret-client", world.secret))
    body = submission(world, target, [file_entry("audited.txt", data, contentType="text/plain")])
    response = api.dn(body) if target == world.open_dn else api.case(body)
    assert response.status_code == 200, response.text
    return str(response.json()["payload"]["files"][0]["id"])


def events(server: ServerProcess, *options: str) -> list[dict[str, Any]]:
    result = server.cli("audit", "list", *options, "--json")
    listed: list[dict[str, Any]] = json.loads(result.stdout)
    return listed


def test_a_content_read_is_recorded_with_who_when_and_from_where(
    audited: ServerProcess, world: World, insurer: dict[str, str]
) -> None:
    """§12.3: a content read is recorded with who when and from where."""
    file_id = stored_file(audited, world, world.open_case)
    request_id = f"audit-read-{uuid.uuid4().hex}"
    response = httpx.get(
        f"{audited.url}{API}/file/{file_id}/content",
        headers={**insurer, "X-Request-Id": request_id},
    )
    assert response.status_code == 200
    [event] = events(audited, "--file", file_id)
    assert event["action"] == "file.content"
    assert (event["principalKind"], event["principal"]) == ("client", "insurer-client")
    assert (event["fileId"], event["caseId"]) == (file_id, world.open_case)
    assert (event["address"], event["requestId"]) == ("127.0.0.1", request_id)
    assert event["at"].endswith("Z")
    assert isinstance(event["tenantId"], int)


def test_a_range_read_is_recorded_with_its_range_and_a_304_is_not(
    audited: ServerProcess, world: World, insurer: dict[str, str]
) -> None:
    """§12.3: a range read is recorded with its range and a 304 is not."""
    file_id = stored_file(audited, world, world.open_case)
    url = f"{audited.url}{API}/file/{file_id}/content"
    ranged = httpx.get(url, headers={**insurer, "Range": "bytes=0-9"})
    assert ranged.status_code == 206
    unchanged = httpx.get(url, headers={**insurer, "If-None-Match": ranged.headers["etag"]})
    assert unchanged.status_code == 304
    [event] = events(audited, "--file", file_id)
    assert event["detail"] == "bytes 0-9/100"


def test_a_partner_read_is_recorded_under_its_client_and_partner(
    audited: ServerProcess, world: World
) -> None:
    """§12.3: a partner read is recorded under its client and partner."""
    file_id = stored_file(audited, world, world.open_dn)
    token = secret_token(audited, "read-only-client", world.secret)
    response = httpx.get(
        f"{audited.url}{API}/file/{file_id}/content", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text
    [event] = events(audited, "--file", file_id)
    assert (event["principal"], event["partnerId"]) == ("read-only-client", world.partner_id)
    assert (event["damageNotificationId"], event["tenantId"]) == (world.open_dn, None)


def test_a_zip_records_a_read_of_each_file_in_it(
    audited: ServerProcess, world: World, insurer: dict[str, str]
) -> None:
    """§12.3: a zip records a read of each file in it."""
    first = stored_file(audited, world, world.open_case)
    second = stored_file(audited, world, world.open_case)
    request_id = f"audit-zip-{uuid.uuid4().hex}"
    response = httpx.get(
        f"{audited.url}{API}/case/{world.open_case}/files.zip",
        headers={**insurer, "X-Request-Id": request_id},
    )
    assert response.status_code == 200
    zipped = [e for e in events(audited, "--case", world.open_case) if e["requestId"] == request_id]
    assert {e["action"] for e in zipped} == {"file.zip"}
    assert {first, second} <= {e["fileId"] for e in zipped}


def test_close_and_reopen_are_recorded_and_a_repeat_says_no_change(
    audited: ServerProcess, world: World, insurer: dict[str, str]
) -> None:
    """§12.3: close and reopen are recorded and a repeat says no change."""
    base = f"{audited.url}{API}/case/{world.open_case}"
    for action in ("close", "close", "reopen"):
        assert httpx.post(f"{base}/{action}", headers=insurer).status_code == 200
    actions = [
        (e["action"], e["detail"])
        for e in events(audited, "--case", world.open_case)
        if e["action"].startswith("case.")
    ]
    assert actions[-3:] == [("case.close", ""), ("case.close", "no change"), ("case.reopen", "")]


def test_a_merge_is_recorded_with_the_dn_and_the_case(
    audited: ServerProcess, world: World, insurer: dict[str, str]
) -> None:
    """§12.3: a merge is recorded with the dn and the case."""
    response = httpx.post(
        f"{audited.url}{API}/damageNotification/{world.open_dn}/merge",
        headers=insurer,
        json={"caseId": world.open_case},
    )
    assert response.status_code == 200, response.text
    merges = [e for e in events(audited, "--case", world.open_case) if e["action"] == "dn.merge"]
    assert [(e["damageNotificationId"], e["detail"]) for e in merges] == [(world.open_dn, "")]


def test_a_refused_action_is_not_recorded(
    audited: ServerProcess, world: World, insurer: dict[str, str]
) -> None:
    """§12.3: a refused action is not recorded."""
    url = f"{audited.url}{API}/case/{world.other_tenant_case}/close"
    response = httpx.post(url, headers=insurer)
    assert response.status_code == 404
    assert events(audited, "--case", world.other_tenant_case) == []
