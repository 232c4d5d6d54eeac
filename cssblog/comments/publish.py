"""Turn stored comments into what a post page shows: approved only, de-duplicated, threaded."""

from __future__ import annotations

import heapq
from collections import defaultdict
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cssblog import urls
from cssblog.comments.dedupe import find_duplicates, same_objects
from cssblog.comments.model import Comment, clean_name
from cssblog.comments.sanitize import CommentRenderer, safe_url
from cssblog.comments.thread import thread_comments
from cssblog.comments.validate import comment_mode
from cssblog.config import CommentsSection, SiteConfig
from cssblog.errors import CssblogError
from cssblog.pickling import CachedValue
from cssblog.site import Article
from cssblog.workers import forked

RECENT_COMMENTS = 30
"""How many of the newest comments the recent-comments feed carries."""


@dataclass(frozen=True, slots=True)
class CommentView(CachedValue):
    """One published comment as the theme sees it (never the email)."""

    id: str
    author: str
    url: str | None
    date: datetime
    body_html: str
    by_author: bool
    replies: tuple[CommentView, ...]


@dataclass(frozen=True, slots=True)
class CommentsView:
    """The comments section of one post."""

    mode: str
    count: int
    threads: tuple[CommentView, ...] = ()
    form_action: str = ""
    post_slug: str = ""
    policy_url: str = ""
    policy_html: str = ""


@dataclass(frozen=True, slots=True)
class RecentComment:
    """A comment for the recent-comments feed."""

    post: Article
    comment: CommentView


@dataclass(frozen=True, slots=True)
class PublishedComments:
    """Every post's comments section, the newest comments, and the warnings found."""

    sections: dict[str, CommentsView]
    recent: tuple[RecentComment, ...]
    """The newest approved comments, newest first: :data:`RECENT_COMMENTS` of them at most."""
    warnings: tuple[CssblogError, ...]


def publish_comments(
    comments: Sequence[Comment],
    posts: Sequence[Article],
    config: SiteConfig,
    *,
    now: datetime,
    policy_html: str,
    renderer: CommentRenderer,
    memo: MutableMapping[Any, Any] | None = None,
    workers: int = 1,
    threads: Threads | None = None,
) -> PublishedComments:
    """The comments sections of ``posts``; only approved comments are ever in them.

    ``threads`` are what :func:`make_threads` gave for these comments and the slugs of these
    posts, when the caller made them already (made here with ``memo`` and ``workers`` else).
    """
    settings = config.comments
    by_slug = {p.slug: p for p in posts}
    warnings: list[CssblogError] = []
    stored = _by_slug(comments)
    if threads is None:
        threads = make_threads(
            comments, [p.slug for p in posts], config, renderer=renderer, memo=memo,
            workers=workers,
        )  # fmt: skip
    used = threads.by_slug
    for slug in sorted(set(stored) - set(by_slug)):
        if not any(c.status == "approved" for c in stored[slug]):
            continue
        warnings.append(
            CssblogError(
                f"comments for unknown or unpublished post {slug!r} are not shown",
                path=stored[slug][0].path.parent,
            )
        )
    policy_url = urls.COMMENT_POLICY_URL if settings.policy else ""
    sections: dict[str, CommentsView] = {}
    shown: list[tuple[Article, tuple[CommentView, ...]]] = []
    for post in posts:
        mode = comment_mode(post, settings, now)
        count, views, problems = used[post.slug][2] if post.slug in used else (0, (), ())
        warnings.extend(problems)
        if mode == "hidden":
            sections[post.url] = CommentsView(mode="hidden", count=0, post_slug=post.slug)
            continue
        form = settings.intake_url if mode == "open" else ""
        sections[post.url] = CommentsView(
            mode=mode,
            count=count,
            threads=views,
            form_action=form,
            post_slug=post.slug,
            policy_url=policy_url,
            policy_html=policy_html,
        )
        if views:
            shown.append((post, views))
    return PublishedComments(sections, _newest(shown), tuple(warnings))


@dataclass(frozen=True, slots=True)
class Threads:
    """Each post's published comments, threaded, by slug: the settings they were made with,
    the post's stored comments, and how many are shown with their views and the problems."""

    by_slug: dict[str, tuple[Any, tuple[Comment, ...], Any]]


def make_threads(
    comments: Sequence[Comment],
    slugs: Sequence[str],
    config: SiteConfig,
    *,
    renderer: CommentRenderer,
    memo: MutableMapping[Any, Any] | None = None,
    workers: int = 1,
) -> Threads:
    """The threads of the posts with these ``slugs``: needing no more of a post than its slug,
    they can be made before the posts' bodies are converted.

    ``memo`` (the build cache) holds each post's threads from the last build, reused while the
    post's comments are the very same objects (as the cache gives them back) and the settings
    that shape threads are the same. The threads of many posts are made in ``workers``
    processes (forked: a process with other threads must pass 1).
    """
    settings = config.comments
    emails = config.author_emails()
    stored = _by_slug(comments)
    shape = (settings.duplicate_threshold, settings.max_depth, emails)
    used: dict[str, Any] = {}
    todo: list[tuple[str, tuple[Comment, ...]]] = []
    for slug in dict.fromkeys(s for s in slugs if s in stored):
        own = tuple(stored[slug])
        found = memo.get(slug) if memo is not None else None
        if found is not None and found[0] == shape and same_objects(found[1], own):
            used[slug] = found
        else:
            todo.append((slug, own))
    made = forked(lambda item: _threads(item[1], settings, emails, renderer), todo, workers)
    for (slug, own), threads in zip(todo, made, strict=True):
        used[slug] = (shape, own, threads)
    if memo is not None:
        memo.clear()
        memo.update(used)
    return Threads(used)


def _by_slug(comments: Sequence[Comment]) -> dict[str, list[Comment]]:
    stored: dict[str, list[Comment]] = defaultdict(list)
    for comment in comments:
        stored[comment.post_slug].append(comment)
    return stored


def _newest(shown: Sequence[tuple[Article, Sequence[CommentView]]]) -> tuple[RecentComment, ...]:
    """The newest :data:`RECENT_COMMENTS` of the comments shown, newest first."""
    newest = heapq.nlargest(
        RECENT_COMMENTS,
        ((view.date, view.id, index, view) for index, (_, views) in enumerate(shown)
         for view in flatten_views(views)),
        key=lambda entry: entry[:2],
    )  # fmt: skip
    return tuple(RecentComment(shown[index][0], view) for _, _, index, view in newest)


def _threads(
    own: Sequence[Comment],
    settings: CommentsSection,
    emails: frozenset[str],
    renderer: CommentRenderer,
) -> tuple[int, tuple[CommentView, ...], tuple[CssblogError, ...]]:
    """One post's comments: how many are shown, their threads, and the problems found."""
    approved = [c for c in own if c.status == "approved"]
    shown, warnings = _without_duplicates(approved, settings.duplicate_threshold)
    threaded = thread_comments(shown, {c.id for c in own}, settings.max_depth)
    warnings.extend(CssblogError(p.message, path=p.comment.path) for p in threaded.problems)
    return len(shown), _views(threaded.children(), emails, renderer), tuple(warnings)


def _without_duplicates(
    approved: list[Comment], threshold: float
) -> tuple[list[Comment], list[CssblogError]]:
    groups = find_duplicates(approved, threshold)
    dropped = {c.id for g in groups for c in g.copies}
    warnings = [
        CssblogError(f"duplicate of {g.keep.id}; shown once", path=c.path)
        for g in groups
        for c in g.copies
    ]
    return [c for c in approved if c.id not in dropped], warnings


def _views(
    children: dict[str | None, list[Comment]], emails: frozenset[str], renderer: CommentRenderer
) -> tuple[CommentView, ...]:
    """Nested views, built bottom-up without recursion limits (depth is capped anyway)."""
    built: dict[str, CommentView] = {}
    order: list[Comment] = []
    stack = list(reversed(children.get(None, [])))
    while stack:
        comment = stack.pop()
        order.append(comment)
        stack.extend(reversed(children.get(comment.id, [])))
    for comment in reversed(order):
        replies = tuple(built[c.id] for c in children.get(comment.id, []))
        built[comment.id] = CommentView(
            id=comment.id,
            author=clean_name(comment.author) or "A reader",
            url=safe_url(comment.url),
            date=comment.date,
            body_html=renderer.render(comment.body),
            by_author=comment.email.strip().casefold() in emails,
            replies=replies,
        )
    return tuple(built[c.id] for c in children.get(None, []))


def flatten_views(views: Sequence[CommentView]) -> list[CommentView]:
    """Every view of ``views`` and of their replies, at any depth."""
    out: list[CommentView] = []
    stack = list(views)
    while stack:
        view = stack.pop()
        out.append(view)
        stack.extend(view.replies)
    return out
