"""Hand-made JSON for the bodies ``json.dumps`` will not write, and small body edits."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from tests.functional.conftest import Api, file_entry, submission
from tests.functional.world import World

PLACEHOLDER = "__RAW__"

GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def splice(body: dict[str, Any], raw: str | dict[str, str]) -> bytes:
    """``body`` serialised, with each ``"__RAW__…"`` string replaced by raw JSON text.

    ``raw`` is the text for ``"__RAW__"``, or a mapping from placeholder to text.
    """
    text = json.dumps(body)
    for placeholder, replacement in (raw if isinstance(raw, dict) else {PLACEHOLDER: raw}).items():
        quoted = json.dumps(placeholder)
        assert quoted in text, f"{placeholder} not in body"
        text = text.replace(quoted, replacement)
    return text.encode()


def valid_case_body(world: World, **file_fields: Any) -> dict[str, Any]:
    """A body that succeeds on submitForCase; ``file_fields`` change its one file."""
    entry = file_entry()
    entry.update(file_fields)
    return submission(world, world.open_case, [entry])


def edit(
    body: dict[str, Any], path: str, value: Any = ..., *, delete: bool = False
) -> dict[str, Any]:
    """A copy of ``body`` with the member at a dotted ``path`` (``payload.files.0.fileName``)
    set to ``value``, or removed."""
    changed = copy.deepcopy(body)
    *parents, last = path.split(".")
    node: Any = changed
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    key: Any = int(last) if isinstance(node, list) else last
    if delete:
        del node[key]
    else:
        node[key] = value
    return changed


def record_of(
    api: Api, file_id: str, *, case: str | None = None, dn: str | None = None
) -> dict[str, Any]:
    """The ``files list --json`` record of one stored file."""
    records = [r for r in api.files(case=case, dn=dn) if r["id"] == file_id]
    assert len(records) == 1, f"file {file_id} not listed once: {records}"
    return records[0]


def without_ids(description: str) -> str:
    """An errorDescription with every GUID blanked, to compare answers "the id aside" (§9)."""
    return GUID.sub("<id>", description)
