"""Integration: build small sites in tmp_path and check the pages, links and listings."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from cssblog.build import build_site
from cssblog.errors import ContentErrors
from tests.conftest import NOW, MakeSite, post, tree

CS = "Customer Service"


def _site_with_posts(make_site: MakeSite) -> Path:
    return make_site(
        {
            "content/posts/2026-01-05-first.md": post(
                "First reply",
                "2026-01-05 09:00",
                categories=[CS],
                tags=["tone", "sla"],
                body="Intro paragraph with **bold**.\n\n<!-- more -->\n\n"
                "## Details\n\nMore text.\n",
            ),
            "content/posts/2026-02-10-second.md": post(
                "Second",
                "2026-02-10 10:00",
                categories=["Tools"],
                tags=["tone"],
                body="See [the first](2026-01-05-first.md#details) and [gone](missing.md).\n",
            ),
            "content/posts/2026-03-15-third.md": post(
                "Third & last",
                "2026-03-15",
                categories=[CS, "Tools"],
                tags=["sla"],
                canonical_url="https://medium.example.com/third",
            ),
            "content/posts/draft.md": post("Draft idea", "2026-01-01", draft=True, categories=[CS]),
            "content/posts/future.md": post("Next year", "2027-06-01", categories=[CS]),
            "content/pages/about.md": '---\ntitle: "About"\n---\nAbout us.\n',
            "content/static/images/pic.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>",
        }
    )


@pytest.fixture
def built(make_site: MakeSite) -> Path:
    root = _site_with_posts(make_site)
    build_site(root, now=NOW)
    return root / "output"


def read(output: Path, url: str) -> str:
    path = output / url.lstrip("/")
    return (path / "index.html" if url.endswith("/") else path).read_text(encoding="utf-8")


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.links: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "a" and found.get("href"):
            self.hrefs.append(str(found["href"]))
        if tag == "link":
            self.links.append(found)


def parse_links(html: str) -> _Links:
    parser = _Links()
    parser.feed(html)
    return parser


def test_post_pages_at_permalinks_with_rendered_markdown(built: Path) -> None:
    html = read(built, "/2026/01/first/")
    assert "<strong>bold</strong>" in html
    assert 'id="details"' in html  # heading anchor from the toc extension
    assert "First reply" in html


def test_links_to_source_files_resolve_to_urls(built: Path) -> None:
    html = read(built, "/2026/02/second/")
    assert 'href="/2026/01/first/#details"' in html


def test_unresolved_source_link_is_a_warning_with_line(make_site: MakeSite) -> None:
    root = _site_with_posts(make_site)
    report = build_site(root, now=NOW)
    messages = [str(w) for w in report.warnings]
    assert any(
        "content/posts/2026-02-10-second.md:7:" in m and "missing.md" in m for m in messages
    ), messages


def test_drafts_and_future_posts_left_out_unless_asked(built: Path, make_site: MakeSite) -> None:
    everything = "\n".join(
        p.read_text(encoding="utf-8", errors="replace") for p in built.rglob("*") if p.is_file()
    )
    assert "Draft idea" not in everything
    assert "Next year" not in everything
    root = built.parent
    build_site(root, now=NOW, drafts=True, output=root / "preview")
    preview = root / "preview"
    assert "Draft idea" in read(preview, "/2026/01/draft/")
    assert "Next year" in read(preview, "/2027/06/future/")


def test_customer_service_category_is_featured(built: Path) -> None:
    landing = read(built, "/category/customer-service/")
    assert "<em>answering</em>" in landing  # the configured description, as Markdown
    assert "First reply" in landing and "Third &amp; last" in landing
    assert "Second" not in landing
    for url in ("/", "/2026/02/second/", "/about/", "/archive/"):
        assert 'href="/category/customer-service/"' in read(built, url), url
    assert (built / "category/customer-service/feed.xml").is_file()
    assert (built / "category/customer-service/atom.xml").is_file()
    badge = re.compile(r'class="[^"]*badge-cs[^"]*"')

    def header(url: str) -> str:
        return read(built, url).split('class="post-header"', 1)[1].split("</header>", 1)[0]

    assert badge.search(header("/2026/01/first/"))
    assert not badge.search(header("/2026/02/second/"))


def test_home_is_paginated_newest_first(built: Path) -> None:
    home = read(built, "/")
    assert home.index("Third &amp; last") < home.index("Second")
    assert "First reply" not in home  # posts_per_page = 2
    assert "First reply" in read(built, "/page/2/")
    assert 'href="/page/2/"' in home


def test_category_tag_author_and_archive_pages(built: Path) -> None:
    assert "Second" in read(built, "/category/tools/")
    assert "First reply" in read(built, "/tag/tone/")
    assert "Third &amp; last" in read(built, "/author/jane-writer/")
    archive = read(built, "/archive/")
    assert 'href="/2026/"' in archive and 'href="/2026/03/"' in archive
    assert "Third &amp; last" in read(built, "/2026/03/")
    assert "Second" not in read(built, "/2026/03/")
    assert "Second" in read(built, "/2026/")


def test_previous_next_and_related(built: Path) -> None:
    second = read(built, "/2026/02/second/")
    assert 'href="/2026/01/first/"' in second and 'href="/2026/03/third/"' in second
    related = second.split("Related", 1)[1]
    assert "First reply" in related  # shares the "tone" tag


def test_related_posts_rank_by_shared_terms_then_nearness_then_url(make_site: MakeSite) -> None:
    """Tags weigh 2 and categories 1; among equal scores the nearest in time come first, and
    of two as near the one with the smaller URL."""
    files = {
        f"content/posts/p{i}.md": post(f"Post {i}", f"2026-01-{1 + i:02d}", tags=["shared"])
        for i in range(7)
    }
    files["content/posts/p6.md"] = post(
        "Post 6", "2026-01-07", tags=["shared", "rare"], categories=["Tools"]
    )
    files["content/posts/q.md"] = post("Q", "2026-01-05 12:00", categories=["Tools"])
    files["content/posts/far.md"] = post("Far", "2025-06-01", tags=["rare"], categories=["Tools"])
    root = make_site(files)
    build_site(root, now=NOW)

    def related(url: str) -> list[str]:
        section = read(root / "output", url).split('id="related-title"', 1)[1]
        return re.findall(r'<li><a href="([^"]+)"', section.split("</section>", 1)[0])

    # p3: all six others share its tag (score 2); p2 and p4 are a day away, then p1 and p5.
    assert related("/2026/01/p3/") == ["/2026/01/p2/", "/2026/01/p4/", "/2026/01/p1/"]
    # p6 shares "rare" and Tools with Far (2 + 1): first however far; then p5 and p4 (tag).
    assert related("/2026/01/p6/") == ["/2025/06/far/", "/2026/01/p5/", "/2026/01/p4/"]
    # Q shares only Tools (score 1) with p6 and Far: nearest first.
    assert related("/2026/01/q/") == ["/2026/01/p6/", "/2025/06/far/"]


def test_canonical_links_and_first_published_note(built: Path) -> None:
    third = read(built, "/2026/03/third/")
    canon = [lk for lk in parse_links(third).links if lk.get("rel") == "canonical"]
    assert [lk["href"] for lk in canon] == ["https://medium.example.com/third"]
    assert "first published at" in third.lower()
    for url, expected in (
        ("/2026/01/first/", "https://blog.example.org/2026/01/first/"),
        ("/", "https://blog.example.org/"),
        ("/tag/sla/", "https://blog.example.org/tag/sla/"),
    ):
        canon = [lk for lk in parse_links(read(built, url)).links if lk.get("rel") == "canonical"]
        assert [lk["href"] for lk in canon] == [expected]


def test_feed_alternate_links_and_open_graph_and_json_ld(built: Path) -> None:
    home = parse_links(read(built, "/")).links
    alternates = {lk["href"] for lk in home if lk.get("rel") == "alternate"}
    assert {"/feed.xml", "/atom.xml"} <= alternates
    cat = parse_links(read(built, "/category/tools/")).links
    assert "/category/tools/feed.xml" in {lk["href"] for lk in cat if lk.get("rel") == "alternate"}
    first = read(built, "/2026/01/first/")
    assert '<meta property="og:title" content="First reply"' in first
    ld = re.search(r'<script type="application/ld\+json">(.*?)</script>', first, re.DOTALL)
    assert ld is not None
    data = json.loads(ld.group(1))
    assert data["@type"] == "BlogPosting" and data["headline"] == "First reply"
    assert data["datePublished"].startswith("2026-01-05T09:00")


def test_summary_before_more_marker_and_reading_time(built: Path) -> None:
    listing = read(built, "/page/2/")
    assert "Intro paragraph" in listing
    assert "More text." not in listing
    assert "min read" in read(built, "/2026/01/first/")


def test_author_bio_from_config(built: Path) -> None:
    assert "Jane runs a <strong>support</strong> team." in read(built, "/2026/01/first/")


def test_sitemap_robots_404_and_static(built: Path) -> None:
    sitemap = (built / "sitemap.xml").read_text()
    assert "<loc>https://blog.example.org/2026/01/first/</loc>" in sitemap
    assert "draft" not in sitemap and "404" not in sitemap
    assert "Sitemap: https://blog.example.org/sitemap.xml" in (built / "robots.txt").read_text()
    assert (built / "404.html").is_file()
    assert (built / "images/pic.svg").is_file()
    assert (built / "theme/style.css").is_file()


def test_every_internal_link_resolves(built: Path) -> None:
    missing = set()
    for page in built.rglob("*.html"):
        for href in parse_links(page.read_text(encoding="utf-8")).hrefs:
            if href.startswith("/") and not href.startswith("//"):
                target = built / href.split("#")[0].lstrip("/")
                if not (target.is_file() or (target / "index.html").is_file()):
                    missing.add((str(page.relative_to(built)), href))
    assert not missing


def test_same_input_gives_same_bytes(make_site: MakeSite) -> None:
    first = _site_with_posts(make_site)
    build_site(first, now=NOW)
    second = make_site(
        {
            str(p.relative_to(first)): p.read_bytes()
            for p in (first / "content").rglob("*")
            if p.is_file()
        },
        name="again",
    )
    build_site(second, now=NOW)
    assert tree(first / "output") == tree(second / "output")


def test_all_content_errors_reported_at_once_and_output_untouched(make_site: MakeSite) -> None:
    root = _site_with_posts(make_site)
    build_site(root, now=NOW)
    before = tree(root / "output")
    (root / "content/posts/bad-yaml.md").write_text("---\ntitle: A: B\ndate: 2026-01-01\n---\n")
    (root / "content/posts/no-title.md").write_text("---\ndate: 2026-01-01\n---\nx\n")
    (root / "content/posts/dupe.md").write_text(post("Dupe", "2026-01-01", slug="first"))
    with pytest.raises(ContentErrors) as caught:
        build_site(root, now=NOW)
    text = str(caught.value)
    assert "content/posts/bad-yaml.md:2:" in text
    assert "content/posts/no-title.md:" in text and "missing `title`" in text
    assert "slug 'first' is used by 2 posts" in text
    assert tree(root / "output") == before


def test_rebuild_removes_pages_of_deleted_posts(make_site: MakeSite) -> None:
    root = _site_with_posts(make_site)
    build_site(root, now=NOW)
    assert (root / "output/2026/02/second/index.html").exists()
    (root / "content/posts/2026-02-10-second.md").unlink()
    report = build_site(root, now=NOW)
    assert not (root / "output/2026/02/second").exists()
    assert report.removed >= 1


def test_site_theme_overrides_one_template(make_site: MakeSite) -> None:
    root = _site_with_posts(make_site)
    override = root / "themes/default/templates/page.html"
    override.parent.mkdir(parents=True)
    override.write_text(
        '{% extends "base.html" %}{% block content %}<p id="mine">{{ doc.title }}</p>{% endblock %}'
    )
    build_site(root, now=NOW)
    assert '<p id="mine">About</p>' in read(root / "output", "/about/")
    assert "First reply" in read(root / "output", "/2026/01/first/")  # rest from the bundle


def test_template_error_names_template_and_line(make_site: MakeSite) -> None:
    root = _site_with_posts(make_site)
    override = root / "themes/default/templates/page.html"
    override.parent.mkdir(parents=True)
    override.write_text(
        '{% extends "base.html" %}\n{% block content %}\n{{ doc.no_such_thing }}\n{% endblock %}\n'
    )
    with pytest.raises(ContentErrors) as caught:
        build_site(root, now=NOW)
    assert re.search(r"page\.html:3: .*no_such_thing", str(caught.value))
    assert not (root / "output").exists()


def test_dates_without_offset_use_site_timezone(make_site: MakeSite) -> None:
    from tests.conftest import BASE_CONFIG

    config = BASE_CONFIG.replace('timezone = "UTC"', 'timezone = "America/New_York"')
    root = make_site({"content/posts/late.md": post("Late", "2026-01-31 22:30")}, config=config)
    build_site(root, now=NOW)
    # 22:30 in New York is already 1 February in UTC; the URL follows the local date.
    assert "2026-01-31T22:30:00-05:00" in read(root / "output", "/2026/01/late/")


def test_editor_leftovers_and_dotfiles_are_never_published(make_site: MakeSite) -> None:
    root = make_site(
        {
            "content/posts/real.md": post("Real", "2026-01-01"),
            "content/posts/real.md~": post("Backup copy", "2026-01-01"),
            "content/posts/.real.md.swp": "swap",
            "content/posts/.#real.md": "lock",
            "content/posts/real.md___jb_tmp___": post("JetBrains temp", "2026-01-01"),
            "content/static/.DS_Store": "junk",
            "content/static/.env": "SECRET=1",
            "content/static/ok.txt": "fine",
        }
    )
    build_site(root, now=NOW)
    names = {p.name for p in (root / "output").rglob("*")}
    assert "ok.txt" in names
    assert not names & {".DS_Store", ".env", "real.md~", ".real.md.swp"}
    everything = "".join(p.read_text(errors="ignore") for p in (root / "output").rglob("*.html"))
    assert "Backup copy" not in everything and "JetBrains temp" not in everything


def test_symlinks_leaving_the_site_are_refused(make_site: MakeSite, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("private key")
    root = make_site({"content/posts/a.md": post("A", "2026-01-01")})
    (root / "content/static").mkdir(parents=True)
    (root / "content/static/leak.txt").symlink_to(secret)
    with pytest.raises(ContentErrors, match="symbolic link points outside content/"):
        build_site(root, now=NOW)
    assert not (root / "output").exists()


def test_related_posts_chosen_while_the_bodies_convert_are_those_the_model_chooses(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build that shares its bodies out chooses the related posts meanwhile, from the posts
    alone: the pages are those of a build that chooses them from the finished model."""
    from cssblog import site, workers

    tags = ["sla", "tone", "escalation", "refunds"]
    files = {
        f"content/posts/p{i:02d}.md": post(
            f"Post {i}",
            f"2026-0{1 + i % 3}-{1 + i:02d} 09:{i:02d}",
            tags=[tags[i % 4], tags[i * 3 % 4]] if i % 5 else [],
            categories=["Customer Service"] if i % 2 else ["Tools", "Customer Service"],
        )
        for i in range(14)
    }
    root = make_site(files)
    chosen: list[int] = []
    real = site._related

    def related(shape: object) -> object:
        chosen.append(len(shape))  # type: ignore[arg-type]
        return real(shape)  # type: ignore[arg-type]

    monkeypatch.setattr(site, "_related", related)
    monkeypatch.setattr(workers, "FORK_MIN", 2)
    build_site(root, now=NOW, output=root / "shared", workers=2)
    assert chosen == [14]  # once, ahead: the model took that choice
    build_site(root, now=NOW, output=root / "alone", workers=1)
    assert chosen == [14, 14]  # by the model
    shared, alone = tree(root / "shared"), tree(root / "alone")
    assert shared == alone
    pages = [p for p in shared if re.fullmatch(r"\d{4}/\d\d/p\d\d/index\.html", p)]
    assert len(pages) == 14
    assert sum(b'id="related-title"' in shared[p] for p in pages) >= 12
