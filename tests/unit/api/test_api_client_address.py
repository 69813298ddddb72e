"""The caller's address for the token endpoint's lockout (§12.2): the peer, or the first
of ``X-Forwarded-For`` when the peer is a trusted proxy."""

from __future__ import annotations

import ipaddress

import pytest
from starlette.requests import Request

from ecb_files.api.client_address import client_address

PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1/128"))


def _request(peer: str, forwarded: str | None = None) -> Request:
    headers = [(b"x-forwarded-for", forwarded.encode())] if forwarded is not None else []
    scope = {"type": "http", "method": "POST", "path": "/", "headers": headers}
    return Request({**scope, "client": (peer, 50000)})


def test_the_peer_without_trusted_proxies() -> None:
    assert client_address(_request("10.1.2.3", "192.0.2.1"), ()) == "10.1.2.3"


def test_an_untrusted_peers_forwarded_for_is_ignored() -> None:
    assert client_address(_request("192.0.2.50", "192.0.2.1"), PROXIES) == "192.0.2.50"


@pytest.mark.parametrize(
    ("forwarded", "address"),
    [
        ("192.0.2.1", "192.0.2.1"),
        ("192.0.2.1, 10.0.0.2", "192.0.2.1"),
        (" 2001:DB8::1 ,10.0.0.2", "2001:db8::1"),
        ("[2001:db8::2]:4711", "2001:db8::2"),
        ("192.0.2.3:8080", "192.0.2.3"),
    ],
)
def test_a_trusted_proxys_first_forwarded_address(forwarded: str, address: str) -> None:
    assert client_address(_request("10.9.9.9", forwarded), PROXIES) == address


@pytest.mark.parametrize("forwarded", ["", "unknown", "not an address, 192.0.2.1"])
def test_an_unusable_forwarded_for_falls_back_to_the_peer(forwarded: str) -> None:
    assert client_address(_request("::1", forwarded), PROXIES) == "::1"
