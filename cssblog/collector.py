"""Keep Python's cyclic garbage collector out of the way of a build.

A build holds a few hundred thousand long-lived objects (the cache's parsed sources, rendered
bodies and comment threads). Every full collection walks all of them, and with the default
thresholds one starts every few thousand allocations: at 5,000 posts that cost about a second of
a one-post rebuild. Unpickling and pickling make no reference cycles, so collection is paused for
them; the rest of a build collects rarely. Both restore the collector's settings on the way out.
"""

from __future__ import annotations

import atexit
import gc
from collections.abc import Iterator
from contextlib import contextmanager

BUILD_THRESHOLD = 50_000
"""Allocations between young-generation collections during a build (Python's default: 700)."""

__all__ = ["eased", "none_at_exit", "paused"]


@contextmanager
def paused() -> Iterator[None]:
    """No collection at all inside the block (for work that makes no reference cycles)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def eased() -> Iterator[None]:
    """Collections at most every :data:`BUILD_THRESHOLD` allocations inside the block."""
    before = gc.get_threshold()
    gc.set_threshold(max(before[0], BUILD_THRESHOLD), *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


def none_at_exit() -> None:
    """No collection as this process ends: the system frees its memory whole, while Python's
    last collection would walk every object a build left (a tenth of a second at 5,000 posts).
    For a process that ends when its command is done; one that goes on is not affected until
    it exits."""
    atexit.unregister(gc.freeze)  # once, however many builds the process ran
    atexit.register(gc.freeze)  # frozen objects are passed over by every later collection
