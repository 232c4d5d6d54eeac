"""Static files (theme and ``content/static/``), sitemap and robots.txt → :class:`OutputFile`."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from xml.sax.saxutils import escape

from cssblog import urls
from cssblog.output import OutputFile
from cssblog.site import Site
from cssblog.sources import SourceFile, is_ignored_name
from cssblog.theme import THEME_STATIC_URL, Theme


def collect_static(theme: Theme, sources: Sequence[SourceFile]) -> tuple[OutputFile, ...]:
    """Theme static files under ``/theme/`` (site theme first) and content static files at /."""
    files: dict[PurePosixPath, OutputFile] = {}
    prefix = PurePosixPath(THEME_STATIC_URL.strip("/"))
    for static_dir in reversed(theme.static_dirs):  # most specific wins: written last
        for path in _files(static_dir):
            relative = prefix / path.relative_to(static_dir).as_posix()
            files[relative] = OutputFile(relative, path.read_bytes())
    for source in sources:
        if source.kind == "static":
            files[source.relative] = OutputFile(source.relative, source.data)
    return tuple(files.values())


def _files(root: Path) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not is_ignored_name(d))
        found.extend(Path(dirpath) / n for n in sorted(filenames) if not is_ignored_name(n))
    return [
        p
        for p in found
        if p.is_file() and (not p.is_symlink() or p.resolve().is_relative_to(root.resolve()))
    ]


def render_sitemap(site: Site, page_urls: Sequence[str]) -> tuple[OutputFile, ...]:
    """``sitemap.xml`` listing every HTML page but drafts and the 404 page, and
    ``robots.txt`` pointing at it."""
    base = site.config.site.url
    lastmod = {p.url: (p.updated or p.date) for p in site.posts}
    drafts = {p.url for p in site.posts if p.draft} | {d.url for d in site.pages if d.draft}
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
    ]
    for url in sorted(page_urls):
        if url in drafts or url.endswith("404.html"):
            continue
        lines.append(
            f"  <url><loc>{escape(urls.absolute(base, url))}</loc>"
            + (f"<lastmod>{lastmod[url].date().isoformat()}</lastmod>" if url in lastmod else "")
            + "</url>"
        )
    lines.append("</urlset>\n")
    robots = f"User-agent: *\nAllow: /\n\nSitemap: {urls.absolute(base, '/sitemap.xml')}\n"
    return (
        OutputFile(PurePosixPath("sitemap.xml"), "\n".join(lines).encode()),
        OutputFile(PurePosixPath("robots.txt"), robots.encode()),
    )
