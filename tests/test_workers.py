"""Work shared out between this process and forked copies of it: same results, in order."""

from __future__ import annotations

import fcntl
import gc
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cssblog import workers
from cssblog.workers import forked
from tests.conftest import wait_for

PARENT = os.getpid()


def _no_children_left() -> bool:
    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


@pytest.fixture(autouse=True)
def few_items_suffice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(workers, "FORK_MIN", 4)


@pytest.mark.parametrize("count", [3, 4, 5, 17, 100])
@pytest.mark.parametrize("processes", [1, 2, 3])
def test_results_are_in_order_and_those_of_one_process(count: int, processes: int) -> None:
    table = {i: f"value {i} " * i for i in range(count)}  # seen by the copies through the fork
    items = list(range(count))
    assert forked(lambda i: (i, table[i]), items, processes) == [(i, table[i]) for i in items]
    assert _no_children_left()


def _work_slowly(_: int) -> int:
    time.sleep(0.01)
    return os.getpid()


def test_copies_do_the_work_in_runs_of_consecutive_items() -> None:
    pids = forked(_work_slowly, list(range(96)), 3)  # 48 runs of 2 items
    assert len(set(pids)) == 3 and PARENT in pids
    assert all(pids[i] == pids[i + 1] for i in range(0, 96, 2))
    assert _no_children_left()


def test_a_slow_process_is_helped_by_the_others() -> None:
    def work(i: int) -> int:
        time.sleep(0.03 if os.getpid() == PARENT else 0.001)
        return os.getpid()

    pids = forked(work, list(range(64)), 2)
    # Dealt in halves, this process would do 32 items; free sooner, the copy takes on more.
    assert pids.count(PARENT) < 16
    assert _no_children_left()


def _after_the_copy(flag: Path, work: Callable[[int], int]) -> Callable[[int], int]:
    """``work``, but this process does not start on its first item before a copy has written
    ``flag``: so that the copy surely takes the items of interest."""
    begun: list[int] = []

    def gated(i: int) -> int:
        if os.getpid() == PARENT and not begun:
            begun.append(i)
            wait_for(flag)
        return work(i)

    return gated


def test_a_copy_that_fails_leaves_its_items_to_this_process(tmp_path: Path) -> None:
    flag = tmp_path / "failed"

    def work(i: int) -> int:
        if os.getpid() != PARENT and not flag.exists():
            flag.write_text(str(i))
            raise RuntimeError("only in the copy")
        return i * i

    assert forked(_after_the_copy(flag, work), list(range(20)), 2) == [i * i for i in range(20)]
    assert flag.exists()
    assert _no_children_left()


def test_a_copy_that_is_killed_leaves_its_items_to_this_process(tmp_path: Path) -> None:
    flag = tmp_path / "killed"

    def work(i: int) -> int:
        if os.getpid() != PARENT and not flag.exists():
            flag.write_text(str(i))
            os.kill(os.getpid(), signal.SIGKILL)
        return i + 1

    assert forked(_after_the_copy(flag, work), list(range(20)), 2) == [i + 1 for i in range(20)]
    assert flag.exists()
    assert _no_children_left()


@pytest.mark.parametrize("processes", [2, 3])
def test_an_error_is_raised_here_and_no_copy_is_left_running(
    tmp_path: Path, processes: int
) -> None:
    def work(i: int) -> int:
        if i == 11:
            raise ValueError(f"item {i}")
        return i

    with pytest.raises(ValueError, match="item 11"):  # met by whichever process takes it
        forked(work, list(range(30)), processes)
    assert _no_children_left()

    flag = tmp_path / f"met by a copy of {processes}"

    def in_a_copy(i: int) -> int:
        if os.getpid() != PARENT and not flag.exists():
            flag.write_text(str(i))  # the first item a copy reaches is the bad one
        if flag.exists() and flag.read_text() == str(i):
            raise ValueError(f"item {i}")
        return i

    with pytest.raises(ValueError, match=r"item \d+") as raised:  # met by a copy, raised here
        forked(_after_the_copy(flag, in_a_copy), list(range(30)), processes)
    assert str(raised.value) == f"item {flag.read_text()}"
    assert _no_children_left()


def test_few_items_stay_in_this_process() -> None:
    assert forked(lambda _: os.getpid(), [1, 2, 3], 2) == [PARENT] * 3


def test_no_more_copies_are_made_than_there_are_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            made.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    pids = forked(_work_slowly, [1, 2, 3], 8, at_least=2)  # 3 runs of one item each
    assert len(made) == 2 and set(pids) <= {PARENT, *made}
    assert _no_children_left()


def test_meanwhile_runs_once_here_while_the_copies_work(tmp_path: Path) -> None:
    flag = tmp_path / "a copy has worked"
    calls: list[object] = []

    def work(i: int) -> int:
        if os.getpid() != PARENT:
            flag.touch()
        else:
            calls.append(i)  # this process's items, after meanwhile
        return os.getpid()

    def meanwhile() -> None:
        wait_for(flag)  # returns only once a copy has done an item: they work side by side
        calls.append(("meanwhile", os.getpid()))

    pids = forked(work, list(range(40)), 2, meanwhile=meanwhile)
    assert calls[0] == ("meanwhile", PARENT)
    assert calls.count(("meanwhile", PARENT)) == 1
    assert len(pids) == 40 and any(pid != PARENT for pid in pids)
    assert _no_children_left()


def test_meanwhile_with_no_copies_comes_before_the_items() -> None:
    order: list[str] = []

    def work(i: int) -> int:
        order.append(f"item {i}")
        return i

    assert forked(work, [1, 2], 2, meanwhile=lambda: order.append("meanwhile")) == [1, 2]
    assert order == ["meanwhile", "item 1", "item 2"]
    assert forked(work, [], 2, meanwhile=lambda: order.append("again")) == []
    assert order[-1] == "again"


def test_an_error_meanwhile_is_raised_and_no_copy_is_left_running() -> None:
    def meanwhile() -> None:
        raise OSError("no room for the cache")

    with pytest.raises(OSError, match="no room"):
        forked(_work_slowly, list(range(40)), 3, meanwhile=meanwhile)
    assert _no_children_left()


def test_a_copy_that_cannot_be_made_leaves_its_items_to_this_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_fork() -> int:
        raise OSError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    assert forked(lambda i: (i, os.getpid()), list(range(12)), 3) == [
        (i, PARENT) for i in range(12)
    ]


def test_an_interrupt_while_waiting_for_a_copy_stops_and_reaps_it(tmp_path: Path) -> None:
    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    flag = tmp_path / "copy at work"
    begun: list[int] = []

    def work(i: int) -> int:
        if os.getpid() != PARENT:
            flag.touch()
            time.sleep(5)  # the copy is still at its first item when the interrupt comes
        elif not begun:
            begun.append(i)
            wait_for(flag)
            signal.setitimer(signal.ITIMER_REAL, 0.5)  # timers are not inherited by a fork
        return i

    before = signal.signal(signal.SIGALRM, interrupt)
    try:
        with pytest.raises(KeyboardInterrupt):
            forked(work, list(range(40)), 2)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before)
    assert _no_children_left()


KILLED_PARENT = """
import fcntl, os, sys, time
sys.path.insert(0, {root!r})
from cssblog import workers
workers.FORK_MIN = 4
lock = open({lock!r}, "a+")
fcntl.flock(lock, fcntl.LOCK_EX)
print(os.getpid(), flush=True)
workers.forked(lambda i: time.sleep(0.1), list(range(200)), 2)
"""


def test_a_copy_whose_parent_is_killed_stops_and_lets_go_of_its_files(tmp_path: Path) -> None:
    lock = tmp_path / "build.lock"
    script = KILLED_PARENT.format(root=str(Path(__file__).parent.parent), lock=str(lock))
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    int(parent.stdout.readline())
    time.sleep(0.5)  # both processes are working through their runs of 0.7 s
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 3
    with lock.open("a+") as handle:
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                assert time.monotonic() < deadline, "the orphaned copy still holds the lock"
                time.sleep(0.05)


def test_what_the_process_made_is_frozen_while_copies_work_then_in_the_oldest_generation() -> None:
    made_before = [["held"]]  # a container: the collector tracks it
    frozen: list[int] = []
    assert gc.get_freeze_count() == 0
    results = forked(
        lambda n: n * 2,
        list(range(workers.FORK_MIN)),
        2,
        meanwhile=lambda: frozen.append(gc.get_freeze_count()),
    )
    assert results == [n * 2 for n in range(workers.FORK_MIN)]
    assert frozen and frozen[0] > 0  # left out of this process's collections meanwhile
    assert gc.get_freeze_count() == 0
    assert any(o is made_before for o in gc.get_objects(generation=2))
