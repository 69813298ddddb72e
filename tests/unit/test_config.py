"""``Settings.from_env``: ``ECB_FILES_ACCESS_LOG`` (on by default),
``ECB_FILES_WORKER_THREADS`` (chosen by storage) and ``ECB_FILES_PUBLIC_URL`` (where
``serve`` listens); §8 every default works."""

from __future__ import annotations

import pytest

from ecb_files.config import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    ConfigError,
    Settings,
    listen_url,
    public_url_for,
)

VARIABLE = "ECB_FILES_ACCESS_LOG"


def test_access_log_is_on_by_default() -> None:
    assert Settings.from_env({}).access_log is True
    assert Settings().access_log is True


def test_an_empty_access_log_value_means_the_default() -> None:
    assert Settings.from_env({VARIABLE: ""}).access_log is True
    assert Settings.from_env({VARIABLE: "  "}).access_log is True


@pytest.mark.parametrize("raw", ["on", "true", "1", "yes", "ON", "True", " on "])
def test_access_log_on_spellings(raw: str) -> None:
    assert Settings.from_env({VARIABLE: raw}).access_log is True


@pytest.mark.parametrize("raw", ["off", "false", "0", "no", "OFF", "False", " off\n"])
def test_access_log_off_spellings(raw: str) -> None:
    assert Settings.from_env({VARIABLE: raw}).access_log is False


@pytest.mark.parametrize("raw", ["maybe", "2", "enabled", "of", "-1", "none"])
def test_a_bad_access_log_value_names_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError, match=VARIABLE) as caught:
        Settings.from_env({VARIABLE: raw})
    assert repr(raw.strip().lower()) in str(caught.value)


# --- ECB_FILES_WORKER_THREADS: threads for blocking work, chosen by storage ------------

THREADS = "ECB_FILES_WORKER_THREADS"
S3_URL = "s3://bucket/prefix"


def test_worker_threads_default_to_8_on_local_storage() -> None:
    """§8 every default works: the default file:// storage gets a few threads."""
    assert Settings.from_env({}).worker_threads == 8
    assert Settings().worker_threads == 8
    assert Settings.from_env({"ECB_FILES_STORAGE_URL": "file:///srv/blobs"}).worker_threads == 8


def test_worker_threads_default_to_32_on_object_storage() -> None:
    """s3:// storage: a thread waits on the network for each part, so many more."""
    assert Settings.from_env({"ECB_FILES_STORAGE_URL": S3_URL}).worker_threads == 32
    assert Settings(storage_url=S3_URL).worker_threads == 32


def test_an_empty_worker_threads_value_means_the_default() -> None:
    assert Settings.from_env({THREADS: ""}).worker_threads == 8
    assert Settings.from_env({THREADS: " ", "ECB_FILES_STORAGE_URL": S3_URL}).worker_threads == 32


@pytest.mark.parametrize("storage", ["", "file:///srv/blobs", S3_URL])
@pytest.mark.parametrize(("raw", "threads"), [("1", 1), ("3", 3), (" 64 ", 64)])
def test_an_explicit_worker_threads_value_wins(storage: str, raw: str, threads: int) -> None:
    env = {THREADS: raw, "ECB_FILES_STORAGE_URL": storage}
    assert Settings.from_env(env).worker_threads == threads


def test_an_explicit_worker_threads_setting_wins() -> None:
    assert Settings(worker_threads=3).worker_threads == 3
    assert Settings(worker_threads=3, storage_url=S3_URL).worker_threads == 3


@pytest.mark.parametrize("raw", ["0", "-1", "-32", "eight", "8.5", "1e3", "0x10"])
def test_a_bad_worker_threads_value_names_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError, match=THREADS) as caught:
        Settings.from_env({THREADS: raw})
    assert raw in str(caught.value)


def test_worker_threads_default_follows_the_scheme_in_any_case() -> None:
    """A storage URL the store takes as local disk gets the local default."""
    assert Settings(storage_url="FILE:///srv/blobs").worker_threads == 8


# --- ECB_FILES_PUBLIC_URL: by default, where `ecb-files serve` listens ------------------

PUBLIC_URL = "ECB_FILES_PUBLIC_URL"


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("127.0.0.1", 18080, "http://127.0.0.1:18080"),
        ("10.1.2.3", 80, "http://10.1.2.3:80"),
        ("localhost", 9000, "http://localhost:9000"),
        ("files.internal", 8443, "http://files.internal:8443"),
        # Every IPv4 address: a client on this machine reaches it on the loopback one.
        ("0.0.0.0", 18080, "http://127.0.0.1:18080"),
        ("", 18080, "http://127.0.0.1:18080"),
        # IPv6 literals go in brackets; every IPv6 address is reached on ::1.
        ("::", 18080, "http://[::1]:18080"),
        ("::1", 18080, "http://[::1]:18080"),
        ("fd00::5", 8080, "http://[fd00::5]:8080"),
    ],
)
def test_listen_url(host: str, port: int, url: str) -> None:
    assert listen_url(host, port) == url


def test_the_settings_default_is_where_serve_listens_by_default() -> None:
    """Commands other than serve (demo, the CLI) keep the default serve address."""
    default = listen_url(DEFAULT_HOST, DEFAULT_PORT)
    assert default == "http://127.0.0.1:8080"
    assert Settings().public_url == default
    assert Settings.from_env({}).public_url == default
    assert Settings.from_env({PUBLIC_URL: " "}).public_url == default


def test_without_a_configured_public_url_it_is_where_serve_listens() -> None:
    assert public_url_for({}, "127.0.0.1", 18080) == "http://127.0.0.1:18080"
    assert public_url_for({}, "0.0.0.0", 18080) == "http://127.0.0.1:18080"
    assert public_url_for({PUBLIC_URL: ""}, "127.0.0.1", 18080) == "http://127.0.0.1:18080"
    assert public_url_for({PUBLIC_URL: " \n"}, "127.0.0.1", 18080) == "http://127.0.0.1:18080"


def test_a_configured_public_url_wins_over_host_and_port() -> None:
    env = {PUBLIC_URL: " https://files.example.com/ecb/ "}
    assert public_url_for(env, "0.0.0.0", 18080) == "https://files.example.com/ecb"
    # The same value Settings makes of it: issuer and token endpoint agree with serve's.
    assert Settings.from_env(env).public_url == "https://files.example.com/ecb"
    assert Settings.from_env(env).token_endpoint == "https://files.example.com/ecb/connect/token"


def test_ui_sessions_last_eight_hours_unless_configured() -> None:
    assert Settings.from_env({}).ui_session_hours == 8
    assert Settings.from_env({"ECB_FILES_UI_SESSION_HOURS": "0.5"}).ui_session_hours == 0.5


@pytest.mark.parametrize("raw", ["0", "-1", "soon", "inf", "nan"])
def test_a_bad_ui_session_length_names_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError, match="ECB_FILES_UI_SESSION_HOURS"):
        Settings.from_env({"ECB_FILES_UI_SESSION_HOURS": raw})


def test_cookies_are_secure_only_behind_an_https_public_url() -> None:
    assert Settings(public_url="https://files.example").secure_cookies
    assert not Settings(public_url="http://127.0.0.1:8080").secure_cookies


# --- ECB_FILES_MIN_BODY_RATE, ECB_FILES_MIN_BODY_RATE_GRACE (§9 Robustness) -------------

RATE = "ECB_FILES_MIN_BODY_RATE"
GRACE = "ECB_FILES_MIN_BODY_RATE_GRACE"


def test_the_minimum_body_rate_is_240_bytes_per_second_after_5_seconds() -> None:
    """§9 Robustness, §8 every default works: Kestrel's defaults."""
    settings = Settings.from_env({})
    assert (settings.min_body_rate, settings.min_body_rate_grace_seconds) == (240, 5.0)


def test_the_minimum_body_rate_is_configurable_and_0_turns_it_off() -> None:
    settings = Settings.from_env({RATE: "1000", GRACE: "2.5"})
    assert (settings.min_body_rate, settings.min_body_rate_grace_seconds) == (1000, 2.5)
    assert Settings.from_env({RATE: "0"}).min_body_rate == 0


@pytest.mark.parametrize("raw", ["-1", "fast", "2.5", "240/5"])
def test_a_bad_minimum_body_rate_names_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError, match=RATE):
        Settings.from_env({RATE: raw})


@pytest.mark.parametrize("raw", ["0", "-1", "soon", "inf", "nan"])
def test_a_bad_minimum_body_rate_grace_names_the_variable(raw: str) -> None:
    with pytest.raises(ConfigError, match=GRACE):
        Settings.from_env({GRACE: raw})


def test_files_are_not_scanned_unless_a_clamd_is_named() -> None:
    """§12.1: ECB_FILES_CLAMD unset → no scanner; its timeout defaults to 60 s."""
    settings = Settings.from_env({})
    assert (settings.clamd, settings.clamd_timeout_seconds) == ("", 60.0)


@pytest.mark.parametrize("raw", ["tcp://clamd:3310", "unix:///run/clamav/clamd.ctl"])
def test_a_clamd_address_is_taken(raw: str) -> None:
    """§8/§12.1: ECB_FILES_CLAMD is tcp://host:port or unix:///path."""
    env = {"ECB_FILES_CLAMD": raw, "ECB_FILES_CLAMD_TIMEOUT": "5"}
    settings = Settings.from_env(env)
    assert (settings.clamd, settings.clamd_timeout_seconds) == (raw, 5.0)


@pytest.mark.parametrize("raw", ["clamd:3310", "http://clamd:3310", "/run/clamd.ctl"])
def test_a_bad_clamd_address_names_the_variable(raw: str) -> None:
    """§8: a bad ECB_FILES_CLAMD is refused at start-up, naming the variable."""
    with pytest.raises(ConfigError, match="ECB_FILES_CLAMD"):
        Settings.from_env({"ECB_FILES_CLAMD": raw})
