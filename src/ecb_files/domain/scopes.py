"""The OAuth scopes of the API (§2, §11.1) and which kind of client may hold which.

A client belongs to a service partner or to an insurance company (its owner); the
scopes it may be given follow from that, so a partner's client can never act as an
insurer or the other way round.
"""

from __future__ import annotations

PARTNER_WRITE = "platform-service-provider:write"
PARTNER_READ = "platform-service-provider:read"
INSURER_READ = "platform-insurer:read"
INSURER_WRITE = "platform-insurer:write"

PARTNER_SCOPES = (PARTNER_WRITE, PARTNER_READ)
INSURER_SCOPES = (INSURER_READ, INSURER_WRITE)
ALL_SCOPES = (*PARTNER_SCOPES, *INSURER_SCOPES)


def foreign_scope(scopes: tuple[str, ...] | list[str], *, insurer: bool) -> str | None:
    """The first of ``scopes`` that belongs to the other kind of owner, else ``None``."""
    foreign = PARTNER_SCOPES if insurer else INSURER_SCOPES
    return next((scope for scope in scopes if scope in foreign), None)
