"""Spread a stage's work over worker processes, in chunks, with the results in order.

Workers are forked (on Linux) so that they start at once with the modules already imported;
each chunk and its results travel pickled. A stage uses workers only when enough items are
left to pay for the processes, and gives the same results as doing them in order in one process.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

PARALLEL_MIN = 48
"""Fewer items than this are done in the calling process."""

Item = TypeVar("Item")
Result = TypeVar("Result")


def worker_count() -> int:
    """How many processes may work at once."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def worth_it(items: Sequence[Any], workers: int) -> bool:
    """Enough items for ``workers`` processes to pay for themselves."""
    return workers > 1 and len(items) >= PARALLEL_MIN


def in_chunks(
    function: Callable[..., list[Result]],
    items: Sequence[Item],
    *args: Any,
    workers: int,
) -> Iterator[list[Result]]:
    """``function(chunk, *args)`` for consecutive chunks of ``items`` in ``workers`` processes.

    Yields each chunk's results as it is done, in the order of ``items``. ``function`` must be
    a module-level function, and ``args`` picklable.
    """
    size = max(1, -(-len(items) // (workers * 4)))
    chunks = [list(items[i : i + size]) for i in range(0, len(items), size)]
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else None)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield from pool.map(function, chunks, *([arg] * len(chunks) for arg in args))
