"""The garbage collector is eased during a build and left as it was found."""

from __future__ import annotations

import gc
from collections.abc import Iterator

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
