"""Comments through the real build: threads, counts, form, policy, feed."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import feedparser
from click.testing import CliRunner

from cssblog.build import build_site
from cssblog.cli import main
from tests.comment_helpers import comment_file
from tests.conftest import BASE_CONFIG, NOW, MakeSite, post

POLICY = '\n[comments]\npolicy = "Be *kind*."\nintake_url = "https://intake.example.org/comments"\n'


def page(root: Path, url: str) -> str:
    return (root / "output" / url.lstrip("/") / "index.html").read_text()


class _Nesting(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str | None] = []
        self.parent: dict[str, str | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "article":
            cid = (dict(attrs).get("id") or "").removeprefix("comment-") or None
            if cid:
                self.parent[cid] = next((s for s in reversed(self.stack) if s), None)
            self.stack.append(cid)

    def handle_endtag(self, tag: str) -> None:
        if tag == "article":
            self.stack.pop()


def nesting(html: str) -> dict[str, str | None]:
    """Each comment's enclosing comment, from the real markup."""
    parser = _Nesting()
    parser.feed(html)
    return parser.parent


def section(html: str) -> str:
    return html[html.index('<section id="comments"') :]


def site_with_comments(
    make_site: MakeSite, config: str = BASE_CONFIG + POLICY, **posts: str
) -> Path:
    files = {
        "content/posts/p.md": post("Post", "2026-01-05"),
        "content/comments/p/a.md": comment_file("Ann", "Top **one**", date="2026-01-06 10:00"),
        "content/comments/p/b.md": comment_file(
            "Ben", "Reply to Ann", parent="a", date="2026-01-06 11:00"
        ),
        "content/comments/p/c.md": comment_file(
            "Jane Writer",
            "Thanks both",
            email="jane@example.org",
            parent="b",
            date="2026-01-06 12:00",
        ),
        "content/comments/p/d.md": comment_file("Dee", "Held back", status="pending"),
        "content/comments/p/e.md": comment_file("Ann", "top ONE!", date="2026-01-07 10:00"),
        "content/comments/p/f.md": comment_file(
            "Fay", "Orphan", parent="d", date="2026-01-08 10:00"
        ),
    }
    files.update(posts)
    return make_site(files, config=config)


def test_threads_nest_and_count_matches_rendered(make_site: MakeSite) -> None:
    root = site_with_comments(make_site)
    report = build_site(root, now=NOW)
    html = section(page(root, "/2026/01/p/"))
    assert '<section id="comments" class="comments" data-count="4"' in html
    assert ">4 comments<" in html
    ids = re.findall(r'<article class="comment[^"]*" id="comment-(\w+)"', html)
    assert ids == ["a", "b", "c", "f"]
    assert nesting(html) == {"a": None, "b": "a", "c": "b", "f": None}
    assert 'class="comment by-author" id="comment-c"' in html
    assert "Held back" not in html and "top ONE!" not in html
    warnings = " ".join(str(w) for w in report.warnings)
    assert "duplicate of a; shown once" in warnings
    assert "parent d is not approved; shown at top level" in warnings


def test_policy_page_form_and_links(make_site: MakeSite) -> None:
    root = site_with_comments(make_site)
    build_site(root, now=NOW)
    html = section(page(root, "/2026/01/p/"))
    assert 'action="https://intake.example.org/comments"' in html
    assert 'name="post" value="p"' in html and 'name="homepage"' in html
    assert "Be <em>kind</em>." in html and 'href="/comment-policy/"' in html
    assert "Be <em>kind</em>." in page(root, "/comment-policy/")


def test_no_form_without_intake_url_and_no_policy_page_without_policy(make_site: MakeSite) -> None:
    root = site_with_comments(make_site, config=BASE_CONFIG)
    build_site(root, now=NOW)
    html = section(page(root, "/2026/01/p/"))
    assert "<form" not in html
    assert not (root / "output/comment-policy").exists()


def test_closed_shows_comments_without_form_and_hidden_shows_nothing(make_site: MakeSite) -> None:
    root = site_with_comments(
        make_site,
        **{
            "content/posts/p.md": post("Post", "2026-01-05", comments="closed"),
            "content/posts/h.md": post("Hidden", "2026-01-06", comments="hidden"),
            "content/comments/h/x.md": comment_file("Xan", "Invisible words"),
        },
    )
    build_site(root, now=NOW)
    closed = section(page(root, "/2026/01/p/"))
    assert "<form" not in closed and "Comments are closed" in closed and 'id="comment-a"' in closed
    hidden = page(root, "/2026/01/h/")
    assert 'id="comments"' not in hidden and "Invisible words" not in hidden


def test_close_after_days_closes_old_posts(make_site: MakeSite) -> None:
    config = BASE_CONFIG + POLICY + "close_after_days = 30\n"
    root = site_with_comments(
        make_site, config=config, **{"content/posts/new.md": post("New", "2026-11-20")}
    )
    build_site(root, now=NOW)
    assert "<form" not in section(page(root, "/2026/01/p/"))
    assert "<form" in section(page(root, "/2026/11/new/"))


def test_comments_of_unknown_or_draft_posts_are_not_published(make_site: MakeSite) -> None:
    root = site_with_comments(
        make_site,
        **{
            "content/posts/draft.md": post("Draft", "2026-01-01", draft=True),
            "content/comments/draft/x.md": comment_file("Dra", "Secret draft comment"),
            "content/comments/gone/y.md": comment_file("Gon", "Orphaned post comment"),
        },
    )
    report = build_site(root, now=NOW)
    everything = "".join(
        p.read_text(errors="ignore") for p in (root / "output").rglob("*") if p.is_file()
    )
    assert "Secret draft comment" not in everything and "Orphaned post comment" not in everything
    assert any("unknown or unpublished post 'gone'" in str(w) for w in report.warnings)


def test_recent_comments_feed(make_site: MakeSite) -> None:
    root = site_with_comments(make_site)
    build_site(root, now=NOW)
    parsed = feedparser.parse((root / "output/comments/feed.xml").read_bytes())
    assert parsed.bozo == 0
    assert [e.link.rsplit("#", 1)[1] for e in parsed.entries] == [
        "comment-f",
        "comment-c",
        "comment-b",
        "comment-a",
    ]
    assert parsed.entries[-1].title == "Ann on “Post”"
    assert "<strong>one</strong>" in parsed.entries[-1].description
    assert "dana@example.com" not in (root / "output/comments/feed.xml").read_text()


def test_recent_comments_feed_carries_the_newest_thirty_across_posts(make_site: MakeSite) -> None:
    files = {f"content/posts/p{n}.md": post(f"Post {n}", f"2026-01-0{n + 1}") for n in range(3)}
    dates = {}
    for i in range(40):
        day, hour = 10 + (i * 7) % 17, (i * 5) % 24  # interleaved across the three posts
        dates[f"p{i % 3}/c{i:02d}"] = (day, hour, f"c{i:02d}")
        files[f"content/comments/p{i % 3}/c{i:02d}.md"] = comment_file(
            f"Reader {i}", f"Comment {i}", date=f"2026-01-{day} {hour:02d}:00", email=f"r{i}@x.org"
        )
    root = make_site(files)
    build_site(root, now=NOW)
    parsed = feedparser.parse((root / "output/comments/feed.xml").read_bytes())
    newest = sorted(dates.values(), reverse=True)[:30]
    assert [e.link.rsplit("#comment-", 1)[1] for e in parsed.entries] == [n for *_, n in newest]


def test_build_prints_the_inbox_summary(make_site: MakeSite) -> None:
    root = site_with_comments(make_site)
    result = CliRunner().invoke(main, ["build", "--site", str(root)])
    assert result.exit_code == 0, result.output
    # pending: d; awaiting a reply: a and f (c answers b; e is a copy of a, counted once)
    assert "Comments: 1 awaiting moderation, 2 awaiting a reply" in result.output
