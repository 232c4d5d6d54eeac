"""Run the stages in order: config → sources → Markdown → model → comments → render → write."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from cssblog import urls
from cssblog.assets import collect_static, render_sitemap
from cssblog.cache import (
    CacheData,
    cache_file,
    cache_key,
    carry_over,
    load_cache,
    save_cache,
    unchanged,
)
from cssblog.comments.inbox import build_inbox
from cssblog.comments.model import Comment
from cssblog.comments.publish import PublishedComments, author_emails, publish_comments
from cssblog.comments.sanitize import CommentRenderer
from cssblog.config import SiteConfig, load_config
from cssblog.content import Page, Post
from cssblog.convert import Body, convert_bodies, worker_count
from cssblog.errors import BuildLockedError, ContentErrors, CssblogError
from cssblog.feeds import render_comments_feed, render_feeds
from cssblog.fingerprint import Fingerprints
from cssblog.gather import Sources, load_sources
from cssblog.incremental import OutputMemo
from cssblog.markup import MarkdownRenderer, RenderedMarkdown
from cssblog.render import OutputFile, render_pages
from cssblog.site import Article, PageDoc, Site, build_model, is_published
from cssblog.sources import SourceFile, read_sources
from cssblog.state import (
    BuildState,
    forget_state,
    inputs_digest,
    load_state,
    next_change,
    save_state,
    state_file,
)
from cssblog.theme import Theme, find_theme, make_environment
from cssblog.writer import JOURNAL, MARKER, check_output_dir, write_outputs

CACHE_DIR = ".cssblog-cache"
Progress = Callable[[int, int], None]

__all__ = ["BuildReport", "RenderedSite", "Sources", "build_lock", "build_site", "load_sources",
           "render_site"]  # fmt: skip


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build did."""

    output: Path
    posts: int
    pages: int
    written: int
    unchanged: int
    removed: int
    warnings: tuple[CssblogError, ...]
    seconds: float
    pending_comments: int = 0
    unanswered_comments: int = 0
    rendered: int = 0
    """HTML pages rendered (the rest were unchanged since the last build)."""


@dataclass(frozen=True, slots=True)
class RenderedSite:
    """The whole site rendered in memory, ready to write."""

    site: Site
    files: tuple[OutputFile, ...]
    warnings: tuple[CssblogError, ...]
    comments: tuple[Comment, ...]
    next_change: datetime | None = None


def build_site(
    root: Path,
    *,
    now: datetime,
    output: Path | None = None,
    drafts: bool = False,
    progress: Progress | None = None,
    workers: int | None = None,
) -> BuildReport:
    """Build the site at ``root`` into ``output`` (default ``root/output``).

    Raises :class:`ContentErrors` listing every problem; ``output`` is then left untouched.
    """
    started = time.perf_counter()
    config = load_config(root)
    target = check_output_dir(output or root / "output", root)
    with build_lock(root):
        read = read_sources(root / "content")
        key = cache_key(config, drafts)
        inputs = inputs_digest(key, read[0], find_theme(root, config.site.theme))
        state_path = state_file(root / CACHE_DIR, target)
        state = load_state(state_path)
        if state is not None and _output_whole(target) and state.still_current(inputs, now):
            return _nothing_to_do(state, target, started)
        forget_state(state_path)
        store = cache_file(root / CACHE_DIR, target)
        previous = load_cache(store, key)
        cache = carry_over(previous)
        result = render_site(
            config, now=now, drafts=drafts, progress=progress, cache=cache, output=target,
            workers=worker_count() if workers is None else workers, read=read,
        )  # fmt: skip
        report = write_outputs(target, result.files)
        if not unchanged(cache, previous):
            save_cache(store, cache)
        built = BuildReport(
            output=target,
            posts=len(result.site.posts),
            pages=sum(1 for f in result.files if f.path.suffix == ".html"),
            written=len(report.written),
            unchanged=report.unchanged,
            removed=len(report.removed),
            warnings=result.warnings,
            seconds=time.perf_counter() - started,
            rendered=sum(
                1 for f in result.files if f.data is not None and f.path.suffix == ".html"
            ),
            **_inbox_counts(config, result.comments, now),
        )
        save_state(state_path, BuildState(
            inputs=inputs, next_change=result.next_change, posts=built.posts, pages=built.pages,
            files=len(result.files), warnings=built.warnings,
            pending_comments=built.pending_comments, unanswered_comments=built.unanswered_comments,
        ))  # fmt: skip
    return built


def _output_whole(output: Path) -> bool:
    """The output folder is there, made by cssblog, with no unfinished journal."""
    return (output / MARKER).is_file() and not (output / JOURNAL).exists()


def _nothing_to_do(state: BuildState, output: Path, started: float) -> BuildReport:
    return BuildReport(
        output=output, posts=state.posts, pages=state.pages, written=0, unchanged=state.files,
        removed=0, warnings=state.warnings, seconds=time.perf_counter() - started,
        pending_comments=state.pending_comments, unanswered_comments=state.unanswered_comments,
    )  # fmt: skip


def render_site(
    config: SiteConfig,
    *,
    now: datetime,
    drafts: bool,
    progress: Progress | None = None,
    cache: CacheData | None = None,
    output: Path | None = None,
    workers: int = 1,
    read: tuple[tuple[SourceFile, ...], tuple[CssblogError, ...]] | None = None,
) -> RenderedSite:
    """Every output file of the site, and the warnings; raise on any error.

    With a ``cache`` and the ``output`` folder of the last build, only what changed is
    converted and rendered again; the rest comes back as files to keep.
    """
    sources = load_sources(config, cache.sources if cache else None, read)
    visible = [p for p in sources.posts if drafts or is_published(p, now)]
    pages = [p for p in sources.pages if drafts or not p.draft]
    links = _link_map(config, visible, pages)
    items: list[Post | Page] = [*visible, *pages]
    bodies = [_body(config.root, item) for item in items]
    rendered = convert_bodies(
        bodies, links, cache=cache.markdown if cache else None, workers=workers, progress=progress
    )
    warnings = [*_link_warnings(items, rendered), *sources.warnings]
    renderer = MarkdownRenderer()
    site = build_model(
        config, visible, pages, rendered, now=now, drafts=drafts,
        markdown_inline=renderer.render_inline, memo=cache.sources if cache else None,
    )  # fmt: skip
    policy_html = renderer.render_inline(config.comments.policy)
    published = publish_comments(
        sources.comments, site.posts, config, now=now, policy_html=policy_html,
        renderer=CommentRenderer(cache.comment_html if cache else None),
    )  # fmt: skip
    warnings.extend(published.warnings)
    theme = find_theme(config.root, config.site.theme)
    memo = _memo(site, theme, cache, output)
    files = _outputs(config, site, sources, published, policy_html, theme, memo)
    if cache is not None and memo is not None:
        cache.pages = memo.current
    return RenderedSite(
        site=site,
        files=files,
        warnings=tuple(warnings),
        comments=sources.comments,
        next_change=next_change(
            sources.posts, now, drafts=drafts, close_after_days=config.comments.close_after_days
        ),
    )


def _memo(
    site: Site, theme: Theme, cache: CacheData | None, output: Path | None
) -> OutputMemo | None:
    if cache is None or output is None:
        return None
    salt = Fingerprints().of(tuple(
        (str(p), p.read_bytes()) for d in theme.template_dirs for p in sorted(d.rglob("*"))
        if p.is_file()
    ))  # fmt: skip

    def exists(path: PurePosixPath) -> bool:
        return (output / path).is_file()

    return OutputMemo(site, cache.pages, exists, salt, shared=(Article, PageDoc))


def _inbox_counts(config: SiteConfig, comments: Sequence[Comment], now: datetime) -> dict[str, int]:
    items = build_inbox(comments, author_emails(config), now=now, settings=config.comments)
    return {
        "pending_comments": sum(1 for i in items if i.kind == "pending"),
        "unanswered_comments": sum(1 for i in items if i.kind == "unanswered"),
    }


def _relative(root: Path, item: Post | Page) -> PurePosixPath:
    return PurePosixPath(_relative_name(item))


def _relative_name(item: Post | Page) -> str:
    """``posts/x.md`` for ``content/posts/x.md`` (sources are named relative to the site)."""
    return item.source.as_posix().removeprefix("content/")


def _body(root: Path, item: Post | Page) -> Body:
    return Body(item.source, _relative(root, item), item.body, item.body_line)


def _link_map(config: SiteConfig, posts: Sequence[Post], pages: Sequence[Page]) -> dict[str, str]:
    """Source paths relative to ``content/`` (``posts/x.md``) → the URLs they publish at."""
    links = {}
    for post in posts:
        url = urls.post_route(config.site.permalink, post.date, post.slug).url
        links[_relative_name(post)] = url
    for page in pages:
        links[_relative_name(page)] = f"/{page.slug}/"
    return links


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
) -> tuple[OutputFile, ...]:
    env = make_environment(theme)
    pages, template_errors = render_pages(
        site, env, comments.sections, policy_html if config.comments.policy else "", memo
    )
    if template_errors:
        raise ContentErrors(template_errors)
    page_urls = [
        "/" + str(f.path.parent) + "/" if f.path.name == "index.html" else "/" + str(f.path)
        for f in pages
    ]
    page_urls = [u.replace("/./", "/") for u in page_urls]
    return (
        *pages,
        *render_feeds(site, memo),
        render_comments_feed(site, comments.recent, memo),
        *render_sitemap(site, page_urls),
        *collect_static(theme, sources.files),
    )


@contextmanager
def build_lock(root: Path) -> Iterator[None]:
    """Hold the site's build lock; fail at once if another build holds it."""
    cache = root / CACHE_DIR
    cache.mkdir(exist_ok=True)
    with (cache / "build.lock").open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise BuildLockedError(
                f"another build is running (pid {holder})", hint="wait for it to finish"
            ) from None
        handle.truncate(0)
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
