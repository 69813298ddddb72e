"""Who is calling, by address (§12.2): the peer, or — when the peer is a trusted proxy
(``ECB_FILES_TRUSTED_PROXIES``) — the first address of its ``X-Forwarded-For``."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from starlette.requests import Request

from ecb_files.config import IPNetwork


def client_address(request: Request, trusted_proxies: Sequence[IPNetwork]) -> str:
    peer = request.client.host if request.client is not None else ""
    if trusted_proxies and _within(peer, trusted_proxies):
        forwarded = request.headers.get("x-forwarded-for", "")
        first = _address(forwarded.split(",")[0])
        if first is not None:
            return first
    return _address(peer) or peer or "unknown"


def _within(peer: str, networks: Sequence[IPNetwork]) -> bool:
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return any(address in network for network in networks)


def _address(text: str) -> str | None:
    """An address in its canonical form; ``[v6]:port`` and ``v4:port`` lose the port."""
    candidate = text.strip()
    if candidate.startswith("["):
        candidate = candidate[1:].partition("]")[0]
    elif candidate.count(":") == 1:
        candidate = candidate.partition(":")[0]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None
