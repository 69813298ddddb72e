"""``ecb-files-submit``: settings from flags, environment and config file; --json,
--dry-run, --help; progress as bars on a terminal and plain lines elsewhere."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from client_support import CLI, named, run_cli, stored_files
from ecb_files_client._cli.settings import UsageError, resolve

MIB = 1024 * 1024


_HEADS = {
    "jpg": b"\xff\xd8\xff\xe0",
    "pdf": b"%PDF-1.7\n",
    "zip": b"PK\x03\x04",
    "mp4": b"\0\0\0\x18ftypisom\0\0\0\0isommp41",
}


def _file(tmp_path: Path, name: str = "a.txt", size: int = 5) -> Path:
    path = tmp_path / f"{uuid.uuid4().hex[:8]}-{name}"
    # Named as a sniffed format, a file must start as one (§12.1).
    head = _HEADS.get(name.rpartition(".")[2], b"")
    path.write_bytes(head + os.urandom(size - len(head)))
    return path


def test_flags_beat_environment_beat_config_file(tmp_path: Path) -> None:
    config = tmp_path / "submit.toml"
    config.write_text(
        'url = "https://from-file"\nclient_id = "file-client"\nemail = "file@example.com"\n'
        'key = "keys/client.key"\n'
    )
    env = {"ECB_SUBMIT_CLIENT_ID": "env-client", "ECB_SUBMIT_URL": "https://from-env"}
    settings = resolve({"url": "https://from-flag"}, env, config)
    assert settings.get("url") == "https://from-flag"
    assert settings.get("client_id") == "env-client"
    assert settings.get("email") == "file@example.com"
    # Paths in the file are relative to the file.
    assert settings.get("key") == str(tmp_path / "keys" / "client.key")


def test_config_file_from_the_environment_or_the_default_place(tmp_path: Path) -> None:
    default = tmp_path / "xdg" / "ecb-files" / "submit.toml"
    default.parent.mkdir(parents=True)
    default.write_text('alias = "default-place"\n')
    named_file = tmp_path / "named.toml"
    named_file.write_text('alias = "named"\n')
    assert resolve({}, {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}).get("alias") == "default-place"
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg"), "ECB_SUBMIT_CONFIG": str(named_file)}
    assert resolve({}, env).get("alias") == "named"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('colour = "blue"\n', r"unknown setting\(s\) colour"),
        ("url = 5\n", "url must be a string"),
        ("url = \n", "not valid TOML"),
    ],
)
def test_a_bad_config_file_is_a_usage_error(tmp_path: Path, content: str, message: str) -> None:
    config = tmp_path / "submit.toml"
    config.write_text(content)
    with pytest.raises(UsageError, match=message):
        resolve({}, {}, config)


def test_choose_one_way_to_authenticate(tmp_path: Path) -> None:
    settings = resolve({"client_secret": "s", "key": str(tmp_path / "k.pem")}, {}, None)
    with pytest.raises(UsageError, match="choose one way"):
        settings.client_auth()


def test_settings_from_a_config_file_submit(
    server: Any, world: Any, cli_env: dict[str, str], key_files: tuple[Path, Path], tmp_path: Path
) -> None:
    key, cert = key_files
    config = tmp_path / "submit.toml"
    config.write_text(
        f'url = "{server.url}"\nclient_id = "jwt-client"\nkey = "{key}"\ncert = "{cert}"\n'
        f'security_token = "{world.security_token}"\nalias = "company"\n'
        f'email = "{world.email}"\n'
    )
    env = {k: v for k, v in cli_env.items() if not k.startswith("ECB_SUBMIT_")}
    path = _file(tmp_path)
    done = run_cli("case", "--config", str(config), "--id", world.open_case, str(path), env=env)
    assert done.returncode == 0, done.stderr
    assert f"stored {path.name}" in done.stdout
    assert "1 file(s) stored (attempt 1)" in done.stdout


def test_json_output_on_success(
    server: Any, world: Any, cli_env: dict[str, str], tmp_path: Path
) -> None:
    paths = [_file(tmp_path, "a.jpg", 1000), _file(tmp_path, "b.pdf", 2000)]
    done = run_cli(
        "case",
        "--id",
        world.open_case,
        "--json",
        "--description",
        "both",
        *map(str, paths),
        env=cli_env,
    )
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["success"] is True
    assert outcome["replayed"] is False
    assert [f["fileName"] for f in outcome["files"]] == [p.name for p in paths]
    assert all(f["sha256Matches"] for f in outcome["files"])
    assert set(outcome) == {
        "success",
        "files",
        "attempts",
        "idempotencyKey",
        "requestId",
        "replayed",
    }
    records = named(stored_files(server, case=world.open_case), {p.name for p in paths})
    assert {r["description"] for r in records} == {"both"}


def test_dry_run_checks_and_shows_but_sends_nothing(
    server: Any, world: Any, cli_env: dict[str, str], tmp_path: Path
) -> None:
    path = _file(tmp_path, "photo.jpg", 3000)
    done = run_cli("case", "--id", world.open_case, "--dry-run", "--json", str(path), env=cli_env)
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert plan["dryRun"] is True
    assert plan["localChecks"] is True
    assert plan["url"].endswith("/ecx/host/api/integration/v1/file/submitForCase")
    assert plan["files"] == [{"fileName": path.name, "contentType": "image/jpeg", "size": 3000}]
    assert plan["bodyBytes"] > 3000  # the file, and base64 or multipart framing around it
    assert named(stored_files(server, case=world.open_case), {path.name}) == []
    refused = run_cli(
        "case", "--id", world.open_case, "--dry-run", str(_file(tmp_path, "x.exe")), env=cli_env
    )
    assert refused.returncode == 3
    assert "file extension '.exe' is not allowed" in refused.stderr


def test_dry_run_in_words(world: Any, cli_env: dict[str, str], tmp_path: Path) -> None:
    path = _file(tmp_path, "notes.txt", 10)
    done = run_cli("dn", "--id", world.open_dn, "--dry-run", str(path), env=cli_env)
    assert done.returncode == 0, done.stderr
    assert "dry run: would POST 1 file(s) to" in done.stdout
    assert f"[1] {path.name}  text/plain  10 B" in done.stdout
    assert "nothing was sent" in done.stdout


def test_help_documents_the_exit_codes() -> None:
    done = subprocess.run([*CLI, "case", "--help"], capture_output=True, text=True, check=True)
    for line in ("  3  refused before sending", "  5  not found", "  8  still failing"):
        assert line in done.stdout
    assert "--restricted" in done.stdout
    dn_help = subprocess.run([*CLI, "dn", "--help"], capture_output=True, text=True, check=True)
    assert "--damage-image" in dn_help.stdout
    assert "--restricted" not in dn_help.stdout


def test_restricted_is_offered_for_cases_only(cli_env: dict[str, str], tmp_path: Path) -> None:
    done = run_cli("dn", "--id", "x", "--restricted", str(_file(tmp_path)), env=cli_env)
    assert done.returncode == 2
    assert "unrecognized arguments: --restricted" in done.stderr


def test_plain_progress_lines_when_not_on_a_terminal(
    world: Any, cli_env: dict[str, str], tmp_path: Path
) -> None:
    paths = [_file(tmp_path, "one.bin.dat", 3 * MIB), _file(tmp_path, "two.txt", 1000)]
    done = run_cli(
        "case", "--id", world.open_case, "--transfer", "multipart", *map(str, paths), env=cli_env
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines[0] == "reading 2 files (3.0 MiB) to hash before sending"
    assert lines[1] == "attempt 1: sending 2 files (3.0 MiB)"
    assert lines[2].startswith(f"  [1/2] {paths[0].name}: 3.0 MiB sent in ")
    assert lines[2].endswith("MiB/s") or lines[2].endswith("GiB/s")
    assert lines[3].startswith(f"  [2/2] {paths[1].name}: 1000 B sent in ")
    assert lines[4].startswith("  all sent: 3.0 MiB in ")
    assert "\x1b[" not in done.stderr  # no terminal control codes in a log


def test_progress_bars_on_a_terminal(world: Any, cli_env: dict[str, str], tmp_path: Path) -> None:
    """Attached to a terminal, stderr shows bars redrawn in place, with rate and ETA."""
    path = _file(tmp_path, "movie.mp4", 12 * MIB)
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [*CLI, "case", "--id", world.open_case, str(path)],
        env={**cli_env, "COLUMNS": "120"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=terminal,
    )
    os.close(terminal)
    screen = b""
    while True:
        ready, _, _ = select.select([controller], [], [], 60)
        if not ready:
            break
        try:
            data = os.read(controller, 65536)
        except OSError:  # the terminal closed with the process
            break
        if not data:
            break
        screen += data
    stdout = process.communicate(timeout=60)[0].decode()
    os.close(controller)
    assert process.returncode == 0, screen.decode(errors="replace")
    text = screen.decode()
    assert "\x1b[2K" in text
    assert "\x1b[2F" in text
    assert f"{path.name[:20]}" in text
    assert "100% 12.0 MiB / 12.0 MiB" in text
    assert "/s  ETA " in text
    assert "█" in text
    assert f"stored {path.name}" in stdout
