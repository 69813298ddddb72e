"""GUIDs as partners and operators write them: ``8-4-4-4-12`` hex digits, any letter case."""

from __future__ import annotations

import re
import uuid

_GUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")


def parse_guid(text: str) -> uuid.UUID:
    """The ``UUID`` that ``text`` spells; ``ValueError`` when it is not a GUID.

    Stricter than ``uuid.UUID()``, which also takes braces, ``urn:uuid:`` prefixes and
    undashed hex: none of those is a GUID in the contract's sense (§3.1, §5).
    """
    if not isinstance(text, str) or _GUID.fullmatch(text) is None:
        raise ValueError(f"{text!r} is not a GUID")
    return uuid.UUID(text)
