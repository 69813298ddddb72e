"""``Settings.from_env``: ``ECB_FILES_ACCESS_LOG`` (on by default) and
``ECB_FILES_WORKER_THREADS`` (chosen by storage); §8 every default works."""

from __future__ import annotations

import pytest

from ecb_files.config import ConfigError, Settings

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
