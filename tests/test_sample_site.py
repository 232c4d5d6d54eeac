"""The repository is itself a site: it builds cleanly and shows what cssblog does."""

from __future__ import annotations

import shutil
from datetime import UTC
from pathlib import Path

import feedparser
import pytest

from cssblog.build import build_site
from cssblog.comments.dedupe import find_duplicates
from cssblog.comments.store import load_comments
from cssblog.config import load_config
from cssblog.gather import load_sources
from tests.conftest import NOW

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("sample") / "site"
    shutil.copytree(ROOT / "content", site / "content")
    shutil.copy(ROOT / "cssblog.toml", site)
    return site


def test_sample_comments_show_every_state(sample: Path) -> None:
    comments = load_comments(sample, UTC).comments
    statuses = {c.status for c in comments}
    assert {"approved", "pending", "spam"} <= statuses
    authors = {a.email for a in load_config(sample).authors}
    assert any(c.parent and c.email in authors for c in comments)  # an author reply
    groups = find_duplicates(comments, 0.9)
    assert len(groups) == 1


def test_sample_content_covers_the_features(sample: Path) -> None:
    config = load_config(sample)
    sources = load_sources(config)
    posts = sources.posts
    cs = config.customer_service.category
    assert len(posts) >= 8
    assert sum(cs in p.categories for p in posts if not p.draft) >= 4
    assert len({c for p in posts for c in p.categories} - {cs}) >= 3
    assert any(p.draft for p in posts)
    assert any(p.date > NOW for p in posts)
    assert any(p.canonical_url for p in posts)
    assert any("```" in p.body for p in posts)
    assert any(p.slug == "about" for p in sources.pages)
    assert any(
        f.kind == "static" and f.relative.suffix in (".png", ".svg", ".jpg") for f in sources.files
    )


def test_sample_site_builds_with_only_the_duplicate_warning(sample: Path) -> None:
    report = build_site(sample, now=NOW)
    assert [w.message for w in report.warnings] == [
        "duplicate of 20251119T103000-5b8e2f917ac3; shown once"
    ]
    assert (report.pending_comments, report.unanswered_comments) == (1, 2)
    ladder = (sample / "output/2025/04/the-apology-ladder/index.html").read_text()
    assert 'data-count="3"' in ladder and "comment by-author" in ladder
    out = sample / "output"
    code = next(p for p in out.rglob("index.html") if 'class="highlight"' in p.read_text())
    assert '<span class="' in code.read_text()  # Pygments classes, not inline styles
    for name in ("feed.xml", "atom.xml", "category/customer-service/feed.xml"):
        assert feedparser.parse((out / name).read_bytes()).bozo == 0
