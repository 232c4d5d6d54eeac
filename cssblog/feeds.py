"""RSS 2.0 and Atom feeds with feedgen: the site, each category and each tag."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

from cssblog import __version__, urls
from cssblog.comments.publish import RECENT_COMMENTS, RecentComment
from cssblog.incremental import OutputMemo
from cssblog.output import OutputFile
from cssblog.site import Article, Site

_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_RELATIVE_REF = re.compile(r'(\s(?:href|src))="(/[^"]*|#[^"]*)"')
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """One feed: where it lives, what it is called, which posts it carries."""

    base_url: str
    title: str
    description: str
    posts: tuple[Article, ...]


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry."""
    return _XML_INVALID.sub("", text)


def absolutize(html: str, site_url: str, page_url: str) -> str:
    """Make site-relative ``/path`` and ``#fragment`` references in ``html`` absolute."""

    def fix(match: re.Match[str]) -> str:
        ref = match.group(2)
        full = page_url + ref if ref.startswith("#") else urls.absolute(site_url, ref)
        return f'{match.group(1)}="{full}"'

    return _RELATIVE_REF.sub(fix, html)


def render_feeds(site: Site, memo: OutputMemo | None = None) -> tuple[OutputFile, ...]:
    """RSS and Atom files for the site, every category and every tag.

    With a ``memo``, feeds whose posts and settings did not change are kept, not regenerated.
    """
    files: list[OutputFile] = []
    for spec in _specs(site):
        rss_path, atom_path = (PurePosixPath(u.lstrip("/")) for u in urls.feed_urls(spec.base_url))
        key, context = f"feed:{spec.base_url}", (spec, site.config.site)
        if memo is not None and memo.exists(atom_path) and memo.unchanged(key, rss_path, context):
            files += [OutputFile(rss_path, None), OutputFile(atom_path, None)]
            continue
        rss, atom = _generate(site, spec)
        if memo is not None:
            memo.record(key, context, set())
        files += [OutputFile(rss_path, rss), OutputFile(atom_path, atom)]
    return tuple(files)


def _specs(site: Site) -> Iterator[FeedSpec]:
    config = site.config.site
    limit = config.feed_entries
    yield FeedSpec("/", config.title, config.description or config.title, site.posts[:limit])
    terms = list(site.categories)
    cs = site.customer_service
    if cs is not None and cs not in terms:
        terms.append(cs)
    for term in terms:
        yield FeedSpec(
            term.url,
            f"{config.title}: {term.name}",
            f"Posts in {term.name} on {config.title}",
            site.posts_of(term)[:limit],
        )
    for term in site.tags:
        yield FeedSpec(
            term.url,
            f"{config.title}: posts tagged {term.name}",
            f"Posts tagged {term.name} on {config.title}",
            site.posts_of(term)[:limit],
        )


def _generate(site: Site, spec: FeedSpec) -> tuple[bytes, bytes]:
    config = site.config.site
    home = urls.absolute(config.url, spec.base_url)
    rss_url, atom_url = (urls.absolute(config.url, u) for u in urls.feed_urls(spec.base_url))
    from feedgen.feed import FeedGenerator  # only when a feed is made: lxml is slow to load

    fg = FeedGenerator()
    fg.id(home)
    fg.title(xml_safe(spec.title))
    fg.subtitle(xml_safe(spec.description))
    fg.link(href=home, rel="alternate")
    fg.link(href=atom_url, rel="self")
    fg.language(config.language)
    fg.generator("cssblog", version=__version__, uri="https://pypi.org/project/cssblog/")
    if config.author:
        fg.author({"name": xml_safe(config.author)})
    newest = max((_updated(p) for p in spec.posts), default=_EPOCH)
    fg.updated(newest)
    fg.lastBuildDate(newest)
    _add_entries(fg, spec.posts, config.url)
    atom = fg.atom_str(pretty=True)
    fg.link(href=rss_url, rel="self", replace=True)
    rss = fg.rss_str(pretty=True)
    return rss, atom


def _add_entries(fg: Any, posts: Sequence[Article], site_url: str) -> None:
    for post in posts:
        entry = fg.add_entry(order="append")
        entry.id(post.abs_url)
        entry.guid(post.abs_url, permalink=True)
        entry.title(xml_safe(post.title))
        entry.link(href=post.abs_url)
        entry.published(post.date)
        entry.updated(_updated(post))
        entry.author({"name": xml_safe(post.author.name)})
        entry.summary(xml_safe(absolutize(post.summary_html, site_url, post.abs_url)), type="html")
        entry.content(xml_safe(absolutize(post.html, site_url, post.abs_url)), type="html")
        for term in post.categories:
            entry.category(term=xml_safe(term.name))


def _updated(post: Article) -> datetime:
    return post.updated if post.updated and post.updated > post.date else post.date


def render_comments_feed(
    site: Site,
    recent: Sequence[RecentComment],
    memo: OutputMemo | None = None,
    limit: int = RECENT_COMMENTS,
) -> OutputFile:
    """``/comments/feed.xml``: the newest approved comments (RSS 2.0). Never an email."""
    path = PurePosixPath(urls.COMMENTS_FEED_URL.lstrip("/"))
    context = (tuple(recent[:limit]), site.config.site)
    if memo is not None:
        if memo.unchanged("feed:comments", path, context):
            return OutputFile(path, None)
        memo.record("feed:comments", context, set())
    config = site.config.site
    from feedgen.feed import FeedGenerator  # only when a feed is made: lxml is slow to load

    fg = FeedGenerator()
    home = urls.absolute(config.url, "/")
    fg.id(urls.absolute(config.url, urls.COMMENTS_FEED_URL))
    fg.title(xml_safe(f"Comments on {config.title}"))
    fg.description(xml_safe(f"The newest readers' comments on {config.title}"))
    fg.link(href=home, rel="alternate")
    fg.language(config.language)
    fg.generator("cssblog", version=__version__)
    newest = recent[0].comment.date if recent else _EPOCH
    fg.lastBuildDate(newest)
    for item in recent[:limit]:
        link = f"{item.post.abs_url}#comment-{item.comment.id}"
        entry = fg.add_entry(order="append")
        entry.guid(link, permalink=True)
        entry.title(xml_safe(f"{item.comment.author} on “{item.post.title}”"))
        entry.link(href=link)
        entry.published(item.comment.date)
        entry.description(xml_safe(item.comment.body_html))
    return OutputFile(path, fg.rss_str(pretty=True))
