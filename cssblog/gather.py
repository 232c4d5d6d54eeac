"""Read and check every source of a site: posts, pages and comments, reusing cached parses."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cssblog.comments.model import Comment
from cssblog.comments.store import (
    collect_comments,
    comment_key,
    is_comment_source,
    parse_comment_source,
)
from cssblog.config import SiteConfig
from cssblog.content import Page, Post, read_page, read_post
from cssblog.errors import ContentErrors, CssblogError
from cssblog.frontmatter import decode_source, parse_document
from cssblog.sources import SourceFile, read_sources
from cssblog.workers import forked, in_chunks, worth_it

RESERVED_SLUGS = frozenset(
    {"category", "tag", "author", "archive", "page", "comments", "comment-policy", "theme"}
)


@dataclass(frozen=True, slots=True)
class Sources:
    """The site's content, checked and typed."""

    posts: tuple[Post, ...]
    pages: tuple[Page, ...]
    files: tuple[SourceFile, ...]
    comments: tuple[Comment, ...]
    warnings: tuple[CssblogError, ...]


def load_sources(
    config: SiteConfig,
    cache: MutableMapping[tuple[Any, ...], Any] | None = None,
    read: tuple[tuple[SourceFile, ...], tuple[CssblogError, ...]] | None = None,
    comment_cache: MutableMapping[tuple[Any, ...], Any] | None = None,
    workers: int = 1,
    fork: bool = False,
) -> Sources:
    """Read and check every source; raise :class:`ContentErrors` with all problems at once.

    ``read`` is what :func:`read_sources` gave, when the caller has read the files already.
    ``cache`` keeps parsed posts and pages, ``comment_cache`` parsed comments (``cache`` too
    when not given). Files not in the cache are parsed in ``workers`` processes when there are
    enough of them: forked copies of this one with ``fork`` (a process with no other threads:
    they need not be sent the files), else a pool.
    """
    files, problems = read if read is not None else read_sources(config.root / "content")
    if comment_cache is None:
        comment_cache = cache
    cached, todo = _look_up(config, files, cache, comment_cache)
    parsed = _parse(config, todo, workers, fork)
    fresh = dict(zip((s.location for s, _ in todo), parsed, strict=True))
    for source, key in todo:
        result = fresh[source.location]
        if source.kind == "comment":
            if comment_cache is not None and not isinstance(result, CssblogError):
                comment_cache[key] = result
        elif cache is not None and result[0] is not None:
            cache[key] = result[0]
    errors = list(problems)
    posts: list[Post] = []
    pages: list[Page] = []
    parsed_comments = []
    for source in files:
        if source.kind not in ("post", "page", "comment"):
            continue
        item = cached.get(source.location)
        if source.kind == "comment":
            if item is not None or source.location in fresh:
                parsed_comments.append(item or fresh[source.location])
            continue
        if item is None:
            item, item_errors = fresh[source.location]
            errors.extend(item_errors)
        if isinstance(item, Post):
            posts.append(item)
        elif isinstance(item, Page):
            pages.append(item)
    comments = collect_comments(parsed_comments)
    errors.extend(comments.errors)
    errors.extend(_slug_clashes(posts, pages))
    if errors:
        raise ContentErrors(errors)
    return Sources(
        posts=tuple(posts),
        pages=tuple(pages),
        files=files,
        comments=comments.comments,
        warnings=comments.warnings,
    )


def _look_up(
    config: SiteConfig,
    files: Sequence[SourceFile],
    cache: MutableMapping[tuple[Any, ...], Any] | None,
    comment_cache: MutableMapping[tuple[Any, ...], Any] | None,
) -> tuple[dict[str, Any], list[tuple[SourceFile, tuple[str, ...]]]]:
    """The cached parses of ``files`` by location, and the files to parse with their keys."""
    zone, author = str(config.tz), config.site.author
    cached: dict[str, Any] = {}
    todo: list[tuple[SourceFile, tuple[str, ...]]] = []
    for source in files:
        kind = source.kind
        key: tuple[str, ...]
        if kind == "post" or kind == "page":
            memo, key = cache, (kind, source.location, source.digest, zone, author)
        elif is_comment_source(source):
            memo, key = comment_cache, comment_key(source, zone)
        else:
            continue
        hit = memo.get(key) if memo is not None else None
        if hit is None:
            todo.append((source, key))
        else:
            cached[source.location] = hit
    return cached, todo


def _parse(
    config: SiteConfig,
    todo: Sequence[tuple[SourceFile, tuple[str, ...]]],
    workers: int,
    fork: bool,
) -> list[Any]:
    """What :func:`_parse_chunk` gives for each file, in worker processes when worth it."""
    sources = [source for source, _ in todo]
    if fork:
        return forked(lambda source: _parse_one(source, config), sources, workers)
    if not worth_it(sources, workers):
        return _parse_chunk(sources, config)
    results: list[Any] = []
    for chunk in in_chunks(_parse_chunk, sources, config, workers=workers):
        results.extend(chunk)
    return results


def _parse_chunk(chunk: Sequence[SourceFile], config: SiteConfig) -> list[Any]:
    """What :func:`_parse_one` gives for each file."""
    return [_parse_one(source, config) for source in chunk]


def _parse_one(source: SourceFile, config: SiteConfig) -> Any:
    """What :func:`read_source` or :func:`parse_comment_source` gives for the file."""
    if source.kind == "comment":
        return parse_comment_source(source, config.root, config.tz)
    return read_source(config, source)


def read_source(
    config: SiteConfig, source: SourceFile
) -> tuple[Post | Page | None, list[CssblogError]]:
    """The post or page in ``source``, or None, with the problems found."""
    display = source.below(config.root)
    try:
        doc = parse_document(decode_source(source.data, display), display)
    except CssblogError as exc:
        return None, [exc]
    if source.kind == "post":
        return read_post(doc, config.tz, config.site.author)
    return read_page(doc, config.tz)


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
        if page.slug in RESERVED_SLUGS or page.slug.isdigit():
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
