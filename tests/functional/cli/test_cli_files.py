"""``ecb-files files list|get`` (§5, §9)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

from tests.functional.cli.conftest import (
    CLOSED_CASE,
    EMPLOYEE_EMAIL,
    OPEN_CASE,
    OPEN_DN,
    Cli,
    assert_clean_failure,
)


def test_list_prints_the_records_as_json(demo_cli: Cli) -> None:
    at = datetime(2025, 5, 6, 7, 8, 9, tzinfo=UTC)
    stored = demo_cli.add_file(case_id=OPEN_CASE, data=b"12345", created_at=at)
    records = json.loads(demo_cli.ok("files", "list", "--case", OPEN_CASE, "--json").stdout)
    assert records == [
        {
            "id": str(stored.id),
            "fileName": "photo.jpg",
            "contentType": "image/jpeg",
            "size": 5,
            "sha256": hashlib.sha256(b"12345").hexdigest(),
            "description": "front door",
            "isRestricted": False,
            "isDamageImage": False,
            "uploadedBy": EMPLOYEE_EMAIL,
            "createdAt": "2025-05-06T07:08:09.000000Z",
        }
    ]


def test_list_by_dn(demo_cli: Cli) -> None:
    stored = demo_cli.add_file(dn_id=OPEN_DN)
    records = json.loads(demo_cli.ok("files", "list", "--dn", OPEN_DN, "--json").stdout)
    assert [(r["id"], r["isDamageImage"]) for r in records] == [(str(stored.id), True)]


def test_list_of_a_case_without_files_is_an_empty_array(demo_cli: Cli) -> None:
    assert json.loads(demo_cli.ok("files", "list", "--case", CLOSED_CASE, "--json").stdout) == []


def test_list_without_json_prints_one_line_per_file(demo_cli: Cli) -> None:
    stored = demo_cli.add_file(case_id=OPEN_CASE, file_name="report.pdf")
    lines = demo_cli.ok("files", "list", "--case", OPEN_CASE).stdout.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(str(stored.id))
    assert lines[0].endswith("report.pdf")


def test_list_needs_exactly_one_of_case_and_dn(demo_cli: Cli) -> None:
    message = "give exactly one of --case ID and --dn ID"
    assert_clean_failure(demo_cli("files", "list", "--json"), 2, message)
    both = demo_cli("files", "list", "--case", OPEN_CASE, "--dn", OPEN_DN, "--json")
    assert_clean_failure(both, 2, message)


def test_list_of_an_unknown_case_exits_1(demo_cli: Cli) -> None:
    unknown = "5d3c2b1a-0000-4000-8000-0000000000ff"
    result = demo_cli("files", "list", "--case", unknown, "--json")
    assert_clean_failure(result, 1, f"no case with id {unknown}")
    assert result.stdout == ""


def test_list_with_a_malformed_guid_exits_2(cli: Cli) -> None:
    assert_clean_failure(cli("files", "list", "--dn", "12", "--json"), 2, "'12' is not a GUID")


def test_get_writes_the_stored_bytes(demo_cli: Cli, tmp_path: Path) -> None:
    data = bytes(range(256)) * 5000
    stored = demo_cli.add_file(case_id=OPEN_CASE, data=data)
    out = tmp_path / "export" / "photo.jpg"
    out.parent.mkdir()
    result = demo_cli.ok("files", "get", str(stored.id), "-o", str(out))
    assert out.read_bytes() == data
    assert f"wrote {len(data)} bytes" in result.stdout


def test_get_of_an_unknown_id_exits_1_and_writes_nothing(demo_cli: Cli, tmp_path: Path) -> None:
    """§9: ``files get`` of an unknown id exits non-zero and writes nothing."""
    out_dir = tmp_path / "export"
    out_dir.mkdir()
    unknown = "0c1d2e3f-0000-4000-8000-0000000000ff"
    result = demo_cli("files", "get", unknown, "-o", str(out_dir / "x.bin"))
    assert_clean_failure(result, 1, f"no file with id {unknown}")
    assert list(out_dir.iterdir()) == []


def test_get_into_a_missing_directory_exits_2(demo_cli: Cli, tmp_path: Path) -> None:
    stored = demo_cli.add_file(case_id=OPEN_CASE)
    result = demo_cli("files", "get", str(stored.id), "-o", str(tmp_path / "nope" / "x.bin"))
    assert_clean_failure(result, 2, "does not exist")


def test_get_needs_an_output_path(demo_cli: Cli) -> None:
    stored = demo_cli.add_file(case_id=OPEN_CASE)
    assert_clean_failure(demo_cli("files", "get", str(stored.id)), 2, "-o")
