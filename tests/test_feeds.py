"""Feeds: parsed back with feedparser and a strict XML parser."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import feedparser
import pytest

from cssblog.build import build_site
from cssblog.feeds import absolutize, xml_safe
from tests.conftest import NOW, MakeSite, post


@pytest.fixture
def output(make_site: MakeSite) -> Path:
    root = make_site(
        {
            "content/posts/a.md": post(
                "Alpha",
                "2026-01-01 08:00",
                categories=["Customer Service"],
                tags=["tone"],
                body="![chart](/images/c.svg) [x](#part)\n\n"
                "## Part\n\nText with <b>html</b> & ampersands.\n",
            ),
            "content/posts/b.md": post(
                "Beta",
                "2026-02-01",
                categories=["Tools"],
                tags=["tone"],
                updated="2026-03-01 10:00",
                body="Bell \x07 and \x0b.\n",
            ),
            "content/posts/c.md": post("Gamma", "2026-03-01", categories=["Customer Service"]),
            "content/posts/d.md": post(
                "Draft", "2026-03-02", draft=True, categories=["Customer Service"]
            ),
        }
    )
    build_site(root, now=NOW)
    return root / "output"


FEEDS = [
    "feed.xml",
    "atom.xml",
    "category/customer-service/feed.xml",
    "category/customer-service/atom.xml",
    "category/tools/feed.xml",
    "tag/tone/atom.xml",
]


@pytest.mark.parametrize("name", FEEDS)
def test_feed_parses_cleanly(output: Path, name: str) -> None:
    data = (output / name).read_bytes()
    ET.fromstring(data)  # strict XML
    parsed = feedparser.parse(data)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.entries


def test_site_feed_newest_first_full_content_and_no_drafts(output: Path) -> None:
    for name in ("feed.xml", "atom.xml"):
        parsed = feedparser.parse((output / name).read_bytes())
        titles = [e.title for e in parsed.entries]
        assert titles == ["Gamma", "Beta", "Alpha"], name
        alpha = parsed.entries[-1]
        html = alpha.content[0].value if "content" in alpha else alpha.description
        assert "<b>html</b>" in html and "&amp;" not in alpha.title


def test_customer_service_feed_has_only_its_posts(output: Path) -> None:
    parsed = feedparser.parse((output / "category/customer-service/atom.xml").read_bytes())
    assert [e.title for e in parsed.entries] == ["Gamma", "Alpha"]
    assert "Customer Service" in parsed.feed.title


def test_relative_urls_made_absolute_in_content(output: Path) -> None:
    parsed = feedparser.parse((output / "atom.xml").read_bytes())
    alpha = next(e for e in parsed.entries if e.title == "Alpha")
    content = alpha.content[0].value
    assert 'src="https://blog.example.org/images/c.svg"' in content
    assert 'href="https://blog.example.org/2026/01/a/#part"' in content
    assert 'src="/images' not in content


def test_entry_ids_stable_and_dates_aware(output: Path, make_site: MakeSite) -> None:
    parsed = feedparser.parse((output / "atom.xml").read_bytes())
    ids = [e.id for e in parsed.entries]
    assert ids == [
        "https://blog.example.org/2026/03/c/",
        "https://blog.example.org/2026/02/b/",
        "https://blog.example.org/2026/01/a/",
    ]
    beta = parsed.entries[1]
    assert beta.updated.startswith("2026-03-01T10:00")
    assert beta.published.startswith("2026-02-01T00:00")


def test_feeds_are_byte_identical_across_builds(output: Path) -> None:
    before = {n: (output / n).read_bytes() for n in FEEDS}
    build_site(output.parent, now=NOW.replace(year=2026, month=12))
    assert {n: (output / n).read_bytes() for n in FEEDS} == before


def test_xml_safe_and_absolutize_helpers() -> None:
    assert xml_safe("a\x00b\x1fc\ufffed") == "abcd"
    html = '<a href="/x/">x</a> <a href="https://o.org/">o</a> <a href="#h">h</a>'
    assert absolutize(html, "https://s.org/blog", "https://s.org/blog/p/") == (
        '<a href="https://s.org/blog/x/">x</a> <a href="https://o.org/">o</a> '
        '<a href="https://s.org/blog/p/#h">h</a>'
    )
