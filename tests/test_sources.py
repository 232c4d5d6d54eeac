"""Reading ``content/``: the walk, and bringing a walk up to date from the files that changed."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cssblog import sources
from cssblog.sources import read_sources, refresh_sources

NAMES = ["a.md", "b.md", "z.md", "notes.txt", ".hidden.md", "x.md~", "logo.png"]
FOLDERS = ["posts", "pages", "comments/first", "comments/second", "static", "static/img"]

operation = st.tuples(
    st.sampled_from(["write", "delete", "remove-folder", "rename-folder"]),
    st.sampled_from(FOLDERS),
    st.sampled_from(NAMES),
    st.integers(0, 3),
)


def _apply(content: Path, op: str, folder: str, name: str, n: int) -> set[str]:
    """Do ``op`` below ``content``; the paths a file watcher would report."""
    where = content / folder
    if op == "write":
        where.mkdir(parents=True, exist_ok=True)
        (where / name).write_text(f"text {n}")
        return {str(where / name)}
    if op == "delete":
        (where / name).unlink(missing_ok=True)
        return {str(where / name)}
    if folder.count("/") == 0 or not where.is_dir():
        return set()  # a kind's own folder is left in place
    if op == "remove-folder":
        shutil.rmtree(where)
        return {str(where)}
    moved = where.with_name(f"{where.name}-{n}")
    if moved.exists():
        return set()
    where.rename(moved)
    return {str(where), str(moved)}


@settings(max_examples=60, deadline=None)
@given(st.lists(operation, max_size=6), st.lists(operation, min_size=1, max_size=6))
def test_refreshing_from_the_changed_paths_finds_what_a_walk_finds(
    setup: list[tuple[str, str, str, int]], changes: list[tuple[str, str, str, int]]
) -> None:
    with tempfile.TemporaryDirectory() as work:
        content = Path(work) / "content"
        for folder in ("posts", "pages", "comments", "static"):
            (content / folder).mkdir(parents=True)
        for step in setup:
            _apply(content, *step)
        before, problems = read_sources(content)
        assert problems == ()
        changed: set[str] = set()
        for step in changes:
            changed |= _apply(content, *step)
        changed.add(str(Path(work) / "themes/default/base.html"))  # outside content/: ignored
        assert refresh_sources(content, before, changed) == read_sources(content)[0]


def test_refreshing_reads_only_the_changed_files(tmp_path: Path) -> None:
    content = tmp_path / "content"
    (content / "posts").mkdir(parents=True)
    (content / "posts/a.md").write_text("one")
    (content / "posts/b.md").write_text("two")
    before, _ = read_sources(content)
    (content / "posts/a.md").write_text("one, edited")
    (content / "posts/b.md").write_text("two, edited but not reported")
    after = refresh_sources(content, before, {str(content / "posts/a.md")})
    assert after is not None
    assert [s.data for s in after] == [b"one, edited", b"two"]
    assert after[1] is before[1]


def test_a_change_only_a_whole_walk_can_tell_gives_none(tmp_path: Path) -> None:
    content = tmp_path / "content"
    (content / "posts").mkdir(parents=True)
    (content / "posts/a.md").write_text("one")
    before, _ = read_sources(content)
    outside = tmp_path / "outside.md"
    outside.write_text("secret")
    (content / "posts/link.md").symlink_to(outside)
    assert refresh_sources(content, before, {str(content / "posts/link.md")}) is None
    assert read_sources(content)[1]  # the walk reports the link
    assert refresh_sources(content, before, {str(content / "posts")}) is None
    assert refresh_sources(content, before, {str(content)}) is None


def _slow_disk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every batch of reads looks slow, and batches are small: the threads read the rest."""
    monkeypatch.setattr(sources, "_SLOW", -1.0)
    monkeypatch.setattr(sources, "_BATCH", 3)


def _tree(content: Path) -> None:
    for n in range(40):
        (content / "posts").mkdir(parents=True, exist_ok=True)
        (content / f"posts/p{n:02d}.md").write_text(f"post {n}")
        (content / f"comments/p{n:02d}").mkdir(parents=True)
        for c in range(n % 4):
            (content / f"comments/p{n:02d}/c{c}.md").write_text(f"comment {c} on {n}")
    (content / "comments/p03/.hidden").mkdir()
    (content / "comments/p03/.hidden/c.md").write_text("ignored")
    (content / "static/img/deep").mkdir(parents=True)
    (content / "static/img/deep/logo.png").write_bytes(b"\x89PNG")
    (content / "posts/outside.md").symlink_to(content.parent / "elsewhere.md")
    (content.parent / "elsewhere.md").write_text("outside")


def test_files_read_by_threads_are_what_reading_in_turn_finds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    content = tmp_path / "content"
    _tree(content)
    in_turn = read_sources(content)
    assert len(in_turn[0]) == 40 + sum(n % 4 for n in range(40)) + 1
    assert [p.message for p in in_turn[1]] == ["symbolic link points outside content/"]
    used: dict[str, int] = {}
    together = sources._together

    def counted(function: Any, items: Any, ahead: Any = None) -> Any:
        used[function.__name__] = max(used.get(function.__name__, 0), len(items))
        return together(function, items, ahead)

    monkeypatch.setattr(sources, "_together", counted)
    _slow_disk(monkeypatch)
    files, problems = read_sources(content)
    assert files == in_turn[0]
    assert [(p.message, p.path) for p in problems] == [(p.message, p.path) for p in in_turn[1]]
    assert used["_listing"] > sources._THREADS  # the comment folders were shared out
    assert used["_read_one"] > sources._THREADS  # and the files
    assert threading.active_count() == 1


def _files(folder: Path, count: int, missing: int | None = None) -> list[str]:
    """Paths of ``count`` files in ``folder``, each holding ``file {n}``, but for ``missing``."""
    names = [str(folder / f"f{n}") for n in range(count)]
    for n, name in enumerate(names):
        if n != missing:
            Path(name).write_text(f"file {n}")
    return names


def test_a_file_gone_before_a_thread_reads_it_is_a_problem_in_its_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _slow_disk(monkeypatch)
    names = _files(tmp_path, 20, missing=11)
    made = sources.read_files(names)
    assert [m[0] if isinstance(m, tuple) else None for m in made] == [
        None if n == 11 else f"file {n}".encode() for n in range(20)
    ]
    assert isinstance(made[11], FileNotFoundError)


def test_each_reading_thread_announces_its_run_before_reading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _slow_disk(monkeypatch)
    names = _files(tmp_path, 30)
    announced: list[list[str]] = []
    read_too_soon: list[str] = []
    read_one = sources._read_one

    def announce(locations: Any) -> None:
        announced.append(list(locations))

    def reading(location: str) -> Any:
        if location in names[3:] and not any(location in run for run in announced):
            read_too_soon.append(location)
        return read_one(location)

    monkeypatch.setattr(sources, "_announce", announce)
    monkeypatch.setattr(sources, "_read_one", reading)
    made = sources.read_files(names)
    assert [m[0] for m in made if isinstance(m, tuple)] == [f"file {n}".encode() for n in range(30)]
    # the first batch is read in turn; the rest is shared out, each run announced whole
    assert sorted(n for run in announced for n in run) == sorted(names[3:])
    assert len(announced) == sources._THREADS
    assert read_too_soon == []


@pytest.mark.parametrize("failure", ["no fadvise", "fadvise fails", "cannot open"])
def test_reads_are_the_same_whatever_becomes_of_the_announcement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    names = _files(tmp_path, 20)
    expected = sources.read_files(names)
    _slow_disk(monkeypatch)
    advised: list[int] = []
    if failure == "no fadvise":
        monkeypatch.setattr(sources, "_WILLNEED", None)
        monkeypatch.setattr(os, "open", lambda *a, **k: pytest.fail("opened to announce"))
        monkeypatch.setattr(sources, "read_bytes", lambda p: Path(p).read_bytes())
    elif failure == "fadvise fails":

        def refuse(handle: int, offset: int, length: int, advice: int) -> None:
            advised.append(handle)
            raise OSError(22, "Invalid argument")

        monkeypatch.setattr(sources, "_WILLNEED", 3)
        monkeypatch.setattr(os, "posix_fadvise", refuse, raising=False)
    else:
        Path(names[10]).unlink()
    made = sources.read_files(names)
    if failure == "cannot open":
        assert isinstance(made[10], FileNotFoundError)
        assert made[:10] + made[11:] == expected[:10] + expected[11:]
    else:
        assert made == expected
    if failure == "fadvise fails":
        assert len(advised) == len(names) - 3  # every file after the first batch, then closed
        assert all(_closed(handle) for handle in advised)
    assert threading.active_count() == 1


def _closed(handle: int) -> bool:
    try:
        os.fstat(handle)
    except OSError:
        return True
    return False


def test_a_reading_thread_that_fails_fails_the_read_and_leaves_no_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _slow_disk(monkeypatch)
    names = [str(tmp_path / f"f{n}") for n in range(40)]
    for name in names:
        Path(name).write_text("x")
    read_one = sources._read_one
    started = threading.Event()

    def failing(location: str) -> Any:
        if location == names[-1]:  # in the last thread's run
            raise MemoryError("no room")
        started.set()
        return read_one(location)

    monkeypatch.setattr(sources, "_read_one", failing)
    with pytest.raises(MemoryError, match="no room"):
        sources.read_files(names)
    assert started.is_set()
    assert threading.active_count() == 1


@pytest.mark.parametrize(
    ("root", "location"),
    [
        ("/srv/blog", "/srv/blog/content/posts/a.md"),
        ("blog", "blog/content/posts/a.md"),
        (".", "content/posts/a.md"),
        ("/", "/content/posts/a.md"),
        ("/srv/blog", "/srv/blog-old/content/posts/a.md"),  # not below: the whole path
        ("/srv/blog", "/elsewhere/a.md"),
    ],
)
def test_a_source_below_the_site_is_named_as_relative_to_names_it(root: str, location: str) -> None:
    source = sources.SourceFile("post", location, "a.md", b"", "d")
    try:
        expected = Path(location).relative_to(root)
    except ValueError:
        expected = Path(location)
    assert source.below(Path(root)) == expected


def test_a_ctrl_c_while_waiting_for_the_readers_stops_them_all_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    join = threading.Thread.join
    interrupted: list[bool] = []

    def join_once_interrupted(self: threading.Thread, timeout: float | None = None) -> None:
        if not interrupted:
            interrupted.append(True)
            raise KeyboardInterrupt
        join(self, timeout)

    def slow_elsewhere(n: int) -> int:
        if threading.current_thread() is not threading.main_thread():
            time.sleep(0.02)
        return n

    monkeypatch.setattr(threading.Thread, "join", join_once_interrupted)
    with pytest.raises(KeyboardInterrupt):
        sources._together(slow_elsewhere, list(range(200)))
    assert interrupted and threading.active_count() == 1  # none reads on after the Ctrl-C


def test_a_ctrl_c_is_what_comes_out_even_after_another_threads_error() -> None:
    entered, failed = threading.Event(), threading.Event()

    def read(n: int) -> int:
        if threading.current_thread() is threading.main_thread():
            entered.set()
            assert failed.wait(10)
            raise KeyboardInterrupt
        assert entered.wait(10)
        failed.set()
        raise PermissionError("denied")

    with pytest.raises(KeyboardInterrupt):
        sources._together(read, list(range(40)))
    assert threading.active_count() == 1
