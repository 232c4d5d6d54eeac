"""Run the stages in order: config → sources → content → Markdown → model → render → write."""

from __future__ import annotations

import fcntl
import os
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from cssblog import urls
from cssblog.assets import collect_static, render_sitemap
from cssblog.comments.inbox import build_inbox
from cssblog.comments.model import Comment
from cssblog.comments.publish import PublishedComments, author_emails, publish_comments
from cssblog.comments.sanitize import CommentRenderer
from cssblog.comments.store import load_comments
from cssblog.config import SiteConfig, load_config
from cssblog.content import Page, Post, read_page, read_post
from cssblog.errors import BuildLockedError, ContentErrors, CssblogError
from cssblog.feeds import render_comments_feed, render_feeds
from cssblog.frontmatter import decode_source, parse_document
from cssblog.markup import MarkdownRenderer, RenderedMarkdown
from cssblog.render import OutputFile, render_pages
from cssblog.site import Site, build_model, is_published
from cssblog.sources import SourceFile, read_sources
from cssblog.theme import find_theme, make_environment
from cssblog.writer import check_output_dir, write_outputs

CACHE_DIR = ".cssblog-cache"
Progress = Callable[[int, int], None]
_RESERVED_SLUGS = frozenset(
    {
        "category",
        "tag",
        "author",
        "archive",
        "page",
        "comments",
        "comment-policy",
        "theme",
        "feed.xml",
        "atom.xml",
    }
)


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


@dataclass(frozen=True, slots=True)
class RenderedSite:
    """The whole site rendered in memory, ready to write."""

    site: Site
    files: tuple[OutputFile, ...]
    warnings: tuple[CssblogError, ...]
    comments: tuple[Comment, ...]


@dataclass(frozen=True, slots=True)
class Sources:
    """The site's content, checked and typed."""

    posts: tuple[Post, ...]
    pages: tuple[Page, ...]
    files: tuple[SourceFile, ...]


def build_site(
    root: Path,
    *,
    now: datetime,
    output: Path | None = None,
    drafts: bool = False,
    progress: Progress | None = None,
) -> BuildReport:
    """Build the site at ``root`` into ``output`` (default ``root/output``).

    Raises :class:`ContentErrors` listing every problem; ``output`` is then left untouched.
    """
    started = time.perf_counter()
    config = load_config(root)
    target = check_output_dir(output or root / "output", root)
    with build_lock(root):
        result = render_site(config, now=now, drafts=drafts, progress=progress)
        report = write_outputs(target, result.files)
    return BuildReport(
        output=target,
        posts=len(result.site.posts),
        pages=sum(1 for f in result.files if f.path.suffix == ".html"),
        written=len(report.written),
        unchanged=report.unchanged,
        removed=len(report.removed),
        warnings=result.warnings,
        seconds=time.perf_counter() - started,
        **_inbox_counts(config, result.comments, now),
    )


def render_site(
    config: SiteConfig, *, now: datetime, drafts: bool, progress: Progress | None = None
) -> RenderedSite:
    """Every output file of the site in memory, and the warnings; raise on any error."""
    sources = load_sources(config)
    stored = load_comments(config.root, config.tz)
    if stored.errors:
        raise ContentErrors(stored.errors)
    renderer = MarkdownRenderer()
    visible = [p for p in sources.posts if drafts or is_published(p, now)]
    pages = [p for p in sources.pages if drafts or not p.draft]
    links = _link_map(config, visible, pages)
    rendered, warnings = _render_markdown(renderer, visible, pages, links, config.root, progress)
    site = build_model(
        config,
        visible,
        pages,
        rendered,
        now=now,
        drafts=drafts,
        markdown_inline=renderer.render_inline,
    )
    policy_html = renderer.render_inline(config.comments.policy)
    published = publish_comments(
        stored.comments,
        site.posts,
        config,
        now=now,
        policy_html=policy_html,
        renderer=CommentRenderer(),
    )
    warnings.extend(stored.warnings)
    warnings.extend(published.warnings)
    return RenderedSite(
        site=site,
        files=_outputs(config, site, sources, published, policy_html),
        warnings=tuple(warnings),
        comments=stored.comments,
    )


def _inbox_counts(config: SiteConfig, comments: Sequence[Comment], now: datetime) -> dict[str, int]:
    items = build_inbox(
        comments,
        author_emails(config),
        now=now,
        settings=config.comments,
    )
    return {
        "pending_comments": sum(1 for i in items if i.kind == "pending"),
        "unanswered_comments": sum(1 for i in items if i.kind == "unanswered"),
    }


def load_sources(config: SiteConfig) -> Sources:
    """Read and check every post and page; raise :class:`ContentErrors` with all problems."""
    files, problems = read_sources(config.root / "content")
    errors = list(problems)
    posts: list[Post] = []
    pages: list[Page] = []
    for source in files:
        if source.kind not in ("post", "page"):
            continue
        display = _display(source.path, config.root)
        try:
            doc = parse_document(decode_source(source.data, display), display)
        except CssblogError as exc:
            errors.append(exc)
            continue
        if source.kind == "post":
            post, post_errors = read_post(doc, config.tz, config.site.author)
            errors.extend(post_errors)
            posts.extend([post] if post else [])
        else:
            page, page_errors = read_page(doc, config.tz)
            errors.extend(page_errors)
            pages.extend([page] if page else [])
    errors.extend(_slug_clashes(posts, pages))
    if errors:
        raise ContentErrors(errors)
    return Sources(posts=tuple(posts), pages=tuple(pages), files=files)


def _display(path: Path, root: Path) -> Path:
    try:
        return path.relative_to(root)
    except ValueError:
        return path


def _slug_clashes(posts: Sequence[Post], pages: Sequence[Page]) -> Iterator[CssblogError]:
    by_slug: dict[str, list[Path]] = defaultdict(list)
    for post in posts:
        by_slug[post.slug].append(post.source)
    for slug, paths in by_slug.items():
        if len(paths) > 1:
            yield CssblogError(
                f"slug {slug!r} is used by {len(paths)} posts: " + ", ".join(map(str, paths)),
                path=paths[-1],
                line=1,
                hint="give each post its own `slug:` in the front matter",
            )
    page_slugs: dict[str, Path] = {}
    for page in pages:
        if page.slug in _RESERVED_SLUGS or page.slug.isdigit():
            yield CssblogError(
                f"page slug {page.slug!r} is reserved for the site's own pages",
                path=page.source,
                line=1,
                hint="set another `slug:`",
            )
        elif page.slug in page_slugs:
            yield CssblogError(
                f"slug {page.slug!r} is also used by {page_slugs[page.slug]}",
                path=page.source,
                line=1,
                hint="set another `slug:`",
            )
        page_slugs[page.slug] = page.source


def _link_map(config: SiteConfig, posts: Sequence[Post], pages: Sequence[Page]) -> dict[str, str]:
    """Source paths relative to ``content/`` (``posts/x.md``) → the URLs they publish at."""
    content = config.root / "content"
    links = {}
    for post in posts:
        key = (config.root / post.source).relative_to(content).as_posix()
        links[key] = urls.post_route(config.site.permalink, post.date, post.slug).url
    for page in pages:
        links[(config.root / page.source).relative_to(content).as_posix()] = f"/{page.slug}/"
    return links


def _render_markdown(
    renderer: MarkdownRenderer,
    posts: Sequence[Post],
    pages: Sequence[Page],
    links: dict[str, str],
    root: Path,
    progress: Progress | None,
) -> tuple[dict[Path, RenderedMarkdown], list[CssblogError]]:
    rendered: dict[Path, RenderedMarkdown] = {}
    warnings: list[CssblogError] = []
    items: list[Post | Page] = [*posts, *pages]
    content = root / "content"
    for done, item in enumerate(items, start=1):
        relative = (root / item.source).relative_to(content)
        body = renderer.render(
            item.body, source=_posix(relative), body_line=item.body_line, links=links
        )
        rendered[item.source] = body
        warnings.extend(
            CssblogError(
                f"link to {p.target} does not match any published post or page",
                path=item.source,
                line=p.line,
                hint="check the file name, relative to this file",
            )
            for p in body.broken_links
        )
        if progress is not None:
            progress(done, len(items))
    return rendered, warnings


def _posix(path: Path) -> PurePosixPath:
    return PurePosixPath(path.as_posix())


def _outputs(
    config: SiteConfig, site: Site, sources: Sources, comments: PublishedComments, policy_html: str
) -> tuple[OutputFile, ...]:
    theme = find_theme(config.root, config.site.theme)
    env = make_environment(theme)
    pages, template_errors = render_pages(
        site, env, comments.sections, policy_html if config.comments.policy else ""
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
        *render_feeds(site),
        render_comments_feed(site, comments.recent),
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
