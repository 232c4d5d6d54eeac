"""The page of a post whose body alone was edited, made ahead of the rebuild that follows.

While a writer edits a post in ``cssblog serve``, the page open in the browser is the one that
matters. When the files that changed are that one post's, and only its body changed, its page
is made from the last build's site model with the new body, so that it can be written and
announced at once; the whole rebuild follows and writes whatever else changed (this page again
only if its bytes differ). A change to the front matter, or a page that reads parts of the site
that hold posts (a theme listing recent posts in every page, say), waits for the rebuild.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from cssblog import urls
from cssblog.comments.publish import CommentsView
from cssblog.config import SiteConfig
from cssblog.content import Post
from cssblog.convert import source_name
from cssblog.errors import CssblogError
from cssblog.gather import read_source
from cssblog.incremental import same_value
from cssblog.markup import MarkdownRenderer
from cssblog.render import post_job, render_job
from cssblog.site import Article, Site, is_published, make_article
from cssblog.sources import SourceFile

HOLDS_NO_POSTS = frozenset(
    {
        "config",
        "pages",
        "categories",
        "tags",
        "authors",
        "customer_service",
        "customer_service_html",
        "nav",
        "drafts_included",
        "first_year",
        "last_year",
    }
)
"""The parts of :class:`~cssblog.site.Site` that hold no post: a page that reads only these
reads nothing that a post's body changes, besides the post itself."""


@dataclass(frozen=True, slots=True)
class LastBuild:
    """What a long-running process keeps of its last good build for :func:`render_edited`."""

    config: SiteConfig
    site: Site
    posts: Mapping[Path, Post]
    """The posts as read, by :attr:`~cssblog.content.Post.source`."""
    articles: Mapping[Path, Article]
    """The posts as the theme saw them, by source."""
    comments: Mapping[str, CommentsView]
    """Each post's comments section, by URL."""
    links: Mapping[str, str]
    """Each source (``posts/x.md``) and the URL it publishes at, for links between them."""
    next_change: datetime | None = None
    """When time alone changes that build (a scheduled post going live, comments closing)."""


@dataclass(frozen=True, slots=True)
class EditedPage:
    """The page of an edited post, made ahead of the rebuild."""

    key: str
    """What names the page in the build cache (see :attr:`~cssblog.render.PageJob.key`)."""
    url: str
    path: PurePosixPath
    data: bytes


def render_edited(
    last: LastBuild,
    config: SiteConfig,
    source: SourceFile,
    *,
    now: datetime,
    env: Any,
    renderer: MarkdownRenderer,
) -> EditedPage | None:
    """The page of the post read from ``source``, when only its body changed since ``last``
    and the page reads nothing else that changed; None when the rebuild must tell."""
    if source.kind != "post" or config != last.config:
        return None
    if last.next_change is not None and now >= last.next_change:
        return None  # other pages, and the comments sections, change with time too
    post, problems = read_source(config, source)
    if problems or not isinstance(post, Post):
        return None
    before, article = last.posts.get(post.source), last.articles.get(post.source)
    if before is None or article is None:
        return None
    if post.body == before.body or not same_value(replace(post, body=before.body), before):
        return None  # the same post, or more than its body changed
    if article.draft == is_published(post, now):
        return None  # scheduled to appear since: the listings change too
    body = renderer.render(
        post.body,
        source=PurePosixPath(source_name(post.source)),
        body_line=post.body_line,
        links=last.links,
    )
    edited = make_article(
        post, body, config, article.categories, article.tags, article.author, draft=article.draft
    )
    job = post_job(last.site, edited, last.comments.get(article.url, CommentsView("hidden", 0)))
    used: set[str] = set()
    html = render_job(env, last.site, job, used)
    if isinstance(html, CssblogError) or not used <= HOLDS_NO_POSTS:
        return None
    return EditedPage(job.key, article.url, urls.page_route(article.url).path, html.encode())


def write_edited(output: Path, page: EditedPage) -> bytes | None:
    """Put ``page`` in ``output`` in one rename; the bytes it replaced, to put back should the
    rebuild fail (see :func:`put_back`). None when its file is missing (the rebuild writes
    it) or holds those bytes already, or cannot be written (the rebuild reports why)."""
    target = output / page.path
    try:
        before = target.read_bytes()
        if before == page.data:
            return None
        _replace(output, page.path, page.data)
    except OSError:
        return None
    return before


def put_back(output: Path, path: PurePosixPath, data: bytes) -> None:
    """Put back the bytes :func:`write_edited` replaced (the last good build's page); the
    caller has the next rebuild compare the page with its file, in case this fails."""
    with contextlib.suppress(OSError):
        _replace(output, path, data)


def _replace(output: Path, path: PurePosixPath, data: bytes) -> None:
    """Write ``data`` beside ``output`` and rename it over its file; in a folder named as the
    writer's staging folders are, so that one left by a killed process is removed."""
    spare = output.parent / f".{output.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    spare.mkdir()
    try:
        (spare / "page").write_bytes(data)
        (spare / "page").replace(output / path)
    finally:
        shutil.rmtree(spare, ignore_errors=True)
