"""The interpreter of a server process, settled after start-up (``settle_after_start``,
``api/interpreter.py``, formerly ``api/collector.py``): what exists at start-up is
frozen and the young generation collected less often, so that no long collection stops
the event loop in the middle of small submissions (§6)."""

from __future__ import annotations

import gc
import sys
from collections.abc import Iterator

import pytest

from ecb_files.api.interpreter import (
    SWITCH_INTERVAL_SECONDS,
    YOUNG_THRESHOLD,
    settle_after_start,
)


@pytest.fixture(autouse=True)
def restored_interpreter() -> Iterator[None]:
    """The collector (unfrozen, its thresholds) and the switch interval as they were."""
    thresholds = gc.get_threshold()
    was_enabled = gc.isenabled()
    switch_interval = sys.getswitchinterval()
    gc.unfreeze()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)
    if was_enabled:
        gc.enable()
    else:
        gc.disable()
    sys.setswitchinterval(switch_interval)


def test_settle_after_start_freezes_what_exists() -> None:
    """§6: the objects made while starting are moved to the permanent generation, never
    scanned again."""
    assert gc.get_freeze_count() == 0
    settle_after_start()
    assert gc.get_freeze_count() > 0


def test_settle_after_start_raises_the_young_threshold_and_keeps_the_older_ones() -> None:
    """§6: the youngest generation is collected every ``YOUNG_THRESHOLD`` allocations;
    the thresholds of the older generations stay as they were."""
    _, older, oldest = gc.get_threshold()
    settle_after_start()
    assert gc.get_threshold() == (YOUNG_THRESHOLD, older, oldest)
    assert YOUNG_THRESHOLD > 700  # rarer than CPython's default


def test_settle_after_start_leaves_the_collector_enabled() -> None:
    """§6: collections become rarer, never switched off (memory stays bounded)."""
    gc.enable()
    settle_after_start()
    assert gc.isenabled()


def test_settle_after_start_shortens_the_switch_interval() -> None:
    """§6: a thread that finished its work (the commit thread) gets the interpreter
    back from the event loop sooner than CPython's default 5 ms."""
    settle_after_start()
    # CPython keeps the interval in whole microseconds.
    assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL_SECONDS, abs=2e-6)
    assert sys.getswitchinterval() < 0.005
