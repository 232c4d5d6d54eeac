"""Rendering pages: the pagination bar, and drafts' badges in listings."""

from __future__ import annotations

import pytest

from cssblog.preview import Preview
from cssblog.render import PageLink, Pagination
from tests.conftest import NOW, MakeSite, post


def _shown_by_rule(p: Pagination) -> list[PageLink | None]:
    """The bundled theme's rule, applied to every page: first, last and neighbours, and one
    gap for each run of pages left out."""
    shown: list[PageLink | None] = []
    for link in p.pages:
        if link.number in (1, p.count) or abs(link.number - p.number) <= 1:
            shown.append(link)
        elif shown and shown[-1] is not None:
            shown.append(None)
    return shown


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 6, 9, 250])
def test_the_pagination_bar_shows_the_first_last_and_neighbouring_pages(count: int) -> None:
    for number in range(1, count + 1):
        p = Pagination(number, count, None, None, "/tag/x/")
        assert list(p.shown) == _shown_by_rule(p)
    middle = Pagination(125, 250, None, None, "/")
    assert [link.number if link else None for link in middle.shown] == [
        1, None, 124, 125, 126, None, 250,
    ]  # fmt: skip
    assert [link.url for link in middle.shown if link][-1] == "/page/250/"


def test_a_listing_badges_drafts_and_only_drafts(make_site: MakeSite) -> None:
    root = make_site({
        "content/posts/a.md": post("Written", "2026-01-01"),
        "content/posts/b.md": post("Not yet", "2026-01-02", draft=True),
    })  # fmt: skip
    preview = Preview(root)
    assert preview.rebuild(NOW).ok
    cards = (preview.output / "index.html").read_text().split('<article class="card')[1:]
    assert [("Not yet" in c, "Not published" in c) for c in cards] == [(True, True), (False, False)]


def test_a_template_mistake_that_stops_many_pages_is_reported_once(make_site: MakeSite) -> None:
    """A mistake in the listing template stops every listing page: one error says so, with the
    file, the line and how many pages; a mistake elsewhere is its own error."""
    from cssblog.build import build_site
    from cssblog.errors import ContentErrors
    from cssblog.theme import BUNDLED_THEMES

    templates = BUNDLED_THEMES / "default/templates"
    listing = (templates / "list.html").read_text(encoding="utf-8")
    archive = (templates / "archive.html").read_text(encoding="utf-8")
    files = {
        f"content/posts/p{n}.md": post(f"Post {n}", f"2026-0{1 + n % 3}-0{1 + n} 09:00")
        for n in range(7)
    }
    files["themes/default/templates/list.html"] = listing.replace(
        "{% block content %}", "{% block content %}{{ no_such_thing.title }}", 1
    )
    files["themes/default/templates/archive.html"] = archive.replace(
        "{% block content %}", "{% block content %}{{ nor_this.title }}", 1
    )
    root = make_site(files)
    with pytest.raises(ContentErrors) as caught:
        build_site(root, now=NOW, workers=1)
    problems = caught.value.errors
    assert len(problems) == 2
    first, second = sorted(problems, key=lambda e: str(e.path))
    assert str(first.path).endswith("archive.html") and "nor_this" in first.message
    assert str(second.path).endswith("list.html") and "no_such_thing" in second.message
    listings = 4 + 4 + 1  # the home page's 4 (2 posts a page), the author's 4, Customer Service
    assert second.message.endswith(f"(rendering / and {listings - 1} other pages)")
    assert first.message.endswith(" other pages)")  # the archive, its years and months
    assert second.line == listing.split("\n").index("{% block content %}") + 1
    assert first.line == archive.split("\n").index("{% block content %}") + 1
    assert not (root / "output").exists()
