"""What the page asks the read side for, as the signed-in user: each object by its id
(a missing or unseen one is the page's 404), every file of a parent, a case by number.

Visibility is the read side's (its viewer); nothing here decides who sees what.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial
from typing import TypeVar

from ecb_files.api.threads import in_thread
from ecb_files.api.ui.access import PageNotFound, Visitor
from ecb_files.errors import ClaimNotFound, DamageNotificationNotFound, FileNotFound
from ecb_files.services.pagination import Page, PageRequest
from ecb_files.services.read_models import CaseView, DamageNotificationView, FileView

T = TypeVar("T")
# A parent's files are shown on one page: a claim has tens of files, not thousands, so
# a few pages of the largest size the read side allows are read at once.
FILES_PAGE = 500


def guid(text: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(text)
    except ValueError:
        raise PageNotFound(what) from None


async def visible_case(visitor: Visitor, case_id: str | uuid.UUID) -> CaseView:
    parsed = case_id if isinstance(case_id, uuid.UUID) else guid(case_id, "case")
    try:
        return await in_thread(partial(visitor.services.reader.case, visitor.viewer, parsed))
    except ClaimNotFound:
        raise PageNotFound("case") from None


async def visible_dn(visitor: Visitor, dn_id: str) -> DamageNotificationView:
    parsed = guid(dn_id, "damage notification")
    reader = visitor.services.reader
    try:
        return await in_thread(partial(reader.damage_notification, visitor.viewer, parsed))
    except DamageNotificationNotFound:
        raise PageNotFound("damage notification") from None


async def visible_file(visitor: Visitor, file_id: str) -> FileView:
    parsed = guid(file_id, "file")
    try:
        return await in_thread(partial(visitor.services.reader.file, visitor.viewer, parsed))
    except FileNotFound:
        raise PageNotFound("file") from None


async def case_files(visitor: Visitor, case_id: uuid.UUID) -> list[FileView]:
    reader = visitor.services.reader
    return await in_thread(
        partial(_every_page, lambda page: reader.case_files(visitor.viewer, case_id, page))
    )


async def dn_files(visitor: Visitor, dn_id: uuid.UUID) -> list[FileView]:
    reader = visitor.services.reader
    return await in_thread(
        partial(_every_page, lambda page: reader.dn_files(visitor.viewer, dn_id, page))
    )


async def case_numbered(visitor: Visitor, number: str) -> CaseView | None:
    """The tenant's case with exactly this number, or ``None``."""
    reader = visitor.services.reader
    try:
        return await in_thread(partial(reader.case_by_number, visitor.viewer, number))
    except ClaimNotFound:
        return None


def _every_page(fetch: Callable[[PageRequest], Page[T]]) -> list[T]:
    items: list[T] = []
    request = PageRequest(limit=FILES_PAGE)
    while True:
        page = fetch(request)
        items.extend(page.items)
        if page.next_cursor is None:
            return items
        request = PageRequest.parse(FILES_PAGE, page.next_cursor)
