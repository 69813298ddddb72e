"""JSON paths as error messages name places in a document: ``payload.files[2].fileName``."""

from __future__ import annotations

import json
import re

JsonPath = tuple[str | int, ...]

_PLAIN_KEY = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*", re.ASCII)
_MAX_KEY_IN_PATH = 64


def format_path(path: JsonPath, prefix: str = "") -> str:
    """``payload.files[2].fileName``; odd keys in brackets, quoted and shortened."""
    out = prefix
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part) and len(part) <= _MAX_KEY_IN_PATH:
            out += f".{part}" if out else part
        else:
            shown = part if len(part) <= _MAX_KEY_IN_PATH else part[:_MAX_KEY_IN_PATH] + "…"
            out += f"[{json.dumps(shown, ensure_ascii=False)}]"
    return out or "(root object)"
