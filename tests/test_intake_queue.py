"""The intake's comment folder: the index shared by writers, and crashes mid-write (F-13)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from datetime import UTC
from pathlib import Path

import pytest

from cssblog.build import build_site
from cssblog.comments.queue import CommentIndex
from cssblog.comments.store import create_comment, remove_stale_temps, set_status
from cssblog.config import load_config
from cssblog.intake_app import STALE_TEMP_SECONDS, make_app
from tests.comment_helpers import make_comment
from tests.conftest import NOW, MakeSite
from tests.intake_helpers import APPROVED, PENDING, intake_site

ROOT = Path(__file__).parent.parent


@pytest.fixture
def site(make_site: MakeSite) -> Path:
    return intake_site(make_site)


def index(site: Path, clock: list[float] | None = None) -> CommentIndex:
    ticks = clock if clock is not None else [0.0]
    return CommentIndex(site, site / "content/comments", UTC, clock=lambda: ticks[0])


def test_the_index_reads_what_is_there(site: Path) -> None:
    with index(site).locked() as known:
        assert set(known.on_post("hello")) == {APPROVED, PENDING}
        assert known.on_post("nothing-here") == {}
        assert {c.id for c in known.everything()} == {APPROVED, PENDING}


def test_a_comment_another_writer_created_is_seen_at_once(site: Path) -> None:
    mine, theirs = index(site), index(site)
    with mine.locked():
        mine.everything()
    with theirs.locked():
        stored = theirs.create(make_comment("c-new", post_slug="hello", date=NOW))
    with mine.locked():
        assert "c-new" in mine.on_post("hello")
        assert stored.path == site / "content/comments/hello/c-new.md"


def test_a_moderator_status_change_is_seen_after_the_refresh(site: Path) -> None:
    ticks = [0.0]
    known = index(site, ticks)
    with known.locked():
        pending = known.on_post("hello")[PENDING]
        assert pending.status == "pending"
    set_status(pending, "approved", "by hand", NOW)
    with known.locked():
        assert known.reread(pending) is not None
        assert known.reread(pending).status == "approved"  # type: ignore[union-attr]
    other = index(site, ticks)
    with other.locked():
        other.everything()
    set_status(pending, "rejected", "changed my mind", NOW)
    ticks[0] += 2.0
    with other.locked():
        statuses = {c.id: c.status for c in other.everything()}
    assert statuses[PENDING] == "rejected"


def test_a_broken_file_is_skipped_not_fatal(site: Path) -> None:
    (site / "content/comments/hello/broken.md").write_text("---\nauthor: [\n---\nx\n")
    with index(site).locked() as known:
        assert set(known.on_post("hello")) == {APPROVED, PENDING}


# -- F-13: a writer that dies between writing and linking ----------------------------------


CRASH = textwrap.dedent(
    """
    import os, signal, sys
    from datetime import UTC, datetime
    from pathlib import Path
    sys.path.insert(0, sys.argv[2])
    import cssblog.comments.store as store
    from tests.comment_helpers import make_comment

    def die(*args):
        os.kill(os.getpid(), signal.SIGKILL)

    store.os.link = die
    comment = make_comment(
        "c-crash", post_slug="hello", status="approved", body="Half written?",
        date=datetime(2026, 11, 23, 12, tzinfo=UTC),
    )
    store.create_comment(Path(sys.argv[1]), comment)
    """
)


def test_F13_a_crash_before_the_link_leaves_no_comment_the_build_reads(site: Path) -> None:
    process = subprocess.run(
        [sys.executable, "-c", CRASH, str(site), str(ROOT)], capture_output=True, timeout=60
    )
    assert process.returncode == -9, process.stderr
    folder = site / "content/comments/hello"
    assert not (folder / "c-crash.md").exists()
    (leftover,) = folder.glob(".c-crash.*.tmp")
    assert b"Half written?" in leftover.read_bytes()  # whole, approved, and still never read

    report = build_site(site, now=NOW)
    assert not any("c-crash" in str(w) for w in report.warnings)
    page = (site / "output/2026/01/hello/index.html").read_text()
    assert "Half written?" not in page and "First!" in page

    fresh = folder / ".c-young.0123abcd.tmp"
    fresh.write_text("a writer at work")
    old = time.time() - STALE_TEMP_SECONDS - 60
    os.utime(leftover, (old, old))
    make_app(load_config(site), environ={}, clock=lambda: NOW)
    assert not leftover.exists()
    assert fresh.exists()  # a young temporary file may belong to a writer at work


def test_F13_a_failed_link_removes_the_temporary_file(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr("cssblog.comments.store.os.link", fail)
    with pytest.raises(Exception, match="cannot write the comment"):
        create_comment(site, make_comment("c-io", post_slug="hello", date=NOW))
    assert sorted(p.name for p in (site / "content/comments/hello").iterdir()) == sorted(
        [f"{APPROVED}.md", f"{PENDING}.md"]
    )


def test_remove_stale_temps_touches_only_old_temporary_files(tmp_path: Path) -> None:
    folder = tmp_path / "p"
    folder.mkdir()
    names = [".a.1234.tmp", ".b.md.99.tmp", "c.md", ".keep", "d.tmp"]
    for name in names:
        (folder / name).write_text("x")
        os.utime(folder / name, (1000, 1000))
    assert remove_stale_temps(tmp_path, 600, now=5000) == 2
    assert sorted(p.name for p in folder.iterdir()) == [".keep", "c.md", "d.tmp"]
    assert remove_stale_temps(tmp_path / "missing", 600, now=5000) == 0


def test_create_comment_refuses_a_slug_or_id_that_is_a_path(site: Path) -> None:
    for bad in (
        make_comment("c1", post_slug="../escape", date=NOW),
        make_comment("c1", post_slug="a/b", date=NOW),
        replace(make_comment("c1", post_slug="hello", date=NOW), id="../c1"),
    ):
        with pytest.raises(Exception, match="unsafe comment path"):
            create_comment(site, bad)
    assert not (site / "content/escape").exists()
    assert not (site / "content/comments/a").exists()
