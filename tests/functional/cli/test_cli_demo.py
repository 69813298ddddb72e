"""`ecb-files demo` loads the demo data and prints a submission that works (README, §5)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from tests.functional.cli.conftest import Cli
from tests.functional.server import ServerProcess


def test_demo_fixture_in_the_package_is_the_documented_example() -> None:
    """The packaged demo data and examples/demo-fixtures.json are the same document."""
    root = Path(__file__).resolve().parents[3]
    packaged = root / "src" / "ecb_files" / "cli" / "demo-fixtures.json"
    example = root / "examples" / "demo-fixtures.json"
    assert json.loads(packaged.read_text()) == json.loads(example.read_text())


def test_printed_curl_commands_submit_a_file(tmp_path: Path) -> None:
    """The printed token + submit commands, pasted into a shell, store a file."""
    server = ServerProcess(tmp_path / "data")
    printed = server.cli("demo").stdout
    assert "demo-partner" in printed
    server.start()
    try:
        lines = printed.splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith("TOKEN="))
        script = "\n".join(lines[start : start + 4])
        # The printed commands name the server's public URL, which is this test server.
        result = subprocess.run(
            ["bash", "-c", script], capture_output=True, text=True, timeout=60, check=True
        )
        answer = json.loads(result.stdout)
        assert answer["success"] is True, answer
        assert answer["payload"]["files"][0]["fileName"] == "hello.txt"
    finally:
        server.stop()


def test_printed_binary_commands_submit_a_file(tmp_path: Path) -> None:
    """The printed multipart/form-data commands (§10.1), pasted into a shell, store a file."""
    server = ServerProcess(tmp_path / "data")
    printed = server.cli("demo").stdout
    server.start()
    try:
        lines = printed.splitlines()
        token = next(line for line in lines if line.startswith("TOKEN="))
        start = next(i for i, line in enumerate(lines) if line.startswith("printf"))
        script = "\n".join([token, *lines[start : start + 5]])
        result = subprocess.run(
            ["bash", "-c", script],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
            cwd=tmp_path,
        )
        answer = json.loads(result.stdout)
        assert answer["success"] is True, answer
        assert answer["payload"]["files"][0]["fileName"] == "hello.txt"
        assert answer["payload"]["files"][0]["size"] == len(b"hello, insurer!\n")
    finally:
        server.stop()


def _urls(printed: str) -> set[str]:
    """The base URLs the printed commands name."""
    return set(re.findall(r"https?://[^/\s]+", printed))


@pytest.mark.parametrize(
    ("args", "base"),
    [
        ((), "http://127.0.0.1:8080"),
        (("--port", "18080"), "http://127.0.0.1:18080"),
        (("--host", "0.0.0.0", "--port", "18081"), "http://127.0.0.1:18081"),
        (("--host", "files.internal", "--port", "9000"), "http://files.internal:9000"),
        (("--host", "::1", "--port", "18082"), "http://[::1]:18082"),
    ],
)
def test_printed_commands_name_where_serve_will_listen(
    cli: Cli, args: tuple[str, ...], base: str
) -> None:
    """`ecb-files demo --host H --port P` prints URLs of `ecb-files serve --host H --port P`."""
    printed = cli.ok("demo", *args).stdout
    assert f"{base}/connect/token" in printed
    assert _urls(printed) == {base}


def test_a_configured_public_url_wins_over_the_port(cli: Cli) -> None:
    printed = cli(
        "demo", "--port", "18080", env={"ECB_FILES_PUBLIC_URL": "https://files.example.test/"}
    ).stdout
    assert "https://files.example.test/connect/token" in printed
    assert _urls(printed) == {"https://files.example.test"}
