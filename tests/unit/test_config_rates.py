"""``Settings.from_env``: the §12.2 rate limits (``ECB_FILES_RATE_LIMIT`` and friends),
their formats, ``off``, and a clear error naming the variable for a bad value."""

from __future__ import annotations

import ipaddress

import pytest

from ecb_files.config import GIB, KIB, MIB, ConfigError, Rate, RateLimits, Settings


def test_the_defaults_are_the_contracts() -> None:
    """§12.2: 600/minute, 20GiB/hour, 3000/minute; 10 and 30 failures in 300 s."""
    limits = Settings.from_env({}).rate_limits
    assert limits == RateLimits()
    assert limits.submissions == Rate(600, 60)
    assert limits.submission_bytes == Rate(20 * GIB, 3600)
    assert limits.reads == Rate(3000, 60)
    assert (limits.auth_failures_per_client, limits.auth_failures_per_address) == (10, 30)
    assert limits.auth_failure_window_seconds == 300
    assert limits.trusted_proxies == ()


@pytest.mark.parametrize(
    ("raw", "rate"),
    [
        ("5/second", Rate(5, 1)),
        ("600/minute", Rate(600, 60)),
        (" 100 / hour ", Rate(100, 3600)),
        ("12/MINUTE", Rate(12, 60)),
    ],
)
def test_request_rates(raw: str, rate: Rate) -> None:
    assert Settings.from_env({"ECB_FILES_RATE_LIMIT": raw}).rate_limits.submissions == rate
    assert Settings.from_env({"ECB_FILES_READ_RATE_LIMIT": raw}).rate_limits.reads == rate


@pytest.mark.parametrize(
    ("raw", "amount"),
    [
        ("1000/second", 1000),
        ("64KiB/second", 64 * KIB),
        ("5MiB/minute", 5 * MIB),
        ("20GiB/hour", 20 * GIB),
    ],
)
def test_byte_rates_take_binary_suffixes(raw: str, amount: int) -> None:
    limits = Settings.from_env({"ECB_FILES_BYTE_RATE_LIMIT": raw}).rate_limits
    assert limits.submission_bytes is not None
    assert limits.submission_bytes.amount == amount


@pytest.mark.parametrize(
    "name", ["ECB_FILES_RATE_LIMIT", "ECB_FILES_BYTE_RATE_LIMIT", "ECB_FILES_READ_RATE_LIMIT"]
)
def test_off_turns_a_rate_limit_off(name: str) -> None:
    limits = Settings.from_env({name: "off"}).rate_limits
    assert None in (limits.submissions, limits.submission_bytes, limits.reads)


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("ECB_FILES_RATE_LIMIT", "600"),
        ("ECB_FILES_RATE_LIMIT", "600/day"),
        ("ECB_FILES_RATE_LIMIT", "0/minute"),
        ("ECB_FILES_RATE_LIMIT", "-1/minute"),
        ("ECB_FILES_RATE_LIMIT", "10KiB/minute"),  # bytes are for the byte rate
        ("ECB_FILES_BYTE_RATE_LIMIT", "20GB/hour"),
        ("ECB_FILES_BYTE_RATE_LIMIT", "1.5GiB/hour"),
        ("ECB_FILES_READ_RATE_LIMIT", "lots"),
        ("ECB_FILES_AUTH_FAILURES_PER_CLIENT", "ten"),
        ("ECB_FILES_AUTH_FAILURES_PER_ADDRESS", "0"),
        ("ECB_FILES_AUTH_FAILURE_WINDOW", "5m"),
        ("ECB_FILES_TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal"),
    ],
)
def test_a_bad_value_is_a_startup_error_naming_the_variable(name: str, raw: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({name: raw})


def test_trusted_proxies_are_addresses_and_networks() -> None:
    raw = "10.0.0.0/8, 192.0.2.7 2001:db8::/32"
    proxies = Settings.from_env({"ECB_FILES_TRUSTED_PROXIES": raw}).rate_limits.trusted_proxies
    assert proxies == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.0.2.7/32"),
        ipaddress.ip_network("2001:db8::/32"),
    )


def test_a_rate_shows_as_it_is_written() -> None:
    assert str(Rate(600, 60)) == "600/minute"
