"""``ecb-files-submit fnol`` end to end against a real server, its attachment syntax
and its usage errors; and ``--transfer`` of ``case``/``dn``."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from client_support import CLI, CuttingProxy, named, run_cli, stored_files
from ecb_files_client._cli.main import build_parser

FNOL = {"incidentDate": "2024-05-01", "description": "Storm damage to the roof"}


def _payload(tmp_path: Path, document: object = None) -> Path:
    path = tmp_path / f"fnol-{uuid.uuid4().hex[:8]}.json"
    path.write_text(json.dumps(FNOL if document is None else document))
    return path


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    folder = tmp_path / uuid.uuid4().hex[:8]
    folder.mkdir()
    path = folder / name
    path.write_bytes(data)
    return path


def test_each_attachment_takes_the_options_that_follow_it() -> None:
    args = build_parser().parse_args(
        [
            "fnol",
            "--payload",
            "p.json",
            "--attachment",
            "a.jpg",
            "--damage-image",
            "--description",
            "front door",
            "--attachment",
            "b.pdf",
            "--file-name",
            "invoice.pdf",
            "--content-type",
            "application/pdf",
        ]
    )
    assert args.attachments == [
        {"path": "a.jpg", "damage_image": True, "description": "front door"},
        {"path": "b.pdf", "file_name": "invoice.pdf", "content_type": "application/pdf"},
    ]
    assert build_parser().parse_args(["fnol", "--payload", "p.json"]).attachments is None


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--description", "x", "--attachment", "a.jpg"], "put it after --attachment PATH"),
        (["--attachment", "a.jpg", "--damage-image", "--damage-image"], "given twice"),
    ],
)
def test_an_option_without_its_attachment_is_a_usage_error(
    cli_env: dict[str, str], tmp_path: Path, arguments: list[str], message: str
) -> None:
    done = run_cli("fnol", "--payload", str(_payload(tmp_path)), *arguments, env=cli_env)
    assert done.returncode == 2
    assert message in done.stderr


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (None, "--payload FILE is required"),
        ("missing.json", "cannot read --payload"),
        ("[1, 2]", "must hold a JSON object"),
        ("{not json", "is not valid JSON"),
    ],
)
def test_an_unusable_payload_is_a_usage_error(
    cli_env: dict[str, str], tmp_path: Path, payload: str | None, message: str
) -> None:
    arguments = []
    if payload == "missing.json":
        arguments = ["--payload", str(tmp_path / payload)]
    elif payload is not None:
        path = tmp_path / "payload.json"
        path.write_text(payload)
        arguments = ["--payload", str(path)]
    done = run_cli("fnol", *arguments, env=cli_env)
    assert done.returncode == 2
    assert message in done.stderr


def test_fnol_with_attachments_prints_the_new_id(
    server: Any, cli_env: dict[str, str], tmp_path: Path
) -> None:
    photo = _file(tmp_path, "Dach ø.jpg", b"\xff\xd8\xff\xe0" + os.urandom(50_000))
    invoice = _file(tmp_path, "scan.bin", b"%PDF-1.7 invoice")
    done = run_cli(
        "fnol",
        "--payload",
        str(_payload(tmp_path)),
        "--attachment",
        str(photo),
        "--damage-image",
        "--description",
        "the roof",
        "--attachment",
        str(invoice),
        "--file-name",
        "invoice.pdf",
        "--json",
        env=cli_env,
    )
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["success"] is True
    assert outcome["location"].endswith(outcome["id"])
    assert [f["fileName"] for f in outcome["files"]] == ["Dach ø.jpg", "invoice.pdf"]
    assert all(f["sha256Matches"] for f in outcome["files"])
    records = {r["fileName"]: r for r in stored_files(server, dn=outcome["id"])}
    assert records["Dach ø.jpg"]["isDamageImage"] is True
    assert records["Dach ø.jpg"]["description"] == "the roof"
    assert records["invoice.pdf"]["contentType"] == "application/pdf"
    assert "attempt 1: sending 2 files" in done.stderr  # the same progress as the others


def test_fnol_from_stdin_without_attachments_in_words(server: Any, cli_env: dict[str, str]) -> None:
    done = run_cli("fnol", "--payload", "-", env=cli_env, stdin=json.dumps(FNOL))
    assert done.returncode == 0, done.stderr
    *_, last = done.stdout.strip().splitlines()
    words = last.split()
    assert words[:2] == ["damage", "notification"]
    assert str(uuid.UUID(words[2])) == words[2]
    assert last.endswith("created with 0 attachments (attempt 1)")
    assert stored_files(server, dn=words[2]) == []


def test_fnol_refusals_have_their_exit_codes(cli_env: dict[str, str], tmp_path: Path) -> None:
    refused = run_cli(
        "fnol",
        "--payload",
        str(_payload(tmp_path, {"description": "no date"})),
        "--json",
        env=cli_env,
    )
    assert refused.returncode == 7, refused.stderr
    outcome = json.loads(refused.stdout)
    assert outcome["errorType"] == "InvalidRequest"
    assert "incidentDate" in outcome["errorDescription"]
    unknown = run_cli("fnol", "--payload", str(_payload(tmp_path)), "--alias", "other", env=cli_env)
    assert unknown.returncode == 5
    assert "InsuranceCompanyNotFound" in unknown.stderr
    local = run_cli(
        "fnol",
        "--payload",
        str(_payload(tmp_path)),
        "--attachment",
        str(_file(tmp_path, "x.exe", b"MZ")),
        env=cli_env,
    )
    assert local.returncode == 3
    assert "refused before sending" in local.stderr


def test_fnol_dry_run_and_schema(cli_env: dict[str, str], tmp_path: Path) -> None:
    photo = _file(tmp_path, "a.jpg", b"\xff\xd8\xff" + b"x" * 100)
    done = run_cli(
        "fnol",
        "--payload",
        str(_payload(tmp_path)),
        "--attachment",
        str(photo),
        "--dry-run",
        "--json",
        env=cli_env,
    )
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert plan["url"].endswith("/ecx/host/api/integration/v1/damageNotification")
    assert plan["contentType"].startswith("multipart/form-data; boundary=")
    assert plan["files"] == [{"fileName": "a.jpg", "contentType": "image/jpeg", "size": 103}]
    schema = run_cli("fnol", "--show-schema", env=cli_env)
    assert schema.returncode == 0, schema.stderr
    assert "incidentDate" in json.loads(schema.stdout)["properties"]


@pytest.mark.parametrize(
    ("transfer", "form"), [("json", "application/json"), ("multipart", "multipart/form-data")]
)
def test_case_transfer_forced_either_way(
    server: Any,
    world: Any,
    cli_env: dict[str, str],
    tmp_path: Path,
    transfer: str,
    form: str,
) -> None:
    path = _file(
        tmp_path, f"report-{transfer}-{uuid.uuid4().hex[:8]}.pdf", b"%PDF-1.7 " + os.urandom(1000)
    )
    arguments = ["case", "--id", world.open_case, "--transfer", transfer, "--json", str(path)]
    plan = run_cli(*arguments, "--dry-run", env=cli_env)
    assert plan.returncode == 0, plan.stderr
    assert json.loads(plan.stdout)["contentType"].split(";")[0] == form
    done = run_cli(*arguments, env=cli_env)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["files"][0]["sha256Matches"]
    hashing_line = "reading 1 file (1009 B) to hash before sending"
    assert (hashing_line in done.stderr) is (transfer == "multipart"), done.stderr
    assert len(named(stored_files(server, case=world.open_case), {path.name})) == 1


def test_fnol_retries_a_cut_body_and_says_so(
    server: Any, cli_env: dict[str, str], tmp_path: Path
) -> None:
    """The same retries and plain progress lines as the submit commands."""
    photo = _file(tmp_path, "roof.bin.dat", os.urandom(4 * 1024 * 1024))
    with CuttingProxy(server.port, mode="request", after_bytes=2 * 1024 * 1024) as proxy:
        env = {**cli_env, "ECB_SUBMIT_URL": proxy.url, "ECB_SUBMIT_ISSUER": server.url}
        done = run_cli(
            "fnol",
            "--payload",
            str(_payload(tmp_path)),
            "--attachment",
            str(photo),
            "--json",
            env=env,
        )
    assert done.returncode == 0, done.stderr
    assert "attempt 1 failed:" in done.stderr
    assert "attempt 2: sending 1 file (4.0 MiB)" in done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["attempts"] == 2
    assert [r["fileName"] for r in stored_files(server, dn=outcome["id"])] == ["roof.bin.dat"]


def test_help_explains_the_attachment_syntax_and_exit_codes() -> None:
    done = subprocess.run([*CLI, "fnol", "--help"], capture_output=True, text=True, check=True)
    assert "after it describe that file only" in done.stdout
    assert "--attachment kitchen.jpg --damage-image" in done.stdout
    assert "  5  not found" in done.stdout
    assert "--transfer" not in done.stdout  # a new damage notification is always multipart
