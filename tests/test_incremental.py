"""Incremental builds give exactly the bytes of a fresh cold build, and reuse what they can."""

from __future__ import annotations

import os
import pickle
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cssblog import convert, gather, pipeline, render, site, workers
from cssblog.build import CACHE_DIR, build_site
from cssblog.comments import dedupe, publish
from cssblog.comments.publish import CommentView
from cssblog.config import load_config
from cssblog.errors import ContentErrors, CssblogError
from cssblog.fingerprint import Fingerprints
from cssblog.pipeline import render_site
from cssblog.preview import Preview
from cssblog.writer import open_staging
from tests.comment_helpers import comment_file
from tests.conftest import BASE_CONFIG, NOW, MakeSite, post, tree

CONFIG = BASE_CONFIG + '\n[comments]\npolicy = "Be kind."\nintake_url = "https://in.example/c"\n'


def _files(count: int) -> dict[str, str]:
    files = {
        f"content/posts/p{i:02d}.md": post(
            f"Post {i}",
            f"2026-{1 + i % 9:02d}-{1 + i % 28:02d} 09:00",
            categories=["Customer Service" if i % 2 else "Tools"],
            tags=[f"t{i % 3}"],
            body=f"Body {i} with [a link](p{(i + 1) % count:02d}.md).\n\n```python\nx = {i}\n```\n",
        )
        for i in range(count)
    }
    files["content/pages/about.md"] = '---\ntitle: "About"\n---\nAbout.\n'
    files["content/comments/p01/c1.md"] = comment_file("Ann", "First!", date="2026-02-03 10:00")
    files["content/comments/p01/c2.md"] = comment_file(
        "Ben", "Held", status="pending", date="2026-02-03 11:00"
    )
    return files


def cold_copy(root: Path, tmp_path: Path) -> dict[str, bytes]:
    """Build a copy of ``root``'s sources from scratch (no cache, no output)."""
    fresh = tmp_path / "fresh"
    shutil.rmtree(fresh, ignore_errors=True)
    shutil.copytree(root, fresh, ignore=shutil.ignore_patterns("output", CACHE_DIR))
    build_site(fresh, now=NOW)
    return tree(fresh / "output")


def cold_preview(root: Path, tmp_path: Path) -> dict[str, bytes]:
    """A fresh preview of a copy of ``root``'s sources (no cache, no output)."""
    fresh = tmp_path / "fresh"
    shutil.rmtree(fresh, ignore_errors=True)
    shutil.copytree(root, fresh, ignore=shutil.ignore_patterns("output", CACHE_DIR))
    cold = Preview(fresh)
    assert cold.rebuild(NOW).ok
    return tree(cold.output)


def warm_preview(make_site: MakeSite) -> tuple[Path, Preview]:
    """The test site, previewed once."""
    root = make_site(_files(12), config=CONFIG).resolve()
    preview = Preview(root)
    assert preview.rebuild(NOW).ok
    return root, preview


EDITED = "content/posts/p03.md"
"""The post :func:`edit_body` edits."""


def edit_body(root: Path) -> None:
    path = root / "content/posts/p03.md"
    path.write_text(path.read_text() + "\nA new paragraph.\n")


def add_post(root: Path) -> None:
    (root / "content/posts/new.md").write_text(
        post("Brand new", "2026-09-30", categories=["Customer Service"], tags=["t1"])
    )


def delete_post(root: Path) -> None:
    (root / "content/posts/p05.md").unlink()


def retitle(root: Path) -> None:
    path = root / "content/posts/p02.md"
    path.write_text(path.read_text().replace('"Post 2"', '"Renamed two"'))


def move_linked_post(root: Path) -> None:
    """p06 gets another URL; p05 links to it."""
    path = root / "content/posts/p06.md"
    path.write_text(path.read_text().replace("---\n", '---\nslug: "moved"\n', 1))


def same_instant_other_zone(root: Path) -> None:
    """p04's date names the same moment in another time zone: equal, but printed otherwise."""
    path = root / "content/posts/p04.md"
    path.write_text(
        path.read_text().replace("date: 2026-05-05 09:00", "date: 2026-05-05T10:00+01:00")
    )


def approve_comment(root: Path) -> None:
    path = root / "content/comments/p01/c2.md"
    path.write_text(path.read_text().replace("status: pending", "status: approved"))


def reply_to_comment(root: Path) -> None:
    (root / "content/comments/p01/c3.md").write_text(
        comment_file(
            "Jane Writer",
            "Thanks, Ann!",
            date="2026-02-04 09:00",
            email="jane@example.org",
            parent="c1",
        )
    )


def edit_comment(root: Path) -> None:
    path = root / "content/comments/p01/c1.md"
    path.write_text(path.read_text().replace("First!", "First, and edited."))


def override_template(root: Path) -> None:
    target = root / "themes/default/templates/page.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text('{% extends "base.html" %}{% block content %}{{ doc.title }}!{% endblock %}')


SCENARIOS: dict[str, Callable[[Path], None]] = {
    "edit-body": edit_body,
    "add-post": add_post,
    "delete-post": delete_post,
    "retitle": retitle,
    "move-linked-post": move_linked_post,
    "same-instant-other-zone": same_instant_other_zone,
    "approve-comment": approve_comment,
    "reply-to-comment": reply_to_comment,
    "edit-comment": edit_comment,
    "override-template": override_template,
}


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_incremental_equals_cold(make_site: MakeSite, tmp_path: Path, scenario: str) -> None:
    root = make_site(_files(12), config=CONFIG)
    build_site(root, now=NOW)
    build_site(root, now=NOW)  # a no-op in between must not disturb anything
    SCENARIOS[scenario](root)
    build_site(root, now=NOW)
    assert tree(root / "output") == cold_copy(root, tmp_path)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_warm_preview_equals_a_cold_preview(
    make_site: MakeSite, tmp_path: Path, scenario: str
) -> None:
    """The preview server's in-memory rebuilds give the bytes of a fresh preview build."""
    root, preview = warm_preview(make_site)
    before = {sub: tree_or_empty(root / sub) for sub in ("content", "themes")}
    SCENARIOS[scenario](root)
    changed = set()
    for sub, old in before.items():
        new = tree_or_empty(root / sub)
        changed |= {str(root / sub / n) for n in set(old) | set(new) if old.get(n) != new.get(n)}
    assert changed
    assert preview.rebuild(NOW, changed=frozenset(changed)).ok

    assert tree(preview.output) == cold_preview(root, tmp_path)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_pages_recipe_covers_everything_its_context_is_made_of(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch, scenario: str
) -> None:
    """A page whose recipe did not change has the same context: skipping it loses nothing."""
    root = make_site(_files(12), config=CONFIG)
    before = _recipes_and_contexts(root, monkeypatch)
    SCENARIOS[scenario](root)
    after = _recipes_and_contexts(root, monkeypatch)
    common = before.keys() & after.keys()
    new_context = {k for k in common if before[k][1] != after[k][1]}
    new_recipe = {k for k in common if before[k][0] != after[k][0]}
    assert new_context <= new_recipe
    if scenario != "override-template":
        assert new_context or before.keys() != after.keys()


def _recipes_and_contexts(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, tuple[bytes, bytes]]:
    """Each page's recipe and context digests, as a cold build makes them."""
    shutil.rmtree(root / CACHE_DIR, ignore_errors=True)
    seen: dict[str, tuple[bytes, bytes]] = {}
    real = render.page_jobs

    def recording(*args: Any) -> Iterator[render.PageJob]:
        digests = Fingerprints(pipeline._SHARED)
        for job in real(*args):
            seen[job.url] = (digests.of(job.recipe), digests.of(job.context(args[0])))
            yield job

    with monkeypatch.context() as patch:
        patch.setattr(render, "page_jobs", recording)
        build_site(root, now=NOW)
    assert len(seen) > 30
    return seen


def _rebuilder(
    root: Path, where: str, changed: frozenset[str] | None = None
) -> Callable[[], object]:
    """Build ``root`` again from the command line, or in one warm preview (the first time in
    full, then told ``changed``)."""
    if where == "build":
        return lambda: build_site(root, now=NOW)
    preview = Preview(root)

    def rebuild() -> object:
        outcome = preview.rebuild(NOW, changed=changed if preview.last else None)
        assert outcome.ok
        return outcome

    return rebuild


def tree_or_empty(folder: Path) -> dict[str, bytes]:
    return tree(folder) if folder.is_dir() else {}


@pytest.mark.parametrize("where", ["build", "preview"])
def test_an_edit_makes_and_digests_only_the_edited_posts_article(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """Articles and digests of unchanged posts and comments come from the cache."""
    root = make_site(_files(12), config=CONFIG).resolve()
    rebuild = _rebuilder(root, where)
    rebuild()
    made: list[str] = []
    digested: list[str] = []
    related: list[int] = []
    real_article, real_related, real_dataclass = (
        site.make_article,
        site._related,
        Fingerprints._dataclass,
    )

    def article(post: Any, *args: Any, **kwargs: Any) -> Any:
        made.append(post.title)
        return real_article(post, *args, **kwargs)

    def chose_related(*args: Any) -> Any:
        related.append(1)
        return real_related(*args)

    def dataclass(self: Fingerprints, value: Any, names: Any) -> Any:
        if isinstance(value, site.Article | CommentView) and id(value) not in self._memo:
            digested.append(getattr(value, "title", None) or value.author)
        return real_dataclass(self, value, names)

    monkeypatch.setattr(site, "make_article", article)
    monkeypatch.setattr(site, "_related", chose_related)
    monkeypatch.setattr(Fingerprints, "_dataclass", dataclass)
    edit_body(root)
    rebuild()
    assert made == ["Post 3"]
    assert digested == ["Post 3"]
    assert related == []
    approve_comment(root)
    rebuild()
    assert made == ["Post 3"]
    assert sorted(digested) == ["Ann", "Ben", "Post 3"]  # the approved comment's thread anew


def test_cached_bodies_links_are_checked_only_when_a_url_changed(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_site(_files(12), config=CONFIG)
    build_site(root, now=NOW)
    checked: list[str] = []
    real = convert._links_hold

    def links_hold(cached: Any, body: Any, links: Any) -> bool:
        checked.append(body.relative.name)
        return real(cached, body, links)

    monkeypatch.setattr(convert, "_links_hold", links_hold)
    edit_body(root)
    build_site(root, now=NOW)
    assert checked == []
    move_linked_post(root)
    build_site(root, now=NOW)
    assert len(checked) == 12  # every other cached body: 11 posts and the page
    assert (root / "output/2026/07/moved/index.html").is_file()
    assert 'href="/2026/07/moved/"' in (root / "output/2026/06/p05/index.html").read_text()


def test_duplicates_are_looked_for_again_only_where_comments_changed(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _files(12)
    files["content/comments/p02/c1.md"] = comment_file("Cy", "Hello", date="2026-03-03 10:00")
    root = make_site(files, config=CONFIG)
    build_site(root, now=NOW)
    looked: list[str] = []
    real = dedupe._groups

    def groups(ordered: Any, threshold: float) -> Any:
        looked.append(ordered[0].post_slug)
        return real(ordered, threshold)

    monkeypatch.setattr(dedupe, "_groups", groups)
    edit_body(root)
    build_site(root, now=NOW)
    assert looked == []
    edit_comment(root)
    report = build_site(root, now=NOW)
    assert set(looked) == {"p01"}  # for its threads and for the inbox
    assert report.pending_comments == 1


def test_no_op_renders_nothing_and_one_edit_renders_few(make_site: MakeSite) -> None:
    root = make_site(_files(12), config=CONFIG)
    first = build_site(root, now=NOW)
    again = build_site(root, now=NOW)
    assert again.rendered == 0 and again.written == 0
    edit_body(root)
    after_edit = build_site(root, now=NOW)
    assert 1 <= after_edit.written < first.written // 3
    assert after_edit.rendered < first.rendered // 2


def test_approving_a_comment_rerenders_its_post_and_the_comment_feed(make_site: MakeSite) -> None:
    root = make_site(_files(12), config=CONFIG)
    build_site(root, now=NOW)
    before = tree(root / "output")
    approve_comment(root)
    report = build_site(root, now=NOW)
    after = tree(root / "output")
    changed = sorted(k for k in after if after[k] != before.get(k))
    assert changed == ["2026/02/p01/index.html", "comments/feed.xml"]
    assert report.rendered == 1  # the post page; the feed is regenerated too


def _spied_workers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the functions run in worker processes from now on."""
    ran: list[str] = []
    for module in (gather, convert):
        real = module.in_chunks

        def spy(function: Any, *args: Any, real: Any = real, **kwargs: Any) -> Any:
            ran.append(function.__name__)
            return real(function, *args, **kwargs)

        monkeypatch.setattr(module, "in_chunks", spy)
    return ran


def test_parallel_parsing_and_conversion_give_the_serial_bytes(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _files(60)  # above the threshold for worker processes
    serial = make_site(files, config=CONFIG, name="serial")
    parallel = make_site(files, config=CONFIG, name="parallel")
    build_site(serial, now=NOW, workers=1)
    ran = _spied_workers(monkeypatch)
    shared = _spied_forks(monkeypatch, gather)
    converted = _spied_forks(monkeypatch, convert)
    build_site(parallel, now=NOW, workers=2)
    # Sources are parsed and bodies converted in a forked copy, which has the files already.
    assert ran == []
    assert len(shared) == 1 and shared[0][0] > 60 and shared[0][1] == 2
    assert len(converted) == 1 and converted[0][0] > 60 and converted[0][1] == 2  # and a page
    assert tree(serial / "output") == tree(parallel / "output")


def test_the_preview_parses_in_a_pool_never_forked(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _files(60)
    root = make_site(files, config=CONFIG)
    ran = _spied_workers(monkeypatch)
    shared = _spied_forks(monkeypatch, gather)
    converted = _spied_forks(monkeypatch, convert)
    assert Preview(root, workers=2).rebuild(NOW).ok
    assert ran == ["_parse_chunk", "_convert_chunk"] and shared == converted == []


def test_errors_found_in_workers_are_the_errors_found_in_order(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _files(60)
    files["content/posts/p07.md"] = "---\ntitle: [unclosed\n---\nBody.\n"
    files["content/posts/p30.md"] = '---\ntitle: "No date"\n---\nBody.\n'
    files["content/comments/p01/c9.md"] = "---\nauthor: Ann\n---\nNo date.\n"
    one, two, (ran, shared) = _failing_both_ways(
        make_site, files, lambda: (_spied_workers(monkeypatch), _spied_forks(monkeypatch, gather))
    )
    assert ran == [] and len(shared) == 1 and shared[0][1] == 2  # parsed in a forked copy
    assert len(one.errors) >= 3
    assert str(two).replace("parallel", "serial") == str(one)
    assert [(e.line, e.hint) for e in two.errors] == [(e.line, e.hint) for e in one.errors]


def _failing_both_ways(
    make_site: MakeSite, files: dict[str, str], spy: Callable[[], Any]
) -> tuple[ContentErrors, ContentErrors, Any]:
    """The errors of building ``files`` in one process, then in two; and what ``spy`` (called
    between the two builds) saw."""
    serial = make_site(files, config=CONFIG, name="serial")
    parallel = make_site(files, config=CONFIG, name="parallel")
    with pytest.raises(ContentErrors) as one:
        build_site(serial, now=NOW, workers=1)
    seen = spy()
    with pytest.raises(ContentErrors) as two:
        build_site(parallel, now=NOW, workers=2)
    assert not (parallel / "output").exists()
    return one.value, two.value, seen


def _spied_forks(monkeypatch: pytest.MonkeyPatch, module: Any = render) -> list[tuple[int, int]]:
    """How many items, and for how many processes, ``module`` shared out each time."""
    shared: list[tuple[int, int]] = []
    real = module.forked

    def spy(function: Any, items: Any, processes: int, *rest: Any, **named: Any) -> Any:
        shared.append((len(items), processes))
        return real(function, items, processes, *rest, **named)

    monkeypatch.setattr(module, "forked", spy)
    monkeypatch.setattr(workers, "FORK_MIN", 8)
    return shared


def test_comment_threads_made_in_forked_copies_are_the_serial_bytes(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _files(30)
    files["content/posts/p03.md"] = files["content/posts/p03.md"].replace(
        "---\n", "---\ncomments: hidden\n", 1
    )
    for i in range(26):  # the last four posts have no comments
        folder = f"content/comments/p{i:02d}"
        files[f"{folder}/a.md"] = comment_file("Ann", f"On *post {i}*.", date="2026-02-03 10:00")
        files[f"{folder}/b.md"] = comment_file(
            "Ben", f"Reply {i}.", date="2026-02-03 11:00", parent="a"
        )
        if i % 4 == 0:  # the same comment again: shown once, with a warning
            files[f"{folder}/c.md"] = comment_file(
                "Ann", f"On *post {i}*.", date="2026-02-03 10:05"
            )
        if i % 5 == 0:  # a reply to a comment that is not there
            files[f"{folder}/d.md"] = comment_file("Cy", "Lost.", parent="zz")
    serial = make_site(files, config=CONFIG, name="serial")
    parallel = make_site(files, config=CONFIG, name="parallel")
    alone = build_site(serial, now=NOW, workers=1)
    shared = _spied_forks(monkeypatch, publish)
    bodies = _spied_forks(monkeypatch, convert)
    together = build_site(parallel, now=NOW, workers=2)
    # Made in this process while forked copies convert the bodies (they need only the slugs).
    assert bodies == [(31, 2)]  # the posts and a page
    assert shared == [(26, 1)]
    assert tree(serial / "output") == tree(parallel / "output")
    assert len(alone.warnings) >= 7 + 6
    assert [str(w).replace("parallel", "serial") for w in together.warnings] == [
        str(w) for w in alone.warnings
    ]
    # The threads went into the cache: approving a comment makes one post's again, and with
    # no bodies to convert, the threads to make are shared out themselves.
    approve_comment(parallel)
    build_site(parallel, now=NOW, workers=2)
    assert shared == [(26, 1), (1, 2)]
    assert bodies == [(31, 2)]
    for made in ("*.comments.pickle", "state-*.json"):  # the threads are made again
        next((parallel / CACHE_DIR).glob(made)).unlink()
    again = build_site(parallel, now=NOW, workers=2)
    assert shared == [(26, 1), (1, 2), (26, 2)]  # made in forked copies
    approve_comment(serial)
    build_site(serial, now=NOW, workers=1)
    assert tree(serial / "output") == tree(parallel / "output")
    assert [str(w).replace("parallel", "serial") for w in again.warnings] == [
        str(w) for w in build_site(serial, now=NOW, workers=1).warnings
    ]


def test_the_preview_never_forks(make_site: MakeSite, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_site(_files(60), config=CONFIG)
    pages = _spied_forks(monkeypatch)
    threads = _spied_forks(monkeypatch, publish)
    assert Preview(root, workers=2).rebuild(NOW).ok  # it serves from threads of its own
    assert pages and threads
    assert {processes for _, processes in pages + threads} == {1}


def _cache_sizes(root: Path, *shards: str) -> dict[str, int]:
    return {s: next((root / CACHE_DIR).glob(f"*.{s}.pickle")).stat().st_size for s in shards}


def _page_fingerprints(root: Path) -> dict[str, Any]:
    with next((root / CACHE_DIR).glob("*.pages.pickle")).open("rb") as handle:
        pages = pickle.load(handle)[2]["pages"]
    assert len(pages) > 60
    return dict(pages)


def test_pages_rendered_in_forked_copies_are_the_serial_bytes(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    files = _files(60)
    serial = make_site(files, config=CONFIG, name="one")
    parallel = make_site(files, config=CONFIG, name="two")
    build_site(serial, now=NOW, workers=1)
    shared = _spied_forks(monkeypatch)
    first = build_site(parallel, now=NOW, workers=2)
    assert shared == [(first.rendered, 2)] and first.rendered > 60
    assert tree(serial / "output") == tree(parallel / "output")
    # What the copies' pages read is kept as compactly as what one process's read.
    assert _cache_sizes(parallel, "pages") == _cache_sizes(serial, "pages")
    # The pages' recipes came back from the copies: a no-op renders nothing, an edit little.
    assert build_site(parallel, now=NOW, workers=2).rendered == 0
    edit_body(parallel)
    edited = build_site(parallel, now=NOW, workers=2)
    assert 1 <= edited.rendered < first.rendered // 2
    assert tree(parallel / "output") == cold_copy(parallel, tmp_path)
    # The fingerprints the copies made are those one process makes for the same site.
    made_by_two = _page_fingerprints(parallel)
    shutil.rmtree(parallel / CACHE_DIR)
    shutil.rmtree(parallel / "output")
    build_site(parallel, now=NOW, workers=1)
    assert _page_fingerprints(parallel) == made_by_two


def test_template_errors_in_forked_copies_are_the_errors_in_order(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _files(60)
    files["themes/default/templates/post.html"] = (  # a mistake on its own line for each
        '{% extends "base.html" %}{% block content %}{{ post.title }}\n'
        "{% if post.slug == 'p07' %}{{ missing.attribute }}{% endif %}\n"
        "{% if post.slug == 'p30' %}{{ missing.attribute }}{% endif %}\n"
        "{% if post.slug in ('p31', 'p32') %}{{ missing.attribute }}{% endif %}\n"
        "{% endblock %}"
    )
    one, two, shared = _failing_both_ways(make_site, files, lambda: _spied_forks(monkeypatch))
    assert shared and shared[0][1] == 2
    assert sorted(e.line for e in one.errors) == [2, 3, 4]  # in the order of the pages
    (twice,) = [e for e in one.errors if e.line == 4]
    assert twice.message.endswith(" and 1 other page)")  # p31's and p32's, once
    assert str(two).replace("parallel", "serial") == str(one)


def test_corrupt_or_foreign_cache_is_ignored(make_site: MakeSite, tmp_path: Path) -> None:
    root = make_site(_files(6), config=CONFIG)
    build_site(root, now=NOW)
    for cache in (root / CACHE_DIR).glob("build-*.pickle"):
        cache.write_bytes(b"not a pickle at all")
    edit_body(root)
    build_site(root, now=NOW)
    assert tree(root / "output") == cold_copy(root, tmp_path)


def test_unchanged_inputs_skip_the_build_but_keep_the_report(make_site: MakeSite) -> None:
    root = make_site({**_files(6), "content/posts/bad-link.md": post("L", "2026-01-01",
                                                                     body="[x](nope.md)\n")},
                     config=CONFIG)  # fmt: skip
    first = build_site(root, now=NOW)
    again = build_site(root, now=NOW)
    assert (again.written, again.rendered) == (0, 0)
    assert [str(w) for w in again.warnings] == [str(w) for w in first.warnings]
    assert (again.posts, again.pages, again.pending_comments) == (
        first.posts, first.pages, first.pending_comments)  # fmt: skip


def test_a_scheduled_post_goes_live_when_its_time_comes(make_site: MakeSite) -> None:
    from datetime import timedelta

    files = {**_files(4), "content/posts/later.md": post("Scheduled", "2026-11-30 09:00")}
    root = make_site(files, config=CONFIG)
    build_site(root, now=NOW)
    assert not (root / "output/2026/11/later").exists()
    build_site(root, now=NOW + timedelta(days=3))  # nothing changed, still before its time
    assert not (root / "output/2026/11/later").exists()
    report = build_site(root, now=NOW + timedelta(days=8))  # no file changed, but time did
    assert (root / "output/2026/11/later/index.html").exists()
    assert report.written > 0


def test_with_drafts_a_scheduled_post_loses_its_badge_when_its_time_comes(
    make_site: MakeSite,
) -> None:
    from datetime import timedelta

    files = {**_files(4), "content/posts/later.md": post("Scheduled", "2026-11-30 09:00")}
    root = make_site(files, config=CONFIG)
    page = root / "output/2026/11/later/index.html"
    build_site(root, now=NOW, drafts=True)
    assert "Not published" in page.read_text()
    report = build_site(root, now=NOW + timedelta(days=8), drafts=True)  # only time changed
    assert "Not published" not in page.read_text() and report.written > 0


def test_comments_close_when_close_after_days_passes(make_site: MakeSite) -> None:
    from datetime import timedelta

    config = CONFIG + "close_after_days = 30\n"
    root = make_site({"content/posts/p.md": post("Recent", "2026-11-01")}, config=config)
    build_site(root, now=NOW)
    assert "<form" in (root / "output/2026/11/p/index.html").read_text()
    build_site(root, now=NOW + timedelta(days=10))
    assert "<form" not in (root / "output/2026/11/p/index.html").read_text()


def test_deleted_output_is_rebuilt_even_when_inputs_are_the_same(make_site: MakeSite) -> None:
    root = make_site(_files(4), config=CONFIG)
    build_site(root, now=NOW)
    shutil.rmtree(root / "output")
    report = build_site(root, now=NOW)
    assert (root / "output/index.html").exists() and report.written > 0


def test_cache_of_an_older_shape_is_ignored(make_site: MakeSite, tmp_path: Path) -> None:
    import pickle

    from cssblog.cache import CacheData

    root = make_site(_files(4), config=CONFIG)
    build_site(root, now=NOW)
    shards = sorted((root / CACHE_DIR).glob("build-*.pickle"))
    assert len(shards) == 3
    for shard in shards:
        _, key, _ = pickle.loads(shard.read_bytes())
        partial = object.__new__(CacheData)  # as unpickled from a version without some fields
        object.__setattr__(partial, "key", key)
        shard.write_bytes(pickle.dumps(partial))
    edit_body(root)
    build_site(root, now=NOW)
    assert tree(root / "output") == cold_copy(root, tmp_path)


def _shard_times(root: Path) -> dict[str, int]:
    return {
        p.name.split(".")[1]: p.stat().st_mtime_ns
        for p in (root / CACHE_DIR).glob("build-*.pickle")
    }


def test_a_build_rewrites_only_the_cache_shards_it_changed(make_site: MakeSite) -> None:
    root = make_site(_files(6), config=CONFIG)
    build_site(root, now=NOW)
    first = _shard_times(root)
    assert set(first) == {"posts", "comments", "pages"}
    build_site(root, now=NOW)
    assert _shard_times(root) == first
    edit_body(root)
    build_site(root, now=NOW)
    after_edit = _shard_times(root)
    assert after_edit["comments"] == first["comments"]
    assert after_edit["posts"] != first["posts"] and after_edit["pages"] != first["pages"]
    approve_comment(root)
    build_site(root, now=NOW)
    after_approval = _shard_times(root)
    assert after_approval["posts"] == after_edit["posts"]
    assert after_approval["comments"] != after_edit["comments"]


def _cache_but_state(root: Path) -> dict[str, bytes]:
    """The cache folder's files, but the record of the last build's inputs (a build forgets
    it as it begins)."""
    return {k: v for k, v in tree(root / CACHE_DIR).items() if not k.startswith("state-")}


@pytest.mark.parametrize("processes", [1, 2])
def test_a_failed_write_leaves_the_cache_of_the_last_build(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, processes: int
) -> None:
    from cssblog import writer

    monkeypatch.setattr(workers, "FORK_MIN", 4)
    monkeypatch.setattr(workers, "PARALLEL_MIN", 4)  # the writer's threads too
    root = make_site(_files(12), config=CONFIG)
    build_site(root, now=NOW, workers=processes)
    cache_before, output_before = _cache_but_state(root), tree(root / "output")
    edit_body(root)
    approve_comment(root)  # every shard would change: none may be written before the output

    def full_disk(file: str, *args: Any, **kwargs: Any) -> Any:
        if file.endswith("index.html"):
            raise OSError(28, "No space left on device")
        return open(file, *args, **kwargs)  # noqa: PTH123

    monkeypatch.setattr(writer, "open", full_disk, raising=False)
    with pytest.raises(CssblogError, match="No space left"):
        build_site(root, now=NOW, workers=processes)
    assert _cache_but_state(root) == cache_before  # no shard replaced, none left half-made
    assert tree(root / "output") == output_before
    monkeypatch.undo()
    build_site(root, now=NOW, workers=processes)
    assert tree(root / "output") == cold_copy(root, tmp_path)


def test_a_cache_that_cannot_be_saved_leaves_no_half_made_shard(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cssblog import cache

    root = make_site(_files(6), config=CONFIG)
    build_site(root, now=NOW)
    before = _cache_but_state(root)
    edit_body(root)

    def full_disk(value: Any, handle: Any, **_: Any) -> None:
        handle.write(b"the first bytes of a pickle")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cache.pickle, "dump", full_disk)
    with pytest.raises(OSError, match="No space left"):
        build_site(root, now=NOW)
    assert _cache_but_state(root) == before  # the old shards, and no temporary file beside them
    monkeypatch.undo()
    build_site(root, now=NOW)


def test_the_one_file_cache_of_format_4_is_removed_on_the_next_save(
    make_site: MakeSite, tmp_path: Path
) -> None:
    from cssblog.cache import cache_file

    root = make_site(_files(4), config=CONFIG)
    build_site(root, now=NOW)
    legacy = cache_file(root / CACHE_DIR, (root / "output").resolve())
    legacy.write_bytes(b"a cache as one file, 90 MiB at 5,000 posts")
    edit_body(root)
    build_site(root, now=NOW)
    assert not legacy.exists()
    assert len(list((root / CACHE_DIR).glob("build-*.pickle"))) == 3
    assert tree(root / "output") == cold_copy(root, tmp_path)


def test_a_corrupt_shard_is_rebuilt_and_the_others_still_serve(
    make_site: MakeSite, tmp_path: Path
) -> None:
    root = make_site(_files(6), config=CONFIG)
    build_site(root, now=NOW)
    (comments,) = (root / CACHE_DIR).glob("build-*.comments.pickle")
    comments.write_bytes(b"\x80\x05 broken")
    before = _shard_times(root)
    for state in (root / CACHE_DIR).glob("state-*.json"):
        state.unlink()  # no record of the last build's inputs: this one builds
    build_site(root, now=NOW)
    after = _shard_times(root)
    assert after["posts"] == before["posts"]  # parsed posts and bodies were reused as they were
    assert after["comments"] != before["comments"]
    assert tree(root / "output") == cold_copy(root, tmp_path)


def test_a_site_method_without_known_data_makes_the_page_depend_on_everything() -> None:
    from pathlib import PurePosixPath

    from cssblog.incremental import OutputMemo

    @dataclass(frozen=True)
    class Model:
        title: str
        items: tuple[str, ...]

        def newest(self) -> str:
            return self.items[0]

    def memo_for(model: Model, previous: dict[str, tuple[bytes, frozenset[str]]]) -> OutputMemo:
        return OutputMemo(model, previous, lambda path: True, b"salt")

    first = memo_for(Model("t", ("a",)), {})
    first.record("page", {"x": 1}, {"newest"})
    unchanged = memo_for(Model("t", ("a",)), first.current)
    assert unchanged.unchanged("page", PurePosixPath("p.html"), {"x": 1})
    changed = memo_for(Model("t", ("b",)), first.current)
    assert not changed.unchanged("page", PurePosixPath("p.html"), {"x": 1})


def _keys_passed(patch: pytest.MonkeyPatch, method: str) -> list[str]:
    """The output keys that ``OutputMemo.<method>`` is called with from now on."""
    from cssblog.incremental import OutputMemo

    keys: list[str] = []
    real = getattr(OutputMemo, method)

    def spy(self: OutputMemo, key: str, *args: Any, **kwargs: Any) -> Any:
        keys.append(key)
        return real(self, key, *args, **kwargs)

    patch.setattr(OutputMemo, method, spy)
    return keys


def test_a_warm_preview_digests_only_the_pages_it_renders(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages made of the very objects of the last rebuild are known unchanged undigested."""
    root, preview = warm_preview(make_site)
    digested = _keys_passed(monkeypatch, "fingerprint")
    recorded = _keys_passed(monkeypatch, "record")
    edit_body(root)
    outcome = preview.rebuild(NOW, changed=frozenset({str(root / EDITED)}))
    assert outcome.ok and outcome.pages > 30
    assert "post.html:/2026/04/p03/" in recorded
    assert sorted(digested) == sorted(recorded)
    assert len(recorded) < outcome.pages // 2


def test_same_value_is_true_only_for_values_that_render_alike() -> None:
    from datetime import UTC, datetime, timedelta, timezone

    from cssblog.incremental import same_value
    from cssblog.site import Term

    def term(name: str, count: int = 1) -> Term:
        return Term(name, name.lower(), f"/tag/{name.lower()}/", count, "/f.xml", "/a.xml")

    assert same_value(term("Tone"), term("Tone"))
    assert not same_value(term("Tone"), term("Tone", count=2))
    assert same_value(("a", 1, (term("X"),)), ("a", 1, (term("X"),)))
    assert not same_value(("a", 1), ("a", 1, 2))
    assert not same_value(1, True)  # equal, but printed otherwise
    assert not same_value(0.0, -0.0)
    utc = datetime(2026, 5, 5, 9, tzinfo=UTC)
    paris = utc.astimezone(timezone(timedelta(hours=1)))
    assert utc == paris and not same_value(utc, paris)
    assert same_value(utc, utc) and same_value(utc, utc.replace(minute=0))  # equal, same zone
    from zoneinfo import ZoneInfo

    ny = ZoneInfo("America/New_York")
    first, second = (datetime(2026, 11, 1, 1, 30, tzinfo=ny, fold=f) for f in (0, 1))
    assert first.isoformat() != second.isoformat() and not same_value(first, second)
    only = (Term, frozenset({"name"}))
    assert same_value(term("Tone"), term("Tone", count=2), only=only)  # count not read
    assert not same_value(term("Tone"), term("Mood"), only=only)
    listed = [1]
    assert same_value(listed, listed) and not same_value([1], [1])  # mutable: only itself

    @dataclass
    class Mutable:
        x: int

    assert not same_value(Mutable(1), Mutable(1))


@pytest.mark.parametrize("where", ["build", "preview"])
def test_an_edits_model_holds_the_last_builds_terms_and_authors(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    """Equal terms and authors are the very objects of the cached articles (cheap to compare)."""
    root = make_site(_files(12), config=CONFIG).resolve()
    models: list[site.Site] = []
    real = pipeline.build_model

    def build_model(*args: Any, **kwargs: Any) -> site.Site:
        models.append(real(*args, **kwargs))
        return models[-1]

    monkeypatch.setattr(pipeline, "build_model", build_model)
    rebuild = _rebuilder(root, where, frozenset({str(root / EDITED)}))
    rebuild()
    edit_body(root)
    rebuild()
    model = models[-1]
    terms = {t.url: t for t in (*model.categories, *model.tags)}
    held = [t for a in model.posts for t in (*a.categories, *a.tags)]
    assert held and all(t is terms[t.url] for t in held)
    authors = {a.name: a for a in model.authors}
    assert all(a.author is authors[a.author.name] for a in model.posts)
    assert model.customer_service is terms[model.customer_service.url]


def test_a_warm_preview_keys_and_routes_only_the_edited_body(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    root, preview = warm_preview(make_site)
    keyed: list[str] = []
    real = convert.Body.key

    def key(body: convert.Body) -> tuple[Any, ...]:
        keyed.append(body.relative.name)
        return real.__get__(body)  # type: ignore[attr-defined,no-any-return]

    monkeypatch.setattr(convert.Body, "key", property(key))
    edit_body(root)
    assert preview.rebuild(NOW, changed=frozenset({str(root / EDITED)})).ok
    assert keyed == ["p03.md"]
    assert "A new paragraph." in (preview.output / "2026/04/p03/index.html").read_text()


def test_each_source_is_looked_up_in_the_cache_once(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    from collections import Counter

    from cssblog.cache import Carried

    root = make_site(_files(12), config=CONFIG)
    build_site(root, now=NOW)
    looked: Counter[Any] = Counter()
    real = Carried.get

    def get(self: Carried, key: Any, default: Any = None) -> Any:
        looked[key] += 1
        return real(self, key, default)

    monkeypatch.setattr(Carried, "get", get)
    edit_body(root)
    build_site(root, now=NOW)
    sources = [k for k in looked if isinstance(k, tuple) and str(root) in str(k[:2])]
    assert len(sources) == 12 + 1 + 2  # posts, the page, comments
    assert all(looked[k] == 1 for k in sources)


def _rendered_in_preview(
    root: Path, monkeypatch: pytest.MonkeyPatch, change: Callable[[Path], None], changed: str
) -> list[str]:
    """The pages a warm preview renders again after ``change``."""
    preview = Preview(root)
    assert preview.rebuild(NOW).ok
    with monkeypatch.context() as patch:
        recorded = _keys_passed(patch, "record")
        change(root)
        assert preview.rebuild(NOW, changed=frozenset({str(root / changed)})).ok
    return recorded


ARCHIVE = "archive.html:/archive/"


def _archive_showing(root: Path, extra: str) -> None:
    """Give ``root`` the bundled archive template with ``extra`` after each post's title."""
    bundled = Path(render.__file__).parent / "themes/default/templates/archive.html"
    template = bundled.read_text().replace("{{ post.title }}</a>", "{{ post.title }}</a>" + extra)
    assert extra in template
    override = root / "themes/default/templates/archive.html"
    override.parent.mkdir(parents=True)
    override.write_text(template)


def test_a_body_edit_leaves_pages_that_read_none_of_the_changed_fields(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The archive shows titles and dates: a new paragraph does not render it again."""
    root = make_site(_files(12), config=CONFIG).resolve()
    rendered = _rendered_in_preview(root, monkeypatch, edit_body, EDITED)
    assert "post.html:/2026/04/p03/" in rendered
    assert ARCHIVE not in rendered and "archive.html:/2026/04/" not in rendered
    rendered = _rendered_in_preview(root, monkeypatch, retitle, "content/posts/p02.md")
    assert ARCHIVE in rendered and "archive.html:/2026/03/" in rendered
    assert tree(root / CACHE_DIR / "preview") == cold_preview(root, tmp_path)


@pytest.mark.parametrize(
    "use",
    [
        "{{ post }}",
        "{% if post == month.posts[0] %}first{% endif %}",
        "{{ post|pprint|length }}",
    ],
)
def test_a_template_that_uses_a_post_whole_is_rendered_again_on_any_change(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, use: str
) -> None:
    root = make_site(_files(12), config=CONFIG).resolve()
    _archive_showing(root, use)
    rendered = _rendered_in_preview(root, monkeypatch, edit_body, EDITED)
    assert ARCHIVE in rendered
    assert tree(root / CACHE_DIR / "preview") == cold_preview(root, tmp_path)


def test_a_template_asking_for_a_field_posts_do_not_have_still_rebuilds(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    root = make_site(_files(12), config=CONFIG).resolve()
    _archive_showing(root, "{% if post.subtitle is defined %}{{ post.subtitle }}{% endif %}")
    rendered = _rendered_in_preview(root, monkeypatch, edit_body, EDITED)
    assert ARCHIVE not in rendered
    assert tree(root / CACHE_DIR / "preview") == cold_preview(root, tmp_path)


def test_shards_left_by_a_killed_build_are_removed_by_the_next(make_site: MakeSite) -> None:
    import subprocess
    import sys

    root = make_site(_files(12), config=CONFIG)
    build_site(root, now=NOW)
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                           capture_output=True, text=True, check=True)  # fmt: skip
    dead, alive = int(ended.stdout), os.getppid()  # a process that has ended, and one running
    shard = next((root / CACHE_DIR).glob("*.posts.pickle"))
    left = {pid: shard.with_name(f".{shard.name}.{pid}-0a1b2c3d") for pid in (dead, alive)}
    for path in left.values():
        path.write_bytes(b"half a shard")
    edit_body(root)
    build_site(root, now=NOW)
    assert not left[dead].exists()
    assert left[alive].read_bytes() == b"half a shard"  # perhaps another preview's, in use
    assert sorted(p.name for p in (root / CACHE_DIR).glob(".*")) == [left[alive].name]


def test_pages_staged_as_they_are_rendered_are_the_bytes_a_build_would_hold(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build writes each page to its staging folder in the process that rendered it (a
    forked copy or this one): only "staged" comes back, and the bytes on disk are the ones a
    render that hands the bytes back makes."""
    root = make_site(_files(60), config=CONFIG)
    shared = _spied_forks(monkeypatch)
    config = load_config(root)
    held = render_site(config, now=NOW, drafts=False, workers=2)
    staging = open_staging(root / "output")
    staged = render_site(config, now=NOW, drafts=False, workers=2, staging=staging)
    assert [n for n, _ in shared] == [held.rendered, staged.rendered] and staged.rendered > 60
    pages = {f.path: f for f in held.files if str(f.path).endswith(".html")}
    assert all(f.data is not None for f in pages.values())
    for file in staged.files:
        if file.path in pages:
            assert file.data is None and file.staged
            assert (staging.folder / file.path).read_bytes() == pages[file.path].data
        else:  # feeds, sitemap and static files are written by the writer
            assert file.data is not None and not file.staged
    assert not (staging.folder / "feed.xml").exists()
    staging.discard()
    assert not staging.folder.exists()


def test_a_build_that_lost_its_cache_rewrites_no_page_it_renders_alike(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every page is rendered again, by forked copies that compare it with the page in
    ``output/``: only the ones whose bytes differ are staged, the rest keep inode and mtime."""
    root = make_site(_files(60), config=CONFIG)
    monkeypatch.setattr(workers, "FORK_MIN", 8)
    build_site(root, now=NOW, workers=2)
    before = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (root / "output").rglob("*.html")}
    shutil.rmtree(root / CACHE_DIR)
    edit_body(root)
    again = build_site(root, now=NOW, workers=2)
    assert again.rendered == len(before)
    changed = {p for p, seen in before.items() if (p.stat().st_ino, p.stat().st_mtime_ns) != seen}
    edited = [p for p in before if "A new paragraph" in p.read_text()]
    assert len(edited) == 1 and edited[0] in changed
    assert 1 <= len(changed) < len(before) // 2
    assert len(changed) <= again.written < len(before) // 2  # the feeds, perhaps, besides
    assert not [p for p in root.iterdir() if p.name.startswith(".output.")]


def _shards(root: Path) -> dict[str, Any]:
    found = {}
    for path in sorted((root / CACHE_DIR).glob("*.pickle")):
        with path.open("rb") as handle:
            found[path.name.split(".")[1]] = pickle.load(handle)
    return found


@pytest.mark.parametrize("case", ["shared", "copy fails", "another thread"])
def test_cache_shards_saved_by_two_processes_are_those_of_one(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, case: str
) -> None:
    """A forked copy pickles a shard while this process pickles the others; a copy that
    fails leaves its shard to this process, which saves it all the same; a process with
    another thread running saves them all itself."""
    copy_fails = case == "copy fails"
    monkeypatch.setattr(workers, "FORK_MIN", 8)  # a site of 13 posts and pages is "large"
    root = make_site(_files(12), config=CONFIG)
    build_site(root, now=NOW, workers=1)
    by_one = _shards(root)
    shutil.rmtree(root / CACHE_DIR)
    shutil.rmtree(root / "output")
    parent = os.getpid()
    real_dump = pickle.dump
    log = tmp_path / "savers"  # a copy's memory is its own: it tells through a file

    def dump(value: Any, handle: Any, *args: Any, **named: Any) -> None:
        if isinstance(value, tuple) and len(value) == 3 and isinstance(value[2], dict):
            if copy_fails and os.getpid() != parent:
                raise OSError("no room")
            with log.open("a") as out:
                out.write(f"{os.getpid()}\n")
            time.sleep(0.2)  # a shard as slow as a large site's: the copy is surely running
        real_dump(value, handle, *args, **named)

    monkeypatch.setattr(pickle, "dump", dump)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    if case == "another thread":
        other.start()
    try:
        build_site(root, now=NOW, workers=2)
    finally:
        stop.set()
    monkeypatch.setattr(pickle, "dump", real_dump)
    assert _shards(root) == by_one and len(by_one) == 3
    # Each shard is saved once: by both processes, or by this one alone.
    savers = log.read_text().split()
    assert len(savers) == 3 and len(set(savers)) == (2 if case == "shared" else 1)
    assert str(parent) in savers
    assert not list((root / CACHE_DIR).glob(".*"))  # no half-made shard left


def test_the_inbox_is_counted_while_forked_copies_render_the_pages(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The comment inbox is counted in the build's own process while its copies render pages,
    and counts as a build in one process does."""
    import cssblog.pipeline as pipeline

    files = _files(30)
    questions = ["Refunds?", "How long is the queue?", "Do macros help?", "Weekend cover?",
                 "What about chat?", "Is the survey anonymous?"]  # fmt: skip
    for i, question in enumerate(questions, start=3):  # unanswered, but one the author answered
        files[f"content/comments/p{i:02d}/r.md"] = comment_file(
            f"Reader {i}", question, date="2026-02-04 09:00", email=f"r{i}@example.com"
        )
    files["content/comments/p03/s.md"] = comment_file(
        "Jane Writer", "A.", date="2026-02-04 10:00", parent="r", email="jane@example.org"
    )
    one = make_site(files, config=CONFIG, name="one")
    two = make_site(files, config=CONFIG, name="two")
    alone = build_site(one, now=NOW, workers=1)
    monkeypatch.setattr(workers, "FORK_MIN", 8)
    rendering: list[int] = []  # the processes sharing out the pages, while they do
    during: list[list[int]] = []
    real_forked, real_counts = render.forked, pipeline.inbox_counts

    def spy(function: Any, items: Any, processes: int, *rest: Any, **named: Any) -> Any:
        rendering.append(processes)
        try:
            return real_forked(function, items, processes, *rest, **named)
        finally:
            rendering.pop()

    def counting(*args: Any, **named: Any) -> dict[str, int]:
        during.append(list(rendering))
        return real_counts(*args, **named)

    monkeypatch.setattr(render, "forked", spy)
    monkeypatch.setattr(pipeline, "inbox_counts", counting)
    forked = build_site(two, now=NOW, workers=2)
    assert during == [[2]]  # once, while two processes rendered the pages
    assert (forked.pending_comments, forked.unanswered_comments) == (1, 6)
    assert (alone.pending_comments, alone.unanswered_comments) == (1, 6)
    assert tree(one / "output") == tree(two / "output")
