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
RUNS_EACH = 16
"""Into how many runs of consecutive items :func:`forked` cuts the items, for each process:
enough that none waits long for the slowest at the end, few enough to be cheap to deal."""
_RUNS_MAX = 1024
"""At most this many runs: their numbers, 4 bytes each, fit in the smallest pipe (one page)."""

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


def fork_worth_it(items: Sequence[Any], workers: int, at_least: int | None = None) -> bool:
    """Enough items for :func:`forked` to share them out between ``workers`` processes
    (:data:`FORK_MIN`, or ``at_least`` for items that each take long)."""
    least = FORK_MIN if at_least is None else max(2, at_least)
    return workers > 1 and len(items) >= least and hasattr(os, "fork")


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


def forked(
    function: Callable[[Item], Result],
    items: Sequence[Item],
    workers: int,
    tick: Callable[[int], None] | None = None,
    meanwhile: Callable[[], None] | None = None,
    at_least: int | None = None,
) -> list[Result]:
    """``function(item)`` for each of ``items``, in order, shared out between this process and
    ``workers - 1`` forked copies of it; ``tick(n)`` is called as each ``n`` more are done.

    ``meanwhile()``, when given, is called once in this process while the copies start on the
    items (before the items, when there are no copies): work of the caller's own that then uses
    a core a stage in one process would leave idle, while the copies take the runs this
    process has not reached. It should touch and make little: each page of memory it writes
    to while the copies live, a reference count's even, is then copied, and what it makes adds
    to theirs (pickling the cache meanwhile added a quarter to a build's peak memory, counting
    the comment inbox about a twentieth).

    ``function`` may be a closure over anything (a copy sees it as this process does); its
    results travel pickled. The items are cut into runs (:data:`RUNS_EACH` for each process),
    and each process takes the next run not yet taken whenever it is free, so that one whose
    runs turned out slower is helped by the others. A copy that cannot be made, fails or is
    killed leaves its runs to this process, which does them itself: an error is then raised
    here, where it can be shown. Fewer items than :data:`FORK_MIN` (or ``at_least``, for
    items that each take long) are done in this process.
    Fork only from a process with no other threads.
    """
    if not fork_worth_it(items, workers, at_least):
        if meanwhile is not None:
            meanwhile()
        made = [function(item) for item in items]
        if tick is not None:
            tick(len(made))
        return made
    tick = tick or (lambda _: None)
    size = -(-len(items) // min(workers * RUNS_EACH, _RUNS_MAX))
    runs = [range(i, min(i + size, len(items))) for i in range(0, len(items), size)]
    results: list[Any] = [None] * len(items)
    done: set[int] = set()

    def put(number: int, made: list[Any]) -> None:
        results[runs[number].start : runs[number].stop] = made
        done.add(number)
        tick(len(made))

    # As gc's documentation advises before a fork: what this process made so far is left out
    # of its collections while the copies work (which walked it all: 0.12 s in a build of
    # 5,000 posts), and of the copies' (whose pages of it then stay shared). Afterwards it is
    # in the oldest generation, which is rarely collected.
    gc.freeze()
    try:
        with contextlib.ExitStack() as stack:
            children: dict[int, IO[bytes]] = {}
            stack.callback(_stop, children)
            queue = _run_queue(len(runs))
            stack.callback(os.close, queue)
            parent = os.getpid()
            for _ in range(1, min(workers, len(runs))):  # no copy without a run to take
                try:
                    spool = stack.enter_context(tempfile.TemporaryFile())
                    with _interrupts_held():  # a copy must never run this process's clean-up
                        pid = os.fork()
                        if pid == 0:
                            _work(function, items, runs, queue, spool, parent)
                        children[pid] = spool  # known before a held Ctrl-C arrives
                except OSError:  # no room for a copy or its results: this process does more
                    break
            if meanwhile is not None:
                meanwhile()
            while (number := _next_run(queue)) is not None:
                put(number, [function(items[i]) for i in runs[number]])
            for pid in list(children):
                _, status = os.waitpid(pid, 0)
                left = children.pop(pid)  # reaped: its pid may be another process's from now on
                for number, theirs in _collect(status, left):
                    put(number, theirs)
    finally:
        gc.unfreeze()
    for number, run in enumerate(runs):
        if number not in done:  # taken by a copy that did not finish
            put(number, [function(items[i]) for i in run])
    return results


def _run_queue(count: int) -> int:
    """A pipe holding the numbers ``0 .. count - 1`` and closed for writing: the read end.

    Every number is 4 bytes, all written before any is read, and every read asks for 4: so
    each read by any process takes the next number whole, once.
    """
    read, write = os.pipe()
    try:
        data = b"".join(n.to_bytes(4, "little") for n in range(count))
        while data:  # at most one page (see _RUNS_MAX): a pipe holds it whole
            data = data[os.write(write, data) :]
    except BaseException:
        os.close(read)
        raise
    finally:
        os.close(write)
    return read


def _next_run(queue: int) -> int | None:
    """The number of the next run not yet taken, or None when all are."""
    data = os.read(queue, 4)
    return int.from_bytes(data, "little") if data else None


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


def _stop(children: dict[int, IO[bytes]]) -> None:
    """Kill and reap the copies still running (when this process failed or was stopped)."""
    for pid in children:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):  # reaped already
            os.waitpid(pid, 0)


def _work(
    function: Callable[[Any], Any],
    items: Sequence[Any],
    runs: Sequence[range],
    queue: int,
    spool: IO[bytes],
    parent: int,
) -> NoReturn:
    """In a forked copy: take runs from ``queue`` and pickle each one's number and results to
    ``spool``, then leave at once, running none of the parent's clean-up (its buffers, locks
    and exit handlers are the parent's). A copy whose parent is gone stops too: it holds the
    parent's open files, the build lock's among them."""
    code = 1
    try:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        gc.freeze()  # the inherited objects stay shared: collections never walk them
        while (number := _next_run(queue)) is not None:
            made = []
            for i in runs[number]:
                if os.getppid() != parent:
                    os._exit(1)
                made.append(function(items[i]))
            pickle.dump((number, made), spool, pickle.HIGHEST_PROTOCOL)
        spool.flush()
        code = 0
    finally:
        os._exit(code)


def _collect(status: int, spool: IO[bytes]) -> list[tuple[int, list[Any]]]:
    """The runs a copy that ended with ``status`` left in ``spool``, by number; none when it
    did not finish them all."""
    if os.waitstatus_to_exitcode(status) != 0:
        return []
    size = spool.seek(0, os.SEEK_END)
    spool.seek(0)
    made = []
    try:
        while spool.tell() < size:
            made.append(pickle.load(spool))
    except (EOFError, pickle.UnpicklingError):
        return []
    return made
