"""The repository is itself a site: it builds cleanly and shows what cssblog does."""

from __future__ import annotations

import shutil
from pathlib import Path

import feedparser
import pytest

from cssblog.build import build_site, load_sources
from cssblog.config import load_config
from tests.conftest import NOW

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("sample") / "site"
    shutil.copytree(ROOT / "content", site / "content")
    shutil.copy(ROOT / "cssblog.toml", site)
    return site


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


def test_sample_site_builds_without_warnings(sample: Path) -> None:
    report = build_site(sample, now=NOW)
    assert report.warnings == ()
    out = sample / "output"
    code = next(p for p in out.rglob("index.html") if 'class="highlight"' in p.read_text())
    assert '<span class="' in code.read_text()  # Pygments classes, not inline styles
    for name in ("feed.xml", "atom.xml", "category/customer-service/feed.xml"):
        assert feedparser.parse((out / name).read_bytes()).bozo == 0
