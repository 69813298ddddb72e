"""The client's file-type table is the server's (§4), and generated from it."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from ecb_files_client import _filetypes as client_table

CLIENT_ROOT = Path(__file__).resolve().parents[1]
SYNC_SCRIPT = CLIENT_ROOT / "scripts" / "sync_filetypes.py"


def _server_table() -> ModuleType:
    try:
        from ecb_files.domain import filetypes
    except ImportError as error:
        pytest.skip(f"the ecb-files server package is not importable ({error})")
    return filetypes


def _sync_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("sync_filetypes", SYNC_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_extension_accepts_the_servers_types_in_the_servers_order() -> None:
    """§4: the same extensions, each with the same accepted types, canonical first."""
    server = _server_table()
    client_document = {
        ext: list(client_table.accepted_content_types(ext) or ())
        for ext in client_table.CONTENT_TYPES
    }
    assert client_document == server.content_types_document()
    assert list(client_document) == list(server.content_types_document())


def test_the_committed_module_is_what_the_sync_script_writes() -> None:
    """Run ``client/scripts/sync_filetypes.py`` after the server's table changes."""
    script = _sync_script()
    if not script.SERVER_MODULE.exists():
        pytest.skip(f"{script.SERVER_MODULE} is not in this checkout")
    expected = script.render(script.load_server_table())
    assert script.CLIENT_MODULE.read_text(encoding="utf-8") == expected


@pytest.mark.parametrize(
    "name",
    [
        "photo.JPG",
        "a.b.pdf",
        ".bashrc",
        "name.",
        "noext",
        "x.exe",
        "archive.ZIP",
        "a.svgz",
        # Extensions with no type of their own: octet-stream, on both sides.
        "big.dat",
        "part.MSO",
    ],
)
def test_extension_and_guess_agree_with_the_server(name: str) -> None:
    """§4, §9: extension rules (last dot, case-insensitive, dot-files have none)."""
    server = _server_table()
    assert client_table.extension_of(name) == server.extension_of(name)
    assert client_table.guess_content_type(name) == server.guess_content_type(name)


@pytest.mark.parametrize(
    ("extension", "content_type"),
    [
        ("jpg", "image/JPG"),
        ("jpg", " image/jpeg ; charset=binary"),
        ("csv", "application/vnd.ms-excel"),
        ("pdf", "application/octet-stream"),
        ("pdf", "image/png"),
        ("exe", "application/octet-stream"),
    ],
)
def test_acceptance_agrees_with_the_server(extension: str, content_type: str) -> None:
    """§9: MIME types are case-insensitive and may carry parameters."""
    server = _server_table()
    assert client_table.is_accepted(extension, content_type) == server.is_accepted(
        extension, content_type
    )
