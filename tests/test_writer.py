"""The writer: atomic swaps, untouched unchanged files, refusal of dangerous output folders."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path, PurePosixPath
from typing import Any

import pytest

from cssblog import workers, writer
from cssblog.build import build_lock, build_site
from cssblog.errors import BuildLockedError, ContentErrors, CssblogError, UnsafeOutputError
from cssblog.render import OutputFile
from cssblog.writer import JOURNAL, MARKER, check_output_dir, write_outputs
from tests.conftest import NOW, MakeSite, post, tree


def files(**named: str) -> list[OutputFile]:
    return [OutputFile(PurePosixPath(k), v.encode()) for k, v in named.items()]


def test_first_write_creates_files_and_marker(tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = write_outputs(
        out,
        [
            OutputFile(PurePosixPath("index.html"), b"home"),
            OutputFile(PurePosixPath("a/index.html"), b"a"),
        ],
    )
    assert (out / "index.html").read_text() == "home"
    assert (out / "a/index.html").read_text() == "a"
    assert (out / MARKER).exists()
    assert report.written == (PurePosixPath("index.html"), PurePosixPath("a/index.html"))


def test_unchanged_files_keep_inode_and_mtime(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_outputs(out, files(same="same", changes="old", gone="gone"))
    same_before = (out / "same").stat()
    time.sleep(0.01)
    report = write_outputs(out, files(same="same", changes="new"))
    same_after = (out / "same").stat()
    assert (same_after.st_ino, same_after.st_mtime_ns) == (
        same_before.st_ino,
        same_before.st_mtime_ns,
    )
    assert (out / "changes").read_text() == "new"
    assert not (out / "gone").exists()
    assert report.written == (PurePosixPath("changes"),)
    assert report.removed == (PurePosixPath("gone"),)
    assert report.unchanged == 1


def test_nothing_changed_touches_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_outputs(out, files(a="a"))
    inode = out.stat().st_ino
    report = write_outputs(out, files(a="a"))
    assert report.written == () and report.removed == ()
    assert out.stat().st_ino == inode  # the folder itself was not swapped
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging left behind


@pytest.mark.parametrize("threads", [1, 2])
def test_failed_write_leaves_previous_output_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, threads: int
) -> None:
    monkeypatch.setattr(workers, "PARALLEL_MIN", 4)
    out = tmp_path / "out"
    write_outputs(out, files(a="old a", b="old b"))
    before = tree(out)
    attempts: list[tuple[str, str]] = []

    def full_disk(file: str, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if file.endswith("/b"):  # the disk is full for b
            attempts.append((threading.current_thread().name, file))
            raise OSError(28, "No space left on device")
        return open(file, mode, *args, **kwargs)  # noqa: PTH123

    monkeypatch.setattr(writer, "open", full_disk, raising=False)
    many = files(a="new a", **{f"page{i}/index.html": f"p{i}" for i in range(8)}, b="new b")
    with pytest.raises(CssblogError, match=r"cannot write b: No space left") as raised:
        write_outputs(out, many, workers=threads)
    assert raised.value.hint == "free some disk space"
    [(thread, path)] = attempts  # tried once
    assert thread.startswith("write") == (threads == 2)  # by a writing thread when there are
    assert raised.value.path == Path(path)
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no staging left


def test_an_interrupt_while_threads_write_stops_them_and_leaves_the_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    write_outputs(out, files(a="old a"))
    before = tree(out)
    begun = threading.Event()
    opened: list[str] = []

    def slow(file: str, *args: Any, **kwargs: Any) -> Any:
        opened.append(file)
        begun.set()
        time.sleep(0.02)  # 200 files would take seconds: the interrupt comes long before
        return open(file, *args, **kwargs)  # noqa: PTH123

    real_join = threading.Thread.join
    interrupts: list[str] = []

    def interrupted_join(self: threading.Thread, timeout: float | None = None) -> None:
        if self.name.startswith("write") and not interrupts and begun.wait(10):
            interrupts.append(self.name)  # Ctrl-C once, while this thread waits for the writers
            raise KeyboardInterrupt
        real_join(self, timeout)

    monkeypatch.setattr(writer, "open", slow, raising=False)
    monkeypatch.setattr(threading.Thread, "join", interrupted_join)
    many = files(**{f"page{i}/index.html": f"p{i}" for i in range(200)})
    with pytest.raises(KeyboardInterrupt):
        write_outputs(out, many, workers=2)
    monkeypatch.undo()
    assert interrupts
    assert 1 <= len(opened) < 20  # each thread stopped after the file in hand
    assert tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # the staging folder is gone


def test_files_written_by_two_threads_are_those_of_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writers: set[str] = set()

    def noted(file: str, *args: Any, **kwargs: Any) -> Any:
        writers.add(threading.current_thread().name)
        return open(file, *args, **kwargs)  # noqa: PTH123

    many = files(
        **{
            f"{y}/{m:02d}/post-{y}-{m}/index.html": f"{y}-{m} " * m
            for y in (2025, 2026)
            for m in range(1, 13)
        },
        **{f"tag/t{i}/index.html": f"tag {i}" for i in range(30)},
        **{"index.html": "home", "feed.xml": "<rss/>"},
    )
    assert len(many) >= workers.PARALLEL_MIN
    write_outputs(tmp_path / "one", many)
    monkeypatch.setattr(writer, "open", noted, raising=False)
    report = write_outputs(tmp_path / "two", many, workers=2)
    assert tree(tmp_path / "two") == tree(tmp_path / "one")
    assert len(report.written) == len(many)
    assert len(writers) == 2 and all(name.startswith("write") for name in writers)
    writers.clear()
    write_outputs(tmp_path / "three", many[:10], workers=2)  # too few to share out
    assert writers == {threading.current_thread().name}


def test_two_outputs_for_one_path_are_refused(tmp_path: Path) -> None:
    clash = [
        OutputFile(PurePosixPath("x/index.html"), b"1"),
        OutputFile(PurePosixPath("X/index.html"), b"2"),
    ]
    with pytest.raises(ContentErrors, match="two pages would be written"):
        write_outputs(tmp_path / "out", clash)
    assert not (tmp_path / "out").exists()


def test_pages_staged_for_one_path_are_refused_and_discarded(tmp_path: Path) -> None:
    staging = writer.open_staging(tmp_path / "out")
    paths = [PurePosixPath("x/index.html"), PurePosixPath("X/index.html")]
    assert all(staging.put(path, b"page") for path in paths)
    staged = [OutputFile(path, None, staged=True) for path in paths]
    with pytest.raises(ContentErrors, match="two pages would be written"):
        write_outputs(tmp_path / "out", staged, staging=staging)
    assert not (tmp_path / "out").exists()
    assert not staging.folder.exists()


def test_stale_staging_of_dead_process_is_reclaimed(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    leftover = tmp_path / f".out.tmp-{dead.pid}-abcd1234"
    leftover.mkdir()
    (leftover / "half.html").write_text("half")
    write_outputs(tmp_path / "out", files(a="a"))
    assert not leftover.exists()


@pytest.mark.parametrize("target", [".", "content", "content/sub", "..", "themes", "HOME", "/"])
def test_dangerous_output_folders_are_refused(
    make_site: MakeSite, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_site(
        {"content/posts/a.md": post("A", "2026-01-01"), "themes/default/templates/keep.txt": "mine"}
    )
    home = root.parent / "home"
    home.mkdir()
    (home / "precious.txt").write_text("keep me")
    monkeypatch.setenv("HOME", str(home))
    output = home if target == "HOME" else Path(target) if target == "/" else root / target
    before = tree(root.parent)
    with pytest.raises(UnsafeOutputError):
        build_site(root, now=NOW, output=output)
    assert tree(root.parent) == before


def test_symlink_to_content_is_refused(make_site: MakeSite) -> None:
    root = make_site({"content/posts/a.md": post("A", "2026-01-01")})
    (root / "link").symlink_to(root / "content")
    with pytest.raises(UnsafeOutputError):
        check_output_dir(root / "link", root)


def test_foreign_non_empty_folder_is_refused(make_site: MakeSite) -> None:
    root = make_site({"content/posts/a.md": post("A", "2026-01-01")})
    (root / "output").mkdir()
    (root / "output/notes.txt").write_text("not ours")
    with pytest.raises(UnsafeOutputError, match="not made by cssblog"):
        build_site(root, now=NOW)
    assert (root / "output/notes.txt").read_text() == "not ours"


def test_second_build_while_locked_fails_fast(make_site: MakeSite) -> None:
    root = make_site({"content/posts/a.md": post("A", "2026-01-01")})
    with build_lock(root), pytest.raises(BuildLockedError, match=f"pid {os.getpid()}"):
        build_site(root, now=NOW)
    build_site(root, now=NOW)  # released afterwards


def test_build_killed_mid_write_leaves_output_intact(make_site: MakeSite) -> None:
    """F-01: SIGKILL while the new site is being staged; the old output survives whole."""
    root = make_site({f"content/posts/p{i}.md": post(f"Post {i}", "2026-01-01") for i in range(12)})
    build_site(root, now=NOW)
    before = tree(root / "output")
    for i in range(12):
        (root / f"content/posts/p{i}.md").write_text(post(f"Changed {i}", "2026-01-01"))
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from datetime import datetime, timezone
        from cssblog import writer
        count = 0
        def slow(*args, **kwargs):
            global count
            count += 1
            if count == 5:
                print("writing", flush=True)
                time.sleep(60)
            return open(*args, **kwargs)
        writer.open = slow
        from cssblog.build import build_site
        build_site(Path({str(root)!r}), now=datetime(2026, 11, 23, tzinfo=timezone.utc))
    """)
    child = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, cwd=Path(__file__).parent.parent
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == b"writing"
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=10)
    assert tree(root / "output") == before
    assert any(p.name.startswith(".output.tmp-") for p in root.iterdir())  # killed mid-stage
    build_site(root, now=NOW)
    assert "Changed 3" in (root / "output/2026/01/p3/index.html").read_text()
    assert not any(p.name.startswith(".output.") for p in root.iterdir())


def test_killed_after_commit_is_completed_by_the_next_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    write_outputs(out, files(a="old a", b="old b", gone="gone"))
    real_replace = Path.replace
    calls = 0

    def dies_midway(self: Path, target: Path) -> Path:
        nonlocal calls
        if self.parent.name.startswith(".out.tmp-"):  # applying the journal
            calls += 1
            if calls == 2:
                raise KeyboardInterrupt  # the process dies after moving one file in
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", dies_midway)
    with pytest.raises(KeyboardInterrupt):
        write_outputs(out, files(a="new a", b="new b"))
    monkeypatch.setattr(Path, "replace", real_replace)
    assert (out / JOURNAL).exists()  # committed but not finished
    report = write_outputs(out, files(a="new a", b="new b"))
    assert report.written == () and report.removed == ()
    assert tree(out) == {"a": b"new a", "b": b"new b", MARKER: (out / MARKER).read_bytes()}
    assert not list(tmp_path.glob(".out.tmp-*"))


def test_uncommitted_journal_is_ignored(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_outputs(out, files(a="a"))
    (out / f"{JOURNAL}.tmp").write_text('{"staging": "x", "put": ["a"], "remove": []}')
    write_outputs(out, files(a="a"))
    assert sorted(p.name for p in out.iterdir()) == [MARKER, "a"]


def test_removed_pages_leave_no_empty_folders(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_outputs(out, [*files(a="a"), OutputFile(PurePosixPath("2026/01/post/index.html"), b"p")])
    write_outputs(out, files(a="a"))
    assert not (out / "2026").exists()


def test_pages_staged_before_a_template_error_are_discarded(make_site: MakeSite) -> None:
    """The pages rendered before one failed were staged already: the failed build removes
    them and leaves ``output/`` as it was."""
    posts = {f"content/posts/p{i}.md": post(f"Post {i}", "2026-01-01") for i in range(6)}
    root = make_site({**posts, "content/pages/about.md": '---\ntitle: "About"\n---\nAbout.\n'})
    build_site(root, now=NOW)
    before = tree(root / "output")
    for i in range(6):
        (root / f"content/posts/p{i}.md").write_text(post(f"Changed {i}", "2026-01-01"))
    broken = root / "themes/default/templates/page.html"
    broken.parent.mkdir(parents=True)
    broken.write_text(
        '{% extends "base.html" %}\n{% block content %}{{ doc.no_such_thing }}{% endblock %}\n'
    )
    staged: list[str] = []
    real_put = writer.Staging.put

    def spy(self: writer.Staging, path: PurePosixPath, data: bytes) -> bool:
        staged.append(str(path))
        return real_put(self, path, data)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(writer.Staging, "put", spy)
        with pytest.raises(ContentErrors, match=r"page\.html"):
            build_site(root, now=NOW)
    assert "2026/01/p3/index.html" in staged  # a changed post page was staged, then dropped
    assert tree(root / "output") == before
    assert not [p.name for p in root.iterdir() if p.name.startswith(".output.")]
