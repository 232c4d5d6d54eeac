"""The preview writes an edited post's page before the rebuild, and it is the rebuild's page."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from cssblog import preview as preview_module
from cssblog.errors import CssblogError
from cssblog.preview import Outcome, Preview
from tests.conftest import NOW, MakeSite, post, tree
from tests.test_incremental import CONFIG, EDITED, _files, cold_preview, edit_body, warm_preview

PAGE = "2026/04/p03/index.html"
"""The page of the post :data:`EDITED`."""
LISTING = "tag/t0/index.html"
"""A listing page that shows that post's summary."""


class Early:
    """Stands in for the reload hub: what was announced early, and the page at that moment."""

    def __init__(self, preview: Preview) -> None:
        self.preview = preview
        self.outcomes: list[Outcome] = []
        self.pages: list[str] = []
        self.listings: list[str] = []

    def __call__(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        self.pages.append((self.preview.output / PAGE).read_text())
        self.listings.append((self.preview.output / LISTING).read_text())


def _rebuild(root: Path, preview: Preview, *changed: str) -> tuple[Outcome, Early]:
    early = Early(preview)
    outcome = preview.rebuild(NOW, changed=frozenset(str(root / c) for c in changed), early=early)
    assert outcome.ok, outcome.problems
    return outcome, early


def _waits_for_the_rebuild(root: Path, preview: Preview, tmp_path: Path) -> None:
    """The edit of :data:`EDITED` is announced by the rebuild alone, which shows it."""
    outcome, early = _rebuild(root, preview, EDITED)
    assert early.outcomes == []
    assert "/2026/04/p03/" in outcome.changed
    assert tree(preview.output) == cold_preview(root, tmp_path)


def test_an_edited_body_is_written_and_announced_before_the_rebuild(
    make_site: MakeSite, tmp_path: Path
) -> None:
    root, preview = warm_preview(make_site)
    before = preview.generation
    edit_body(root)
    outcome, early = _rebuild(root, preview, EDITED)
    assert [o.changed for o in early.outcomes] == [frozenset({"/2026/04/p03/"})]
    assert early.outcomes[0].generation == before + 1 and outcome.generation == before + 2
    assert early.outcomes[0].ok and early.outcomes[0].pages == outcome.pages
    assert "A new paragraph." in early.pages[0]
    # The rebuild made that page byte for byte: it left the file as it was.
    assert "/2026/04/p03/" not in outcome.changed
    assert (preview.output / PAGE).read_text() == early.pages[0]
    assert tree(preview.output) == cold_preview(root, tmp_path)


def test_each_edit_in_turn_is_announced_early(make_site: MakeSite, tmp_path: Path) -> None:
    root, preview = warm_preview(make_site)
    for n in range(3):
        path = root / EDITED
        path.write_text(path.read_text() + f"\nEdit number {n}.\n")
        outcome, early = _rebuild(root, preview, EDITED)
        assert len(early.outcomes) == 1 and f"Edit number {n}." in early.pages[0]
        assert "/2026/04/p03/" not in outcome.changed
    assert tree(preview.output) == cold_preview(root, tmp_path)


def test_a_summary_edit_reaches_the_listings_with_the_rebuild(
    make_site: MakeSite, tmp_path: Path
) -> None:
    root, preview = warm_preview(make_site)
    path = root / EDITED
    path.write_text(path.read_text().replace("Body 3 with", "A new opening, then body 3 with"))
    outcome, early = _rebuild(root, preview, EDITED)
    assert [o.changed for o in early.outcomes] == [frozenset({"/2026/04/p03/"})]
    assert "A new opening" in early.pages[0] and "A new opening" not in early.listings[0]
    assert "/tag/t0/" in outcome.changed and "/2026/04/p03/" not in outcome.changed
    assert "A new opening" in (preview.output / LISTING).read_text()
    assert tree(preview.output) == cold_preview(root, tmp_path)


def test_a_front_matter_edit_waits_for_the_rebuild(make_site: MakeSite, tmp_path: Path) -> None:
    root, preview = warm_preview(make_site)
    path = root / EDITED
    path.write_text(path.read_text().replace('title: "Post 3"', 'title: "Post three"'))
    _waits_for_the_rebuild(root, preview, tmp_path)


def test_a_change_of_two_files_waits_for_the_rebuild(make_site: MakeSite) -> None:
    root, preview = warm_preview(make_site)
    edit_body(root)
    other = root / "content/posts/p04.md"
    other.write_text(other.read_text() + "\nMore.\n")
    outcome, early = _rebuild(root, preview, EDITED, "content/posts/p04.md")
    assert early.outcomes == []
    assert {"/2026/04/p03/", "/2026/05/p04/"} <= outcome.changed


def test_an_editors_temporary_file_does_not_hold_the_page_back(make_site: MakeSite) -> None:
    root, preview = warm_preview(make_site)
    path = root / EDITED
    temp = path.with_name(path.name + ".saving")  # written, then renamed over the post
    temp.write_text(path.read_text() + "\nSaved by a rename.\n")
    temp.replace(path)
    outcome, early = _rebuild(root, preview, EDITED, f"{EDITED}.saving")
    assert [o.changed for o in early.outcomes] == [frozenset({"/2026/04/p03/"})]
    assert "Saved by a rename." in early.pages[0] and "/2026/04/p03/" not in outcome.changed


def test_a_folder_of_sources_in_the_change_waits_for_the_rebuild(make_site: MakeSite) -> None:
    root, preview = warm_preview(make_site)
    edit_body(root)
    folder = root / "content/comments/p01"
    for comment in folder.iterdir():
        comment.unlink()
    folder.rmdir()
    outcome, early = _rebuild(root, preview, EDITED, "content/comments/p01")
    assert early.outcomes == []
    assert "/2026/04/p03/" in outcome.changed and "/2026/02/p01/" in outcome.changed


def test_a_page_that_reads_the_posts_waits_for_the_rebuild(
    make_site: MakeSite, tmp_path: Path
) -> None:
    root, preview = warm_preview(make_site)
    override = root / "themes/default/templates/post.html"
    override.parent.mkdir(parents=True)
    override.write_text(
        '{% extends "base.html" %}{% block content %}{{ post.html|safe }}<ul>'
        "{% for p in site.posts[:3] %}<li>{{ p.summary_html|safe }}</li>{% endfor %}"
        "</ul>{% endblock %}"
    )
    assert preview.rebuild(NOW, changed=frozenset({str(override)})).ok
    edit_body(root)
    _waits_for_the_rebuild(root, preview, tmp_path)


def test_an_edit_that_breaks_the_post_waits_for_the_rebuild(make_site: MakeSite) -> None:
    root, preview = warm_preview(make_site)
    (root / EDITED).write_text("---\ntitle: [unclosed\n---\nBody.\n")
    early = Early(preview)
    outcome = preview.rebuild(NOW, changed=frozenset({str(root / EDITED)}), early=early)
    assert not outcome.ok and early.outcomes == []
    # Fixed again, the next edit is the rebuild's to show: the last rebuild failed.
    (root / EDITED).write_text(post("Post 3", "2026-04-04 09:00", body="Mended.\n"))
    outcome, early = _rebuild(root, preview, EDITED)
    assert early.outcomes == [] and "/2026/04/p03/" in outcome.changed
    assert "Mended." in (preview.output / PAGE).read_text()


def test_a_rebuild_that_fails_after_the_early_page_puts_the_last_good_page_back(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    root, preview = warm_preview(make_site)
    good = (preview.output / PAGE).read_bytes()
    original = (root / EDITED).read_text()
    edit_body(root)

    def full_disk(*args: object, **kwargs: object) -> None:
        raise CssblogError("cannot write 2026/04/p03/index.html: No space left on device")

    monkeypatch.setattr(preview_module, "write_outputs", full_disk)
    early = Early(preview)
    outcome = preview.rebuild(NOW, changed=frozenset({str(root / EDITED)}), early=early)
    assert not outcome.ok and len(early.outcomes) == 1
    assert (preview.output / PAGE).read_bytes() == good  # the last good preview, whole
    assert not list(preview.output.parent.glob(".preview.tmp-*"))
    monkeypatch.undo()
    (root / EDITED).write_text(original)  # undone in the editor: the last good page is right
    outcome, early = _rebuild(root, preview, EDITED)
    assert tree(preview.output) == cold_preview(root, tmp_path)
    # The browser was shown the early page: it is told to reload the page put back.
    assert "/2026/04/p03/" in outcome.changed
    assert "/2026/04/p03/" not in _rebuild(root, preview, EDITED)[0].changed  # told once


def test_a_theme_or_settings_change_with_the_post_waits_for_the_rebuild(
    make_site: MakeSite,
) -> None:
    root, preview = warm_preview(make_site)
    override = root / "themes/default/templates/list.html"
    override.parent.mkdir(parents=True)
    override.write_text("{% extends 'base.html' %}{% block content %}Lists.{% endblock %}")
    assert preview.rebuild(NOW, changed=frozenset({str(override)})).ok
    edit_body(root)
    override.write_text("{% extends 'base.html' %}{% block content %}{% if %}{% endblock %}")
    early = Early(preview)
    both = frozenset({str(root / EDITED), str(override)})
    outcome = preview.rebuild(NOW, changed=both, early=early)
    assert not outcome.ok and early.outcomes == []
    assert "A new paragraph." not in (preview.output / PAGE).read_text()
    override.write_text("{% extends 'base.html' %}{% block content %}Lists.{% endblock %}")
    config = root / "cssblog.toml"
    config.write_text(config.read_text().replace('title = "', 'title = "New: '))
    outcome, early = _rebuild(root, preview, EDITED, str(override), "cssblog.toml")
    assert early.outcomes == [] and "A new paragraph." in (preview.output / PAGE).read_text()


def test_an_edit_after_time_changed_the_site_waits_for_the_rebuild(
    make_site: MakeSite, tmp_path: Path
) -> None:
    """The post's comments close between two saves: its page changes with time too."""
    config = CONFIG.replace("[comments]\n", "[comments]\nclose_after_days = 240\n")
    root = make_site(_files(12), config=config).resolve()  # p03: 2026-04-04, closes 11-30
    preview = Preview(root)
    assert preview.rebuild(NOW).ok
    assert "<form" in (preview.output / PAGE).read_text()
    edit_body(root)
    early = Early(preview)
    later = NOW + timedelta(days=10)
    outcome = preview.rebuild(later, changed=frozenset({str(root / EDITED)}), early=early)
    assert outcome.ok and early.outcomes == []
    assert "/2026/04/p03/" in outcome.changed
    page = (preview.output / PAGE).read_text()
    assert "A new paragraph." in page and "<form" not in page


def test_an_edit_to_a_post_that_went_live_since_waits_for_the_rebuild(
    make_site: MakeSite,
) -> None:
    root, preview = warm_preview(make_site)
    later = root / "content/posts/later.md"
    later.write_text(post("Later", (NOW + timedelta(days=1)).strftime("%Y-%m-%d %H:%M")))
    assert preview.rebuild(NOW, changed=frozenset({str(later)})).ok
    page = preview.output / "2026/11/later/index.html"
    assert "Not published" in page.read_text()  # the preview shows it, scheduled
    later.write_text(later.read_text() + "\nMore words.\n")
    early = Early(preview)
    outcome = preview.rebuild(NOW + timedelta(days=2), changed=frozenset({str(later)}), early=early)
    assert outcome.ok and early.outcomes == [] and "/2026/11/later/" in outcome.changed
    assert "More words." in page.read_text() and "Not published" not in page.read_text()


def test_a_page_left_half_written_by_a_killed_preview_is_removed(make_site: MakeSite) -> None:
    root, preview = warm_preview(make_site)
    dead = 2**22 + 12345  # above the largest pid Linux can give out
    spare = preview.output.parent / f".{preview.output.name}.tmp-{dead}-0badf00d"
    spare.mkdir()
    (spare / "page").write_text("half a page")
    edit_body(root)
    early = _rebuild(root, preview, EDITED)[1]
    assert len(early.outcomes) == 1 and not spare.exists()
    assert not list(preview.output.parent.glob(f".{preview.output.name}.tmp-*"))


def test_a_page_that_cannot_be_put_back_is_made_again_by_the_next_good_rebuild(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from cssblog import fast_render

    root, preview = warm_preview(make_site)
    original = (root / EDITED).read_text()
    edit_body(root)
    real, calls = fast_render._replace, []

    def once(*args: Any) -> None:  # writes the early page, then cannot put the old one back
        calls.append(args)
        if len(calls) > 1:
            raise OSError(28, "No space left on device")
        real(*args)

    def full_disk(*args: object, **kwargs: object) -> None:
        raise CssblogError("cannot write: No space left on device")

    monkeypatch.setattr(fast_render, "_replace", once)
    monkeypatch.setattr(preview_module, "write_outputs", full_disk)
    early = Early(preview)
    assert not preview.rebuild(NOW, changed=frozenset({str(root / EDITED)}), early=early).ok
    assert len(calls) == 2 and "A new paragraph." in (preview.output / PAGE).read_text()
    monkeypatch.undo()
    (root / EDITED).write_text(original)
    outcome = _rebuild(root, preview, EDITED)[0]
    assert "/2026/04/p03/" in outcome.changed
    assert tree(preview.output) == cold_preview(root, tmp_path)
