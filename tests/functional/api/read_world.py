"""A server for the read API's tests (§11): the functional test world plus insurer
clients and partners' read clients, and files from two partners on one case."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.content_samples import sample_for
from tests.functional.conftest import Api, file_entry, secret_token, submission
from tests.functional.server import ServerProcess
from tests.functional.world import World

API = "/ecx/host/api/integration/v1"
PARTNER_READ = "platform-service-provider:read"
INSURER_READ = "platform-insurer:read"
INSURER_WRITE = "platform-insurer:write"
MERGE_DN = str(uuid.UUID(int=0xD5))
SECOND_MERGE_DN = str(uuid.UUID(int=0xD6))


def read_fixture(world: World) -> dict[str, Any]:
    document = world.fixture()
    companies = {c["alias"]: c for c in document["insuranceCompanies"]}
    companies["company"]["clients"] = [
        _client("insurer-read", [INSURER_READ], world),
        _client("insurer-write", [INSURER_READ, INSURER_WRITE], world),
        _client("insurer-write-only", [INSURER_WRITE], world),
    ]
    companies["company"]["users"] = [{"email": "handler@company.example", "password": "pw"}]
    companies["other"]["clients"] = [_client("other-insurer", [INSURER_READ], world)]
    partners = {p["id"]: p for p in document["servicePartners"]}
    partners[world.other_partner_id]["clients"].append(
        _client("other-reader", [PARTNER_READ], world)
    )
    for case in document["cases"]:
        if case["id"] == world.open_case:  # two partners on one case
            case["servicePartners"] = [world.partner_id, world.other_partner_id]
    for dn_id in (MERGE_DN, SECOND_MERGE_DN):
        document["damageNotifications"].append(
            {"id": dn_id, "insuranceCompany": "company", "servicePartner": world.partner_id}
        )
    return document


def _client(client_id: str, scopes: list[str], world: World) -> dict[str, Any]:
    return {"clientId": client_id, "scopes": scopes, "clientSecret": world.secret}


@dataclass
class ReadWorld:
    """The running server, a token per client, and the ids of the files submitted."""

    server: ServerProcess
    world: World
    tokens: dict[str, str] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)  # name → file id

    def token(self, client_id: str) -> str:
        if client_id not in self.tokens:
            self.tokens[client_id] = secret_token(self.server, client_id, self.world.secret)
        return self.tokens[client_id]

    def get(self, client_id: str | None, path: str, **params: Any) -> httpx.Response:
        headers = {} if client_id is None else {"Authorization": f"Bearer {self.token(client_id)}"}
        return httpx.get(f"{self.server.url}{API}{path}", headers=headers, params=params)

    def post(self, client_id: str, path: str, body: Any = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token(client_id)}"}
        return httpx.post(f"{self.server.url}{API}{path}", headers=headers, json=body)

    def submit(
        self, client_id: str, target: str, name: str, *, dn: bool = False, **extra: Any
    ) -> str:
        api = Api(self.server, self.token(client_id))
        other = client_id == "other-client"
        body = submission(
            self.world,
            target,
            [file_entry(name, sample_for(name, name.encode()), **extra)],
            securityToken=self.world.other_security_token if other else self.world.security_token,
            userEmail="other@example.com" if other else self.world.email,
        )
        response = api.dn(body) if dn else api.case(body)
        assert response.status_code == 200, response.text
        file_id = str(response.json()["payload"]["files"][0]["id"])
        self.files[name] = file_id
        return file_id


def start_read_world(tmp: Path) -> ReadWorld:
    world = World()
    server = ServerProcess(tmp / "data")
    fixture = tmp / "fixture.json"
    fixture.write_text(json.dumps(read_fixture(world)))
    server.cli("load", str(fixture))
    server.start()
    read = ReadWorld(server, world)
    # Two partners on the open case, each with a public and a restricted file.
    read.submit("secret-client", world.open_case, "a-public.jpg")
    read.submit("secret-client", world.open_case, "a-restricted.jpg", isRestricted=True)
    read.submit("other-client", world.open_case, "b-public.jpg")
    read.submit("other-client", world.open_case, "b-restricted.jpg", isRestricted=True)
    read.submit("secret-client", world.open_dn, "a-dn.jpg", dn=True)
    read.submit("other-client", world.other_partner_dn, "b-dn.jpg", dn=True)
    read.submit("secret-client", MERGE_DN, "merge-me.jpg", dn=True)
    return read
