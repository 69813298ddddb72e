"""`ecb-files demo` loads the demo data and prints a submission that works (README, §5)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

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
