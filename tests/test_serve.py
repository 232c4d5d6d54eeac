"""`cssblog serve`: the warm preview build, the watcher, live reload events and comment intake.

These run the real watcher (inotify) and a real server on 127.0.0.1, with bounded waits.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner

from cssblog.cli import main
from cssblog.config import load_config
from cssblog.intake import Intake, parse_form
from cssblog.preview import Outcome, Preview
from cssblog.serve import PreviewSession, is_loopback, watched_paths
from tests.conftest import NOW, MakeSite, post
from tests.serving import SITE_CONFIG, running, site_files, wait_until

SETTLE = 0.6
"""Longer than the watcher's quiet period plus its grace for missing files."""


@pytest.fixture
def site(make_site: MakeSite) -> Path:
    return make_site(site_files(), config=SITE_CONFIG)


@pytest.fixture
def session(site: Path) -> Iterator[PreviewSession]:
    with running(site, heartbeat=0.2) as started:
        yield started


def _get(session: PreviewSession, path: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", session.server.port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def _post_page(session: PreviewSession, number: int) -> str:
    return _get(session, f"/2026/01/post-{number}/")[1]


def _settled_generation(session: PreviewSession, after: int) -> int:
    """Wait for a rebuild after ``after``, then for the watcher to go quiet; the generation."""
    assert wait_until(lambda: session.hub.generation > after), "no rebuild happened"
    time.sleep(SETTLE)
    return session.hub.generation


# -- the warm preview build ------------------------------------------------------------------


def test_preview_includes_drafts_with_a_banner_and_never_touches_output(site: Path) -> None:
    preview = Preview(site)
    outcome = preview.rebuild(NOW)
    assert outcome.ok
    draft_page = preview.output / "2026/02/draft/index.html"
    assert "Not published" in draft_page.read_text()
    assert "drafts and scheduled posts are included" in (preview.output / "index.html").read_text()
    assert not (site / "output").exists()
    assert preview.output == site.resolve() / ".cssblog-cache" / "preview"


def test_preview_without_drafts_leaves_them_out(site: Path) -> None:
    preview = Preview(site, drafts=False)
    assert preview.rebuild(NOW).ok
    assert not (preview.output / "2026/02/draft").exists()
    assert (preview.output / "2026/01/post-0/index.html").exists()


def test_comment_form_posts_to_the_preview_server(site: Path) -> None:
    preview = Preview(site)
    preview.rebuild(NOW)
    page = (preview.output / "2026/01/post-0/index.html").read_text()
    assert 'action="/_cssblog/comment"' in page
    assert 'id="comment-pending"' in page


def test_rebuild_reads_again_only_the_files_reported_changed(site: Path) -> None:
    preview = Preview(site)
    preview.rebuild(NOW)
    source = site.resolve() / "content/posts/2026-01-01-post-0.md"
    source.write_text(post("Post 0", "2026-01-01 10:00", body="Edited words.\n", tags=["t"]))
    unreported = preview.rebuild(NOW, changed=frozenset())
    assert unreported.changed == frozenset()
    assert "Edited words" not in (preview.output / "2026/01/post-0/index.html").read_text()

    reported = preview.rebuild(NOW, changed=frozenset({str(source)}))
    assert "Edited words" in (preview.output / "2026/01/post-0/index.html").read_text()
    assert "/2026/01/post-0/" in reported.changed
    assert "/2026/01/post-1/" not in reported.changed  # untouched pages are not rewritten


def test_a_failed_rebuild_keeps_the_last_good_preview_and_says_where(site: Path) -> None:
    preview = Preview(site)
    preview.rebuild(NOW)
    good = (preview.output / "2026/01/post-1/index.html").read_bytes()
    source = site.resolve() / "content/posts/2026-01-02-post-1.md"
    source.write_text('---\ntitle: "Post 1"\ndate: 2026-01-02 10:00\ntags: [t\n---\nBody.\n')
    failed = preview.rebuild(NOW, changed=frozenset({str(source)}))
    assert not failed.ok
    [problem] = failed.problems
    assert problem.location.startswith("content/posts/2026-01-02-post-1.md:")
    assert problem.line is not None
    assert any("tags: [t" in text for _, text in problem.excerpt)
    assert (preview.output / "2026/01/post-1/index.html").read_bytes() == good

    source.write_text(post("Post 1", "2026-01-02 10:00", body="Fixed.\n"))
    fixed = preview.rebuild(NOW, changed=frozenset({str(source)}))
    assert fixed.ok
    assert "Fixed." in (preview.output / "2026/01/post-1/index.html").read_text()


def test_a_warm_rebuild_leaves_garbage_collection_until_it_is_done(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import contextlib
    import gc

    from cssblog import collector, pipeline

    preview = Preview(site)
    assert preview.rebuild(NOW).ok
    source = site.resolve() / "content/posts/2026-01-01-post-0.md"
    source.write_text(post("Post 0", "2026-01-01 10:00", body="Edited words.\n", tags=["t"]))
    inside: list[bool] = []
    collections: list[int] = []
    real = pipeline.render_site

    def render_site(*args: object, **kwargs: object) -> object:
        inside.append(True)
        try:
            return real(*args, **kwargs)  # type: ignore[arg-type]
        finally:
            inside.clear()

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and inside:
            collections.append(info["generation"])

    monkeypatch.setattr(pipeline, "render_site", render_site)
    settings = gc.get_threshold(), gc.isenabled()
    gc.callbacks.append(seen)
    try:
        gc.set_threshold(1)  # without the pause, collections would start all the time
        assert preview.rebuild(NOW, changed=frozenset({str(source)})).ok
        warm = list(collections)
        with monkeypatch.context() as patch:  # the spy sees collections when not paused
            patch.setattr(collector, "paused", contextlib.nullcontext)
            source.write_text(post("Post 0", "2026-01-01 10:00", body="Again.\n", tags=["t"]))
            assert preview.rebuild(NOW, changed=frozenset({str(source)})).ok
    finally:
        gc.callbacks.remove(seen)
        gc.set_threshold(*settings[0])
    assert warm == [] and collections != []
    assert (gc.get_threshold(), gc.isenabled()) == settings
    assert "Again." in (preview.output / "2026/01/post-0/index.html").read_text()


def test_a_file_that_broke_a_rebuild_is_read_again_by_the_next(site: Path) -> None:
    """A save elsewhere after a broken one still shows the problem, not the old good text."""
    preview = Preview(site)
    preview.rebuild(NOW)
    broken = site.resolve() / "content/posts/2026-01-02-post-1.md"
    other = site.resolve() / "content/posts/2026-01-01-post-0.md"
    broken.write_text('---\ntitle: "Post 1"\ndate: 2026-01-02 10:00\ntags: [t\n---\nBody.\n')
    assert not preview.rebuild(NOW, changed=frozenset({str(broken)})).ok
    other.write_text(post("Post 0", "2026-01-01 10:00", body="Other words.\n"))
    still = preview.rebuild(NOW, changed=frozenset({str(other)}))
    assert [p.location.split(":")[0] for p in still.problems] == [
        "content/posts/2026-01-02-post-1.md"
    ]
    broken.write_text(post("Post 1", "2026-01-02 10:00", body="Mended.\n"))
    mended = preview.rebuild(NOW, changed=frozenset({str(broken)}))
    assert mended.ok
    assert "Mended." in (preview.output / "2026/01/post-1/index.html").read_text()
    assert "Other words." in (preview.output / "2026/01/post-0/index.html").read_text()


def test_a_restarted_preview_starts_from_the_saved_cache(site: Path) -> None:
    first = Preview(site)
    first.rebuild(NOW)
    first.close()
    again = Preview(site)
    outcome = again.rebuild(NOW)
    assert outcome.ok
    assert outcome.changed == frozenset()  # nothing rewritten: the preview folder is current


# -- the session: watcher, server and live reload ---------------------------------------------


def test_an_edit_is_served_and_announced_to_listeners(session: PreviewSession) -> None:
    before = session.hub.generation
    events: list[dict[str, object]] = []
    listener = threading.Thread(
        target=_listen, args=(session, before, "/2026/01/post-1/", events), daemon=True
    )
    listener.start()
    source = session.root / "content/posts/2026-01-02-post-1.md"
    source.write_text(post("Post 1", "2026-01-02 10:00", body="Live words.\n", tags=["t"]))
    assert wait_until(lambda: "Live words." in _post_page(session, 1))
    listener.join(timeout=10)
    reload_event = next(e for e in events if e["action"] == "reload")
    assert reload_event["generation"] == before + 1
    assert reload_event["problems"] == []


def _listen(
    session: PreviewSession,
    since: int,
    path: str,
    events: list[dict[str, object]],
    *,
    first_only: bool = False,
) -> None:
    """Read the event stream until an event after ``since`` arrives (or only its first event),
    bounded by a timeout."""
    connection = http.client.HTTPConnection("127.0.0.1", session.server.port, timeout=10)
    connection.request("GET", f"/_cssblog/events?since={since}&path={path}")
    response = connection.getresponse()
    assert response.getheader("Content-Type", "").startswith("text/event-stream")
    try:
        while True:
            line = response.fp.readline()
            if not line:
                return
            if line.startswith(b"data: "):
                event = json.loads(line[6:])
                events.append(event)
                if first_only or event["generation"] > since:
                    return
    finally:
        connection.close()


def test_other_pages_are_told_nothing_changed_for_them(session: PreviewSession) -> None:
    before = session.hub.generation
    source = session.root / "content/posts/2026-01-02-post-1.md"
    source.write_text(post("Post 1", "2026-01-02 10:00", body="Only here.\n", tags=["t"]))
    _settled_generation(session, before)
    assert session.hub.changes_since(before) is not None
    events: list[dict[str, object]] = []
    _listen(session, before, "/2026/01/post-2/", events, first_only=True)
    assert events[-1]["action"] == "none"
    _listen(session, before, "/2026/01/post-1/", events, first_only=True)
    assert events[-1]["action"] == "reload"


def test_a_broken_save_shows_problems_and_keeps_serving_the_last_good_page(
    session: PreviewSession,
) -> None:
    """F-08: invalid YAML while serving, then fixed."""
    source = session.root / "content/posts/2026-01-02-post-1.md"
    before = session.hub.generation
    source.write_text('---\ntitle: "Post 1"\ndate: [oops\n---\nBroken.\n')
    _settled_generation(session, before)
    assert session.hub.problems
    assert session.hub.problems[0].location.startswith("content/posts/2026-01-02-post-1.md:")
    status, page = _get(session, "/2026/01/post-1/")
    assert status == 200
    assert "Original text 1." in page
    events: list[dict[str, object]] = []
    _listen(session, session.hub.generation, "/2026/01/post-1/", events, first_only=True)
    assert events[-1]["problems"]

    broken = session.hub.generation
    source.write_text(post("Post 1", "2026-01-02 10:00", body="Repaired.\n", tags=["t"]))
    _settled_generation(session, broken)
    assert session.hub.problems == ()
    assert "Repaired." in _post_page(session, 1)


def _vim_default(path: Path, text: str) -> None:
    backup = path.with_name(path.name + "~")
    path.rename(backup)
    path.write_text(text)
    backup.unlink()


def _vim_in_place(path: Path, text: str) -> None:
    with path.open("r+") as handle:
        handle.truncate(0)
        handle.write(text)


def _temp_and_replace(path: Path, text: str) -> None:
    temp = path.with_name(f"{path.name}.tmp.{os.getpid()}")
    temp.write_text(text)
    temp.replace(path)  # os.replace


def _sed_in_place(path: Path, text: str) -> None:
    temp = path.with_name("sedAb12Cd")
    temp.write_text(text)
    temp.replace(path)


def _gedit(path: Path, text: str) -> None:
    temp = path.with_name(".goutputstream-X1Y2Z3")
    temp.write_text(text)
    temp.replace(path)


def _jetbrains(path: Path, text: str) -> None:
    temp = path.with_name(path.name + "___jb_tmp___")
    old = path.with_name(path.name + "___jb_old___")
    temp.write_text(text)
    path.rename(old)
    temp.rename(path)
    old.unlink()


def _emacs(path: Path, text: str) -> None:
    lock = path.with_name(".#" + path.name)
    lock.symlink_to("jane@host.1234:1700000000")  # a dangling link, as Emacs makes
    backup = path.with_name(path.name + "~")
    shutil.copy2(path, backup)
    path.write_text(text)
    lock.unlink()


SAVES = {
    "vim default": _vim_default,
    "vim backupcopy=yes": _vim_in_place,
    "write temp + os.replace": _temp_and_replace,
    "sed -i": _sed_in_place,
    "gedit": _gedit,
    "JetBrains": _jetbrains,
    "Emacs": _emacs,
}


def test_each_editor_save_gives_exactly_one_rebuild_with_the_new_text(site: Path) -> None:
    """F-07: every way editors save; the post never disappears; temp files never publish."""
    builds: list[Outcome] = []
    with running(site, heartbeat=0.2, on_build=builds.append) as session:
        source = session.root / "content/posts/2026-01-03-post-2.md"
        for number, (editor, save) in enumerate(SAVES.items()):
            before, built = session.hub.generation, len(builds)
            words = f"Saved by {editor} ({number})."
            save(source, post("Post 2", "2026-01-03 10:00", body=words + "\n", tags=["t"]))
            _settled_generation(session, before)
            assert len(builds) == built + 1, f"{editor}: {len(builds) - built} rebuilds"
            assert builds[-1].ok, editor
            assert words in _post_page(session, 2), editor
            # The post's page is announced (ahead of the rebuild: its body alone changed).
            announced = session.hub.changes_since(before)
            assert announced is not None, editor
            post_urls = [url for url in announced if url.startswith("/2026/01/post-2")]
            assert post_urls == ["/2026/01/post-2/"], editor
        output = session.preview.output / "2026/01"
    published = sorted(p.name for p in output.iterdir() if p.is_dir())
    assert published == ["post-0", "post-1", "post-2"]


def test_five_hundred_files_written_at_once_give_at_most_two_rebuilds(
    session: PreviewSession,
) -> None:
    """F-06: an event storm is coalesced; the final preview has every change."""
    before = session.hub.generation
    posts = session.root / "content/posts"
    for i in range(500):
        (posts / f"2025-03-01-storm-{i:03}.md").write_text(
            post(f"Storm {i}", "2025-03-01 09:00", body=f"Storm body {i}.\n")
        )
    assert wait_until(
        lambda: (session.preview.output / "2025/03/storm-499/index.html").exists(), 60
    )
    time.sleep(SETTLE)
    assert session.hub.generation - before <= 2
    built = [p for p in (session.preview.output / "2025/03").iterdir() if p.is_dir()]
    assert len(built) == 500


def test_a_comment_posted_to_the_preview_is_stored_and_shown_after_moderation(
    session: PreviewSession,
) -> None:
    form = {
        "post": "post-0",
        "parent": "",
        "author": "Reader One",
        "email": "reader@example.net",
        "url": "",
        "body": "A kind question about queues.",
        "homepage": "",
    }
    status, location = _post_form(session, form)
    assert status == 303
    assert location == "/2026/01/post-0/#comment-pending"
    stored = list((session.root / "content/comments/post-0").glob("*.md"))
    assert len(stored) == 1
    assert "status: pending" in stored[0].read_text()
    assert "A kind question about queues." in stored[0].read_text()

    again = _post_form(session, form)  # sent twice: nothing new
    assert again == (303, "/2026/01/post-0/#comment-pending")
    assert len(list((session.root / "content/comments/post-0").glob("*.md"))) == 1


def test_the_author_comment_is_published_and_shown_by_the_time_of_the_redirect(
    session: PreviewSession,
) -> None:
    form = {
        "post": "post-1",
        "author": "Jane Writer",
        "email": "jane@example.org",
        "body": "Thanks for reading, everyone.",
    }
    status, location = _post_form(session, form)
    assert (status, location) == (303, "/2026/01/post-1/#comment-published")
    assert "Thanks for reading, everyone." in _post_page(session, 1)


def test_a_filled_honeypot_writes_nothing(session: PreviewSession) -> None:
    form = {"post": "post-0", "author": "Bot", "email": "b@example.net", "body": "Buy now"}
    status, location = _post_form(session, {**form, "homepage": "http://spam.example"})
    assert (status, location) == (303, "/2026/01/post-0/#comment-pending")
    assert not (session.root / "content/comments").exists()


def test_a_refused_comment_says_why_and_writes_nothing(session: PreviewSession) -> None:
    form = {"post": "post-0", "author": "Reader", "email": "not-an-address", "body": "Hi"}
    status, body = _post_form(session, form)
    assert status == 400
    assert "not an email address" in body
    assert not (session.root / "content/comments").exists()


def _post_form(session: PreviewSession, form: dict[str, str]) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", session.server.port, timeout=15)
    try:
        connection.request(
            "POST",
            "/_cssblog/comment",
            body=urlencode(form),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        response = connection.getresponse()
        body = response.read().decode()
        return response.status, response.getheader("Location") or body
    finally:
        connection.close()


def test_stop_ends_open_connections_and_leaves_no_threads(site: Path) -> None:
    threads_before = set(threading.enumerate())
    running = PreviewSession(site, clock=lambda: NOW, port=0, heartbeat=5)
    running.start()
    listener = socket.create_connection(("127.0.0.1", running.server.port))
    listener.sendall(b"GET /_cssblog/events?since=0&path=/ HTTP/1.0\r\nHost: localhost\r\n\r\n")
    idle = socket.create_connection(("127.0.0.1", running.server.port))
    assert listener.recv(100).startswith(b"HTTP/1.0 200")
    started = time.monotonic()
    running.stop()
    assert time.monotonic() - started < 5
    assert wait_until(lambda: set(threading.enumerate()) <= threads_before, 2), [
        t.name for t in set(threading.enumerate()) - threads_before
    ]
    listener.close()
    idle.close()


def test_reading_many_files_does_not_flood_the_watcher(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Reads (a rebuild's, a search's) are not events: the system's queue of 16,384 events
    does not overflow, so no save is lost to an overflow."""
    from cssblog.watch import WatchedPath, Watcher

    folder = tmp_path / "content"
    (folder / "posts").mkdir(parents=True)
    source = folder / "posts/a.md"
    source.write_text("one")
    batches: list[frozenset[str]] = []
    watcher = Watcher([WatchedPath(folder)], batches.append)
    watcher.start()
    try:
        with caplog.at_level("WARNING", logger="watchdog"):
            # Another process reads the file 40,000 times, faster than events can be taken:
            # an open and a close each, 80,000 events if they were asked for.
            subprocess.run(
                ["cat", *["a.md"] * 40_000],
                cwd=source.parent,
                check=True,
                stdout=subprocess.DEVNULL,
            )
            time.sleep(0.5)
        assert not [r for r in caplog.records if "overflow" in r.getMessage()]
        assert batches == []
        source.write_text("two")
        assert wait_until(lambda: bool(batches), 5)
        assert batches == [frozenset({str(source)})]
    finally:
        watcher.stop()


def test_watch_limit_falls_back_to_polling_with_a_warning(site: Path) -> None:
    """F-11: the system refuses more inotify watches."""
    from watchdog.observers import Observer

    class Exhausted(Observer):  # type: ignore[misc, valid-type]
        def start(self) -> None:
            raise OSError(28, "inotify watch limit reached")

    warnings: list[str] = []
    running = PreviewSession(
        site, clock=lambda: NOW, port=0, on_warning=warnings.append, observer_factory=Exhausted
    )
    running.start()
    try:
        assert running.watch is not None and running.watch.polling
        assert any("max_user_watches" in w for w in warnings)
        before = running.hub.generation
        source = running.root / "content/posts/2026-01-01-post-0.md"
        source.write_text(post("Post 0", "2026-01-01 10:00", body="Polled words.\n"))
        assert wait_until(lambda: running.hub.generation > before, 15)
        assert "Polled words." in _post_page(running, 0)
    finally:
        running.stop()


def test_a_watcher_that_falls_back_to_polling_releases_the_native_observer(tmp_path: Path) -> None:
    """The refused inotify observer's reader thread and descriptor do not outlive the fallback."""
    from watchdog.observers import Observer

    from cssblog.watch import WatchedPath, Watcher

    made: list[Observer] = []

    class Exhausted(Observer):  # type: ignore[misc, valid-type]
        def __init__(self) -> None:
            super().__init__()
            made.append(self)

        def start(self) -> None:
            raise OSError(28, "inotify watch limit reached")

    (tmp_path / "content").mkdir()
    warnings: list[str] = []
    watcher = Watcher(
        [WatchedPath(tmp_path / "content")],
        lambda batch: None,
        on_warning=warnings.append,
        observer_factory=Exhausted,
    )
    watcher.start()
    try:
        assert watcher.polling and warnings
        reader = made[0]._inotify_fd
        reader.join(timeout=5)
        assert not reader.is_alive()
        assert reader._closed
    finally:
        watcher.stop()


# -- intake without HTTP -----------------------------------------------------------------------


def test_intake_refuses_missing_fields_without_writing(site: Path) -> None:
    received = Intake().receive(load_config(site), {"post": "post-0", "body": " "}, now=NOW)
    assert received.outcome == "refused"
    assert "your name" in received.problems[0] and "a comment" in received.problems[0]
    assert not (site / "content/comments").exists()


def test_intake_refuses_a_post_that_does_not_exist(site: Path) -> None:
    fields = {"post": "nope", "author": "A", "email": "a@example.net", "body": "Hello"}
    received = Intake().receive(load_config(site), fields, now=NOW)
    assert received.outcome == "refused"
    assert "no post with slug 'nope'" in received.problems


def test_parse_form_refuses_repeated_fields_and_other_types() -> None:
    with pytest.raises(ValueError, match="repeated"):
        parse_form(b"author=a&author=b", "application/x-www-form-urlencoded")
    with pytest.raises(ValueError, match="expected"):
        parse_form(b'{"author": "a"}', "application/json")
    assert parse_form(b"body=line+one%0D%0Aline+two&x=1", "application/x-www-form-urlencoded") == {
        "body": "line one\nline two"
    }


# -- the command ---------------------------------------------------------------------------------


WITH_CTRL_C = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "from cssblog.cli import main; sys.exit(main())"
)
"""``cssblog`` with Python's Ctrl-C handler in place even when the tests run as a background
job, whose children inherit SIGINT ignored (and Python then installs no handler)."""


def test_serve_command_prints_where_it_serves_and_stops_cleanly_on_ctrl_c(site: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", WITH_CTRL_C, "serve", "--site", str(site), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lines = []
        url = None
        deadline = time.monotonic() + 30
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline() if process.stdout else ""
            lines.append(line)
            if line.startswith("Serving "):
                url = line.split(" at ")[1].split()[0]
        assert url is not None and url.startswith("http://127.0.0.1:"), lines
        watching = process.stdout.readline() if process.stdout else ""
        assert watching.startswith("Watching ") and str(site / "content") in watching
        host, port = url.removeprefix("http://").rstrip("/").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=5)
        connection.request("GET", "/2026/01/post-0/")
        assert connection.getresponse().status == 200
        connection.close()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=15) == 0
        assert not (site / "output").exists()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_ctrl_c_before_the_wait_still_stops_the_session(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Ctrl-C that lands while the addresses are printed (here: while the browser opens)
    stops the server thread too; left running, it would keep the process from ending."""

    def interrupted(url: str) -> bool:
        raise KeyboardInterrupt

    made: list[PreviewSession] = []

    class Kept(PreviewSession):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr("cssblog.cli_serve.webbrowser.open", interrupted)
    monkeypatch.setattr("cssblog.cli_serve.PreviewSession", Kept)
    before = set(threading.enumerate())
    try:
        result = CliRunner().invoke(main, ["serve", "--site", str(site), "--port", "0", "--open"])
        assert result.exit_code == 0, result.output
        assert "Stopping..." in result.output
        left = [t for t in set(threading.enumerate()) - before if t.is_alive() and not t.daemon]
        assert left == []
    finally:  # without the fix, stop what the command left running
        for session in made:
            if session._thread is not None and session._thread.is_alive():
                session.stop()


def test_serve_warns_before_exposing_the_preview(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """P-02, without binding anything but loopback: the warning comes before the bind."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(98, "Address already in use")

    monkeypatch.setattr("cssblog.cli_serve.PreviewSession", refuse)
    result = CliRunner().invoke(main, ["serve", "--site", str(site), "--host", "0.0.0.0"])
    assert result.exit_code == 1
    assert "exposes the preview" in result.stderr
    assert "cannot listen on 0.0.0.0:8000: Address already in use" in result.stderr


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),
        ("10.1.2.3", False),
    ],
)
def test_which_addresses_count_as_this_machine_only(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_a_source_checkout_watches_its_bundled_theme_even_inside_the_site() -> None:
    """Editing the bundled theme of a checkout (the repository is itself a site) rebuilds."""
    import cssblog

    bundled = Path(cssblog.__file__).resolve().parent / "themes"
    root = bundled.parents[1]
    watched = {w.path for w in watched_paths(root)}
    assert bundled in watched
    assert root / "content" in watched
