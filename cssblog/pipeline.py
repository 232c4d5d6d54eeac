"""The stages of a build, in order: sources → Markdown → model → comments → render.

Comment threads need only the posts' slugs: a build that shares its bodies out between forked
copies makes them while the copies convert Markdown. A command-line build's pages go to its
staging folder as they are rendered, from whichever process rendered them.

Loaded only when a build has work to do: a rebuild with nothing changed never imports the
Markdown, template and feed libraries (see :mod:`cssblog.state`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from cssblog import urls
from cssblog.assets import collect_static, render_sitemap
from cssblog.cache import CacheData
from cssblog.comments.inbox import build_inbox
from cssblog.comments.model import Comment
from cssblog.comments.publish import (
    CommentView,
    PublishedComments,
    Threads,
    flatten_views,
    make_threads,
    publish_comments,
)
from cssblog.comments.sanitize import CommentRenderer
from cssblog.config import SiteConfig
from cssblog.content import Page, Post
from cssblog.convert import Body, convert_bodies, source_name
from cssblog.errors import ContentErrors, CssblogError
from cssblog.fast_render import LastBuild
from cssblog.feeds import render_comments_feed, render_feeds
from cssblog.fingerprint import Fingerprints
from cssblog.gather import Sources, load_sources
from cssblog.incremental import OutputMemo
from cssblog.markup import MarkdownRenderer, RenderedMarkdown
from cssblog.output import OutputFile
from cssblog.render import WATCHED, render_pages
from cssblog.site import (
    Article,
    PageDoc,
    RelatedPlan,
    Site,
    build_model,
    is_published,
    plan_related,
)
from cssblog.sources import SourceFile
from cssblog.state import next_change
from cssblog.theme import Theme, find_theme, make_environment
from cssblog.workers import worker_count
from cssblog.writer import Staging

Progress = Callable[[int, int], None]
_SHARED = (Article, PageDoc, CommentView)
"""Values digested once and kept by digest in the values that hold them."""


@dataclass(slots=True)
class Warm:
    """What a long-running process (the preview server) keeps in memory between builds."""

    environment: tuple[bytes, Any] | None = None
    """The Jinja environment with its compiled templates, and the digest of the theme's
    templates it was made for."""
    markdown: MarkdownRenderer | None = None
    """A Markdown converter (made once: its extensions take milliseconds to set up)."""
    last: LastBuild | None = None
    """The last good build's model, for :func:`~cssblog.fast_render.render_edited`."""

    def renderer(self) -> MarkdownRenderer:
        """The process's Markdown converter."""
        if self.markdown is None:
            self.markdown = MarkdownRenderer()
        return self.markdown

    def jinja(self, theme: Theme, salt: bytes, compiled: Path | None) -> Any:
        """An environment for ``theme``, reused while its templates are unchanged."""
        if self.environment is None or self.environment[0] != salt:
            self.environment = (salt, make_environment(theme, compiled))
        return self.environment[1]


@dataclass(frozen=True, slots=True)
class RenderedSite:
    """The whole site rendered in memory, ready to write."""

    site: Site
    files: tuple[OutputFile, ...]
    warnings: tuple[CssblogError, ...]
    comments: tuple[Comment, ...]
    rendered: int
    """How many HTML pages went through the templates (the rest were unchanged)."""
    next_change: datetime | None = None


def render_site(
    config: SiteConfig,
    *,
    now: datetime,
    drafts: bool,
    progress: Progress | None = None,
    cache: CacheData | None = None,
    output: Path | None = None,
    workers: int | None = 1,
    read: tuple[tuple[SourceFile, ...], tuple[CssblogError, ...]] | None = None,
    warm: Warm | None = None,
    compiled: Path | None = None,
    staging: Staging | None = None,
    while_rendering: Callable[[tuple[Comment, ...]], None] | None = None,
) -> RenderedSite:
    """Every output file of the site, and the warnings; raise on any error.

    With a ``cache`` and the ``output`` folder of the last build, only what changed is
    converted and rendered again; the rest comes back as files to keep. With ``staging``, the
    HTML pages are put in it as they are rendered (see :func:`~cssblog.writer.write_outputs`).
    ``while_rendering(comments)`` is called with every comment of the site while forked copies
    render pages (see :func:`~cssblog.workers.forked` on what it should do).
    """
    workers = worker_count() if workers is None else workers
    sources = load_sources(
        config,
        cache.sources if cache else None,
        read,
        comment_cache=cache.comment_sources if cache else None,
        workers=workers,
        fork=warm is None,  # a long-running process has other threads: it is never forked
    )
    del read  # only the parsed sources are needed from here on: let the bytes go
    visible = [p for p in sources.posts if drafts or is_published(p, now)]
    pages = [p for p in sources.pages if drafts or not p.draft]
    items: list[Post | Page] = [*visible, *pages]
    renderer = warm.renderer() if warm is not None else MarkdownRenderer()
    prepared = _prepare(config, items, cache.bodies if cache else None)
    links = {name: url for name, url, _, _ in prepared}
    # A long-running process has other threads (the preview server's), so it is never forked.
    forks = workers if warm is None else 1
    threads: list[Threads] = []
    related: list[RelatedPlan] = []

    def meanwhile() -> None:  # needs only the posts: while forked copies convert the bodies
        make_comment_threads()
        related.append(plan_related(config, visible))

    def make_comment_threads(workers: int = 1) -> None:  # only the posts' slugs are needed
        threads.append(make_threads(
            sources.comments, [p.slug for p in visible], config, renderer=CommentRenderer(),
            memo=cache.comment_threads if cache is not None else None, workers=workers,
        ))  # fmt: skip

    rendered = convert_bodies(
        [body for *_, body, _ in prepared],
        links,
        cache=cache.markdown if cache else None,
        workers=workers,
        progress=progress,
        keys=[key for *_, key in prepared],
        renderer=renderer,
        fork=warm is None,
        meanwhile=meanwhile,
    )
    if not threads:  # the bodies were not shared out
        make_comment_threads(forks)
    warnings = [*_link_warnings(items, rendered), *sources.warnings]
    site = build_model(
        config, visible, pages, rendered, now=now, drafts=drafts,
        markdown_inline=renderer.render_inline, memo=cache.sources if cache else None,
        article_memo=cache.articles if cache else None,
        interned=cache.interned if cache else None, related=related[0] if related else None,
    )  # fmt: skip
    policy_html = renderer.render_inline(config.comments.policy)
    published = publish_comments(
        sources.comments, site.posts, config, now=now, policy_html=policy_html,
        renderer=CommentRenderer(), threads=threads[0],
    )  # fmt: skip
    warnings.extend(published.warnings)
    theme = find_theme(config.root, config.site.theme)
    salt = _theme_digest(theme)
    fingerprints = Fingerprints(_SHARED)
    if cache is not None:
        fingerprints.seed(cache.article_digests)
        fingerprints.seed(cache.comment_digests)
    memo = _memo(site, salt, cache, output, fingerprints, WATCHED if warm is not None else None)
    if warm is not None:
        env = warm.jinja(theme, salt, compiled)
    else:
        env = make_environment(theme, compiled)
    files, rendered_pages = _outputs(
        config, site, sources, published, policy_html, theme, memo, env, forks, staging,
        while_rendering,
    )  # fmt: skip
    if cache is not None and memo is not None:
        cache.pages = memo.current
        cache.recipes = memo.last_recipes()
        cache.article_digests = fingerprints.known(site.posts)
        cache.comment_digests = fingerprints.known(_views(cache.comment_threads))
    changes = next_change(sources.posts, now, close_after_days=config.comments.close_after_days)
    if warm is not None:
        warm.last = LastBuild(
            config, site, {p.source: p for p in visible}, {a.source: a for a in site.posts},
            published.sections, links, changes,
        )  # fmt: skip
    return RenderedSite(
        site=site,
        files=files,
        warnings=tuple(warnings),
        comments=sources.comments,
        rendered=rendered_pages,
        next_change=changes,
    )


def _views(comment_threads: dict[Any, Any]) -> list[CommentView]:
    """Every comment view of the cached threads, replies included."""
    return flatten_views([v for *_, (_, threads, _) in comment_threads.values() for v in threads])


def _theme_digest(theme: Theme) -> bytes:
    """A digest of every template file of the theme, with its path."""
    return Fingerprints().of(tuple(
        (str(p), p.read_bytes()) for d in theme.template_dirs for p in sorted(d.rglob("*"))
        if p.is_file()
    ))  # fmt: skip


def _memo(
    site: Site,
    salt: bytes,
    cache: CacheData | None,
    output: Path | None,
    fingerprints: Fingerprints,
    watch: tuple[type, frozenset[type]] | None,
) -> OutputMemo | None:
    if cache is None or output is None:
        return None

    folder = str(output)

    def exists(path: PurePosixPath) -> bool:
        return os.path.isfile(os.path.join(folder, path))  # noqa: PTH113, PTH118 (hot path)

    return OutputMemo(
        site, cache.pages, exists, salt, shared=_SHARED, fingerprints=fingerprints,
        last=cache.recipes, watch=watch,
    )  # fmt: skip


def inbox_counts(
    config: SiteConfig,
    comments: Sequence[Comment],
    now: datetime,
    memo: MutableMapping[Any, Any] | None = None,
) -> dict[str, int]:
    items = build_inbox(
        comments, config.author_emails(), now=now, settings=config.comments, memo=memo
    )
    return {
        "pending_comments": sum(1 for i in items if i.kind == "pending"),
        "unanswered_comments": sum(1 for i in items if i.kind == "unanswered"),
    }


def _prepare(
    config: SiteConfig, items: Sequence[Post | Page], memo: dict[Path, Any] | None
) -> list[tuple[str, str, Body, tuple[Any, ...]]]:
    """For each post and page: its source named relative to ``content/`` (``posts/x.md``), the
    URL it publishes at, its body to convert and the body's key.

    ``memo`` (kept in memory by a long-running process) holds them from the last build, reused
    for the very same post or page objects.
    """
    made = []
    used = {}
    for item in items:
        found = memo.get(item.source) if memo is not None else None
        if found is None or found[0] is not item:
            name = source_name(item.source)
            if isinstance(item, Post):
                url = urls.post_route(config.site.permalink, item.date, item.slug).url
            else:
                url = f"/{item.slug}/"
            body = Body(item.source, PurePosixPath(name), item.body, item.body_line)
            found = (item, name, url, body, body.key)
        used[item.source] = found
        made.append(found[1:])
    if memo is not None:
        memo.clear()
        memo.update(used)
    return made


def _link_warnings(
    items: Sequence[Post | Page], rendered: dict[Path, RenderedMarkdown]
) -> Iterator[CssblogError]:
    for item in items:
        for problem in rendered[item.source].broken_links:
            yield CssblogError(
                f"link to {problem.target} does not match any published post or page",
                path=item.source,
                line=problem.line,
                hint="check the file name, relative to this file",
            )


def _outputs(
    config: SiteConfig,
    site: Site,
    sources: Sources,
    comments: PublishedComments,
    policy_html: str,
    theme: Theme,
    memo: OutputMemo | None,
    env: Any,
    workers: int,
    staging: Staging | None,
    while_rendering: Callable[[tuple[Comment, ...]], None] | None,
) -> tuple[tuple[OutputFile, ...], int]:
    feeds: list[OutputFile] = []

    def make_feeds() -> None:  # while forked copies render pages: the feeds need no page
        feeds.extend(render_feeds(site, memo))
        feeds.append(render_comments_feed(site, comments.recent, memo))
        if while_rendering is not None:
            while_rendering(sources.comments)

    pages = render_pages(
        site, env, comments.sections, policy_html if config.comments.policy else "", memo,
        workers=workers, meanwhile=make_feeds, stage=staging.put if staging is not None else None,
    )  # fmt: skip
    if pages.errors:
        raise ContentErrors(pages.errors)
    files = (
        *pages.files,
        *feeds,
        *render_sitemap(site, pages.urls),
        *collect_static(theme, sources.files),
    )
    return files, pages.rendered
