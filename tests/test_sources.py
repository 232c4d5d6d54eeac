"""Reading ``content/``: the walk, and bringing a walk up to date from the files that changed."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

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
