"""Run a function over chunks of work in forked processes that share the caller's memory.

The state the work needs (the site model, the template environment) is inherited by each
worker when it is forked, never pickled; only the items and the results travel between
processes. Where ``fork`` is not available the work runs in this process.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

_inherited: list[Any] = []
"""The state handed to this worker process when it was forked (empty in the main process)."""

__all__ = ["can_fork", "fork_map"]


def can_fork() -> bool:
    """Worker processes can be forked here (Linux)."""
    return sys.platform == "linux"


def fork_map(
    function: Callable[[Any, Sequence[Item]], list[Result]],
    items: Sequence[Item],
    state: Any,
    workers: int,
) -> list[Result]:
    """``function(state, chunk)`` over chunks of ``items`` in ``workers`` forked processes,
    the results concatenated in the order of ``items``."""
    if workers <= 1 or not can_fork() or not items:
        return function(state, items)
    size = max(1, -(-len(items) // (workers * 4)))
    chunks = [items[i : i + size] for i in range(0, len(items), size)]
    context = multiprocessing.get_context("fork")
    results: list[Result] = []
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_inherit, initargs=(state,)
    ) as pool:
        for part in pool.map(_run, [function] * len(chunks), chunks):
            results.extend(part)
    return results


def _inherit(state: Any) -> None:
    _inherited.append(state)


def _run(function: Callable[[Any, Sequence[Any]], list[Any]], chunk: Sequence[Any]) -> list[Any]:
    return function(_inherited[-1], chunk)
