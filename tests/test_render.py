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
