"""JSON as error messages speak of it: paths of places in a document
(``payload.files[2].fileName``) and the kinds of values (``a number``)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

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


def json_kind(value: Any) -> str:
    """The kind of a parsed JSON value as a message says it: ``a string``, ``null``, …"""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an object"
    return "an array"
