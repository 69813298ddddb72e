"""The interpreter of a server process, set for short pauses and quick hand-overs.

Garbage collector: CPython's full collection walks every tracked object, and a server
has many that live as long as it does (the framework, the models, the compiled
statements): a full collection every few hundred requests stopped the event loop long
enough to be most of the tail latency of small submissions (bench/README.md). What
exists once the process has started is frozen (never scanned again), and the young
generation is collected less often, so the collections that remain are short.

Thread switches: the event loop holds the interpreter while it has work, and a thread
that wants it back (the commit thread, after each of its database calls) asks only
after the switch interval. At the default 5 ms that wait was most of a small
submission's time in a busy process; 0.2 ms hands over sooner, at little cost to the
loop (bench/README.md has the measurements).
"""

from __future__ import annotations

import gc
import sys

# Allocations, net of frees, between two collections of the youngest generation.
YOUNG_THRESHOLD = 50_000
SWITCH_INTERVAL_SECONDS = 0.0002


def settle_after_start() -> None:
    """Call once the process is ready to serve: everything made so far is frozen."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
