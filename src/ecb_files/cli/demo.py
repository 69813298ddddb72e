"""``ecb-files demo``: load the demo data and print a submission ready to paste."""

from __future__ import annotations

import json
import shlex
from importlib import resources
from typing import Any

import click

from ecb_files.cli._common import runtime
from ecb_files.services.fixtures import load_fixtures

DEMO_FILE = "demo-fixtures.json"


def demo_document() -> dict[str, Any]:
    text = resources.files("ecb_files.cli").joinpath(DEMO_FILE).read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


@click.command()
def demo() -> None:
    """Load the demo tenant, partner, client and cases, and print a curl that submits a file.

    Safe to run again. Example: ecb-files demo && ecb-files serve
    """
    document = demo_document()
    with runtime() as rt:
        load_fixtures(rt.database, document)
        base = rt.settings.public_url
    click.echo(commands_for(document, base))


def commands_for(document: dict[str, Any], base: str) -> str:
    partner = document["servicePartners"][0]
    client = partner["clients"][0]
    case = next(c for c in document["cases"] if c["status"] == "open")
    body = {
        "securityToken": partner["securityToken"],
        "payload": {
            "id": case["id"],
            "insuranceCompanyAlias": case["insuranceCompany"],
            "userEmail": partner["employees"][0]["email"],
            "files": [
                {
                    "fileName": "hello.txt",
                    "contentType": "text/plain",
                    "content": "aGVsbG8sIGluc3VyZXIhCg==",
                    "description": "a first file",
                }
            ],
        },
    }
    token_request = (
        f"curl -s -u {client['clientId']}:{client['clientSecret']} "
        f"-d grant_type=client_credentials {base}/connect/token"
    )
    extract = "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])'"
    return "\n".join(
        [
            "Demo data loaded. Once the server is up, paste:",
            "",
            f"TOKEN=$({token_request} | {extract})",
            'curl -s -H "Authorization: Bearer $TOKEN" -H "Content-Type: application/json" \\',
            f"  -d {shlex.quote(json.dumps(body))} \\",
            f"  {base}/ecx/host/api/integration/v1/file/submitForCase",
            "",
            f"Then: ecb-files files list --case {case['id']} --json",
            f"API docs: {base}/docs",
            "",
        ]
    )
