"""Spread a stage's work over worker processes, with the results in order.

Workers are forked (on Linux) so that they start at once with the modules already imported.
:func:`in_chunks` sends each chunk pickled to a pool; :func:`forked` shares out items the
workers already hold, since a forked copy sees all of its parent's memory. A stage uses workers
only when enough items are left to pay for the processes, and gives the same results as doing
them in order in one process.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from typing import IO, Any, NoReturn, TypeVar

PARALLEL_MIN = 48
"""Fewer items than this are done in the calling process."""
FORK_MIN = 400
"""Fewer items than this are not shared out by :func:`forked` (a fork of a big process, and
reading its results back, take some tens of milliseconds)."""

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
    import multiprocessing  # here: a build with nothing to do never starts a pool
    from concurrent.futures import ProcessPoolExecutor

    size = max(1, -(-len(items) // (workers * 4)))
    chunks = [list(items[i : i + size]) for i in range(0, len(items), size)]
    context = multiprocessing.get_context("fork" if sys.platform == "linux" else None)
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        yield from pool.map(function, chunks, *([arg] * len(chunks) for arg in args))


def forked(function: Callable[[Item], Result], items: Sequence[Item], workers: int) -> list[Result]:
    """``function(item)`` for each of ``items``, in order, shared out between this process and
    ``workers - 1`` forked copies of it.

    ``function`` may be a closure over anything (a copy sees it as this process does); its
    results travel pickled. The items are dealt out in turn, so that kinds of item close
    together in ``items`` are spread evenly. A copy that cannot be made, fails or is killed
    leaves its items to this process, which does them itself: an error is then raised here,
    where it can be shown.
    Fork only from a process with no other threads.
    """
    if workers <= 1 or len(items) < FORK_MIN or not hasattr(os, "fork"):
        return [function(item) for item in items]
    results: list[Any] = [None] * len(items)
    with contextlib.ExitStack() as stack:
        children: dict[int, tuple[int, IO[bytes]]] = {}
        stack.callback(_stop, children)
        parent = os.getpid()
        for share in range(1, workers):
            try:
                spool = stack.enter_context(tempfile.TemporaryFile())
                with _interrupts_held():  # a copy must never run this process's clean-up
                    pid = os.fork()
                    if pid == 0:
                        _work(function, items[share::workers], spool, parent)
                    children[share] = (pid, spool)  # known before a held Ctrl-C arrives
            except OSError:  # no room for a copy or its results: this process does its share
                break
        results[0::workers] = [function(item) for item in items[0::workers]]
        for share in range(1, workers):
            child = children.get(share)
            theirs = _collect(*child, len(items[share::workers])) if child else None
            children.pop(share, None)
            if theirs is None:
                theirs = [function(item) for item in items[share::workers]]
            results[share::workers] = theirs
    return results


@contextlib.contextmanager
def _interrupts_held() -> Iterator[None]:
    """Hold back Ctrl-C (SIGINT) while a copy is made: in the copy it arrives only once
    :func:`_work` can catch it, so it never unwinds through the code that called
    :func:`forked` (which would release the parent's build lock, among others)."""
    held = {signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, held)


def _stop(children: dict[int, tuple[int, IO[bytes]]]) -> None:
    """Kill and reap the copies still running (when this process failed or was stopped)."""
    for pid, _ in children.values():
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):  # reaped already
            os.waitpid(pid, 0)


def _work(
    function: Callable[[Any], Any], items: Sequence[Any], spool: IO[bytes], parent: int
) -> NoReturn:
    """In a forked copy: pickle each result to ``spool``, then leave at once, running none of
    the parent's clean-up (its buffers, locks and exit handlers are the parent's). A copy
    whose parent is gone stops too: it holds the parent's open files, the build lock's among
    them."""
    code = 1
    try:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        gc.freeze()  # the inherited objects stay shared: collections never walk them
        for item in items:
            if os.getppid() != parent:
                break
            pickle.dump(function(item), spool, pickle.HIGHEST_PROTOCOL)
        else:
            spool.flush()
            code = 0
    finally:
        os._exit(code)


def _collect(pid: int, spool: IO[bytes], count: int) -> list[Any] | None:
    """The ``count`` results a copy left in ``spool``; None when it did not finish them."""
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        return None
    spool.seek(0)
    try:
        return [pickle.load(spool) for _ in range(count)]
    except (EOFError, pickle.UnpicklingError):
        return None
