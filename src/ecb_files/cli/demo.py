"""``ecb-files demo``: load the demo data and print a submission ready to paste."""

from __future__ import annotations

import json
import os
import shlex
from importlib import resources
from typing import Any

import click

from ecb_files.cli._common import listen_options, runtime
from ecb_files.config import public_url_for
from ecb_files.services.fixtures import load_fixtures

DEMO_FILE = "demo-fixtures.json"


def demo_document() -> dict[str, Any]:
    text = resources.files("ecb_files.cli").joinpath(DEMO_FILE).read_text(encoding="utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


@click.command()
@listen_options(
    host_help="The --host serve will listen on; the printed URLs name it (127.0.0.1 for 0.0.0.0).",
    port_help="The --port serve will listen on; the printed URLs name it.",
)
def demo(host: str, port: int) -> None:
    """Load the demo tenant, partner, client and cases, and print a curl that submits a file.

    The printed URLs are the server's public URL: ECB_FILES_PUBLIC_URL when set, else
    where `ecb-files serve --host HOST --port PORT` listens. Safe to run again.
    `ecb-files serve --demo` does both in one go.

    Example: ecb-files demo --port 18080 && ecb-files serve --port 18080
    """
    load_demo(public_url_for(os.environ, host, port))


def load_demo(base: str) -> None:
    """Load the demo data and print the commands that submit a file to the server at ``base``."""
    document = demo_document()
    with runtime() as rt:
        load_fixtures(rt.database, document)
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
    # The binary form (§10.1): the same submission naming a part instead of content.
    binary = json.loads(json.dumps(body))
    binary["payload"]["files"] = [{"part": "file", "description": "a first binary file"}]
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
            "Or the file's bytes as they are (multipart/form-data):",
            "",
            "printf 'hello, insurer!\\n' > hello.txt",
            'curl -s -H "Authorization: Bearer $TOKEN" \\',
            f"  -F {shlex.quote(f'submission={json.dumps(binary)};type=application/json')} \\",
            "  -F 'file=@hello.txt;type=text/plain' \\",
            f"  {base}/ecx/host/api/integration/v1/file/submitForCase",
            "",
            f"Then: ecb-files files list --case {case['id']} --json",
            *_insurer_lines(document, base, case["id"]),
            f"API docs: {base}/docs",
            "",
        ]
    )


def _insurer_lines(document: dict[str, Any], base: str, case_id: str) -> list[str]:
    """How the insurer reads what arrived (§11): its client over the read API, and its
    claims handler's sign-in."""
    company = document["insuranceCompanies"][0]
    lines: list[str] = []
    for client in company.get("clients", [])[:1]:
        lines += [
            "",
            "The insurer's view of the case (read API):",
            "",
            f"INSURER=$(curl -s -u {client['clientId']}:{client['clientSecret']} "
            f"-d grant_type=client_credentials {base}/connect/token | "
            "python3 -c 'import json,sys; print(json.load(sys.stdin)[\"access_token\"])')",
            f'curl -s -H "Authorization: Bearer $INSURER" '
            f"{base}/ecx/host/api/integration/v1/case/{case_id}/files",
        ]
    for user in company.get("users", [])[:1]:
        lines += [
            "",
            f"Claims-handler page: {base}/ui/",
            f"  sign in as {user['email']} / {user['password']}",
        ]
    return lines
