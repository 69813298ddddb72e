"""A small document that arrives whole, read by the standard library's C parser.

The tokenizer (``json_events``) reads a body byte by byte in Python so that a body of
any size is checked as it streams. A small body that arrived in one piece gains
nothing from that: the C parser reads it many times faster. ``read_whole`` takes the
tree only when the tokenizer would have taken the same document: well-formed UTF-8
JSON whose root is an object, raw control characters nowhere, and within every bound
the tokenizer enforces by itself (depth, members, values, lengths, duplicate keys, lone
surrogates). For anything else it answers ``None`` and the tokenizer reads the bytes,
which finds the first fault and names it as always. ``replay`` then gives the handler
the events the tokenizer would have given, in the same order, so that the handler
cannot tell the two apart (tests/unit/ingest/test_json_whole.py checks it).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ecb_files.config import Limits
from ecb_files.domain.json_paths import JsonPath

if TYPE_CHECKING:
    from ecb_files.ingest.json_events import JsonEventHandler, JsonNumber

# Above this, a body is read as it streams: holding it whole would not be small.
WHOLE_DOCUMENT_BYTES = 64 * 1024


class _Members(list[tuple[str, Any]]):
    """An object's members in document order, duplicates kept (arrays stay lists)."""


class _NotTaken(Exception):
    """The document is left to the tokenizer."""


def _refuse_constant(name: str) -> Any:
    raise _NotTaken(name)  # NaN and Infinity are not JSON


def read_whole(
    document: bytes, limits: Limits, number: Callable[[str], JsonNumber]
) -> _Members | None:
    """The root object's members, if the tokenizer would take ``document`` (see the
    module doc); else ``None``. Numbers are made by ``number`` from their text."""
    if len(document) > WHOLE_DOCUMENT_BYTES or not document.rstrip(b" \t\r\n").endswith(b"}"):
        return None  # not whole (a prefix of a larger body), or not a small one
    try:
        tree = json.loads(
            document.decode("utf-8"),
            object_pairs_hook=_Members,
            parse_int=number,
            parse_float=number,
            parse_constant=_refuse_constant,
        )
    except (ValueError, RecursionError, _NotTaken):  # UnicodeDecodeError is a ValueError
        return None
    if type(tree) is not _Members:
        return None
    bounds = _Bounds(limits)
    if not bounds.kept(tree, 1):
        return None
    return tree


class _Bounds:
    """The tokenizer's own bounds, checked over a whole tree."""

    def __init__(self, limits: Limits) -> None:
        self._max_depth = limits.max_json_depth
        self._max_chars = limits.max_string_chars
        self._max_members = limits.max_object_members
        self._values_left = limits.max_json_values

    def kept(self, container: _Members | list[Any], depth: int) -> bool:
        if depth > self._max_depth:
            return False
        if type(container) is _Members:
            if len(container) > self._max_members:
                return False
            keys = [key for key, _ in container]
            if len(set(keys)) != len(keys):
                return False
            if keys and max(map(len, keys)) > self._max_chars:
                return False
            # Joined, as one check in C: Python never pairs surrogates when encoding.
            every_key = "".join(keys)
            if not every_key.isascii() and not _encodable(every_key):
                return False
            values: list[Any] = [value for _, value in container]
        else:
            values = container
        self._values_left -= len(values)
        if self._values_left < 0:
            return False
        for value in values:
            kind = type(value)
            if kind is str:
                if not value.isascii() and not _encodable(value):
                    return False
            elif kind is _Members or kind is list:
                if not self.kept(value, depth + 1):
                    return False
            elif value is not None and kind is not bool and len(value.text) > self._max_chars:
                return False  # a number
        return True


def _encodable(text: str) -> bool:
    """False for a string with a lone surrogate (which the tokenizer refuses)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Replay:
    """The events of a tree from ``read_whole``, as the tokenizer would send them.

    ``too_long(path)`` is the tokenizer's refusal of a string the handler did not
    stream and that is longer than ``max_chars``: the one bound that depends on the
    handler's answers, so it is met during the replay, where the tokenizer meets it.
    """

    def __init__(
        self,
        handler: JsonEventHandler,
        max_chars: int,
        too_long: Callable[[JsonPath], Exception],
    ) -> None:
        self._handler = handler
        self._max_chars = max_chars
        self._too_long = too_long
        self._path: list[str | int] = []

    def object(self, members: _Members) -> None:
        handler = self._handler
        path = self._path
        handler.start_object()
        path.append("")
        for key, value in members:
            path[-1] = key
            handler.key(key)
            self._value(value)
        path.pop()
        handler.end_object()

    def _array(self, items: list[Any]) -> None:
        handler = self._handler
        path = self._path
        handler.start_array()
        path.append(0)
        for index, value in enumerate(items):
            path[-1] = index
            self._value(value)
        path.pop()
        handler.end_array()

    def _value(self, value: Any) -> None:
        kind = type(value)
        if kind is str:
            self._string(value)
        elif kind is _Members:
            self.object(value)
        elif kind is list:
            self._array(value)
        else:
            self._handler.scalar(value)

    def _string(self, text: str) -> None:
        handler = self._handler
        if handler.begin_string():
            data = text.encode("ascii") if text.isascii() else text.encode("utf-8")
            if data:
                handler.string_chunk(data)
            handler.end_string()
            return
        if len(text) > self._max_chars:
            raise self._too_long(tuple(self._path))
        handler.scalar(text)
