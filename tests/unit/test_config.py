"""``Settings.from_env``: ``ECB_FILES_ACCESS_LOG`` (on by default; §8 every default works)."""

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
