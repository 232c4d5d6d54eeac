"""The garbage collector is eased during a build and left as it was found."""

from __future__ import annotations

import gc
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import cssblog.build
from cssblog import collector
from cssblog.build import build_site
from tests.conftest import NOW, MakeSite, post


@pytest.fixture
def restore_gc() -> Iterator[None]:
    threshold, enabled = gc.get_threshold(), gc.isenabled()
    yield
    gc.set_threshold(*threshold)
    if enabled:
        gc.enable()


@pytest.mark.usefixtures("restore_gc")
def test_paused_stops_collection_and_restores_it_even_on_error() -> None:
    gc.enable()
    with pytest.raises(RuntimeError), collector.paused():
        assert not gc.isenabled()
        raise RuntimeError("boom")
    assert gc.isenabled()


@pytest.mark.usefixtures("restore_gc")
def test_paused_leaves_a_disabled_collector_disabled() -> None:
    gc.disable()
    with collector.paused():
        pass
    assert not gc.isenabled()


@pytest.mark.usefixtures("restore_gc")
def test_eased_raises_the_young_threshold_and_puts_it_back() -> None:
    gc.set_threshold(700, 10, 10)
    with pytest.raises(RuntimeError), collector.eased():
        assert gc.get_threshold() == (collector.BUILD_THRESHOLD, 10, 10)
        raise RuntimeError("boom")
    assert gc.get_threshold() == (700, 10, 10)


@pytest.mark.usefixtures("restore_gc")
def test_a_build_collects_rarely_while_it_runs_and_restores_the_collector(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    gc.set_threshold(700, 10, 10)
    seen = []
    real = cssblog.build._full_build

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(gc.get_threshold()[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(cssblog.build, "_full_build", spy)
    root = make_site({"content/posts/a.md": post("A", "2026-01-02")})
    build_site(root, now=NOW)
    assert seen == [collector.BUILD_THRESHOLD]
    assert gc.get_threshold() == (700, 10, 10) and gc.isenabled()


_CYCLE_AT_EXIT = """
import gc, sys
from cssblog import collector

class Cycle:
    def __del__(self):  # runs only if a collection frees the cycle
        print("collected", flush=True)

gc.disable()  # no collection before the exit's own
one = Cycle()
one.me = one
del one
if sys.argv[1] == "none":
    collector.none_at_exit()
    collector.none_at_exit()
"""


@pytest.mark.parametrize("asked", [False, True])
def test_none_at_exit_leaves_garbage_to_the_system(asked: bool) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _CYCLE_AT_EXIT, "none" if asked else "all"],
        capture_output=True, text=True, check=True, cwd=Path(__file__).parent.parent,
    )  # fmt: skip
    assert done.stdout == ("" if asked else "collected\n")


def test_a_command_line_build_asks_for_no_collection_at_exit(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from cssblog.cli import main

    asked: list[bool] = []
    monkeypatch.setattr(collector, "none_at_exit", lambda: asked.append(True))
    root = make_site({"content/posts/a.md": post("A", "2026-01-02")})
    result = CliRunner().invoke(main, ["build", "--site", str(root)])
    assert result.exit_code == 0, result.output
    assert asked == [True]
