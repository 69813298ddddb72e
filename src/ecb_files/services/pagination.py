"""Paging of the read side's lists (§11.2): ``limit`` 1–500 (default 100) and an opaque
cursor naming where the previous page ended."""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from ecb_files.db.reading import Keyset
from ecb_files.errors import InvalidRequest

DEFAULT_LIMIT = 100
MAX_LIMIT = 500

T = TypeVar("T")


@dataclass(frozen=True)
class PageRequest:
    limit: int = DEFAULT_LIMIT
    after: Keyset | None = None

    @classmethod
    def parse(cls, limit: str | int | None, cursor: str | None) -> PageRequest:
        """From the query's ``limit`` and ``cursor``; 400 naming the one that is wrong."""
        return cls(_limit(limit), None if cursor in (None, "") else decode_cursor(cursor))


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def page_of(items: list[T], request: PageRequest, keyset: Keyset | None) -> Page[T]:
    """``items`` as fetched with ``limit + 1``: the extra one only says a next page exists;
    ``keyset`` is that of the last item kept."""
    more = len(items) > request.limit
    kept = items[: request.limit]
    return Page(kept, encode_cursor(keyset) if more and keyset is not None else None)


def encode_cursor(keyset: Keyset) -> str:
    moment, last_id = keyset
    text = f"{moment.isoformat()}|{last_id.hex}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Keyset:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode("ascii")).decode()
        moment_text, _, id_text = text.partition("|")
        moment = datetime.fromisoformat(moment_text)
        if moment.tzinfo is None:
            raise ValueError("naive")
        return moment, uuid.UUID(hex=id_text)
    except (ValueError, UnicodeError, binascii.Error):
        raise InvalidRequest(
            "cursor: not a cursor this service gave out (pass payload.nextCursor as it is)",
            reason="bad_cursor",
        ) from None


def _limit(value: str | int | None) -> int:
    if value is None or value == "":
        return DEFAULT_LIMIT
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if not 1 <= limit <= MAX_LIMIT or (isinstance(value, str) and not value.isdigit()):
        raise InvalidRequest(
            f"limit: must be a whole number from 1 to {MAX_LIMIT}, not {str(value)[:40]!r}",
            reason="bad_limit",
        )
    return limit
