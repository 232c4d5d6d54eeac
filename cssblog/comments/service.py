"""What the ``cssblog comments`` commands do: add, find, change status, moderate, de-duplicate."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from cssblog.comments.dedupe import DuplicateGroup, find_duplicates, is_duplicate
from cssblog.comments.model import Comment, Status, clean_name, new_comment_id
from cssblog.comments.moderation import Decision, moderate
from cssblog.comments.sanitize import CommentRenderer, safe_url
from cssblog.comments.store import MAX_COMMENT_BYTES, create_comment, load_comments, set_status
from cssblog.config import SiteConfig
from cssblog.errors import ContentErrors, CssblogError
from cssblog.gather import Sources, load_sources

MAX_NAME = 245
MAX_EMAIL = 100


class DuplicateCommentError(CssblogError):
    """The comment being added is a copy of one already stored."""

    def __init__(self, existing: Comment) -> None:
        super().__init__(
            f"this comment duplicates {existing.key} by {existing.author} "
            f"({existing.status}); nothing was written",
            path=existing.path,
        )
        self.existing = existing


@dataclass(frozen=True, slots=True)
class NewComment:
    """A comment as a reader or the author submits it."""

    post_slug: str
    author: str
    email: str
    body: str
    url: str = ""
    parent: str | None = None


@dataclass(frozen=True, slots=True)
class Added:
    """A stored new comment and the decision that gave it its status."""

    comment: Comment
    decision: Decision


def all_comments(config: SiteConfig) -> tuple[Comment, ...]:
    """Every stored comment; raise :class:`ContentErrors` if any file is broken."""
    loaded = load_comments(config.root, config.tz)
    if loaded.errors:
        raise ContentErrors(loaded.errors)
    return loaded.comments


def find_comments(comments: Sequence[Comment], refs: Sequence[str]) -> list[Comment]:
    """Comments named ``<post-slug>/<id>``, or by id alone where it is unique."""
    found, problems = [], []
    for ref in refs:
        matches = [c for c in comments if ref in (c.key, c.id)]
        if len(matches) == 1:
            found.append(matches[0])
        elif not matches:
            problems.append(CssblogError(f"no comment {ref!r}", hint="see `cssblog comments list`"))
        else:
            problems.append(
                CssblogError(
                    f"{ref!r} names {len(matches)} comments", hint="use <post-slug>/<comment-id>"
                )
            )
    if problems:
        raise ContentErrors(problems)
    return found


def change_status(
    config: SiteConfig, refs: Sequence[str], status: Status, *, note: str, now: datetime
) -> list[Comment]:
    """Set ``status`` on the named comments, recording when and why."""
    targets = find_comments(all_comments(config), refs)
    return [set_status(c, status, note, now) for c in targets]


def add_comment(config: SiteConfig, new: NewComment, *, now: datetime) -> Added:
    """Check, moderate and store a new comment; refuse duplicates and closed posts."""
    sources = load_sources(config)  # posts and comments, read once
    _validate(config, new, sources)
    comments = sources.comments
    draft = Comment(
        post_slug=new.post_slug,
        id=new_comment_id(now),
        author=new.author.strip(),
        email=new.email.strip(),
        url=new.url.strip(),
        date=now,
        parent=new.parent,
        status="pending",
        moderation_note="",
        duplicate_of=None,
        body=new.body.strip("\n"),
        path=Path(),
    )
    for existing in comments:
        if existing.status != "spam" and is_duplicate(
            existing, draft, config.comments.duplicate_threshold
        ):
            raise DuplicateCommentError(existing)
    decision = moderate(
        draft,
        config=config.comments,
        author_emails=config.author_emails(),
        history=comments,
        renderer=CommentRenderer(),
    )
    stored = create_comment(
        config.root, replace(draft, status=decision.status, moderation_note=decision.note)
    )
    return Added(stored, decision)


def _validate(config: SiteConfig, new: NewComment, sources: Sources) -> None:
    errors = []
    posts = {p.slug: p for p in sources.posts}
    post = posts.get(new.post_slug)
    if post is None:
        errors.append(CssblogError(f"no post with slug {new.post_slug!r}"))
    elif post.comments != "open" or not config.comments.enabled:
        errors.append(
            CssblogError(
                f"comments are {post.comments} on {new.post_slug!r}"
                if config.comments.enabled
                else "comments are disabled"
            )
        )
    if not new.body.strip():
        errors.append(CssblogError("the comment is empty"))
    if len(new.body.encode("utf-8")) > MAX_COMMENT_BYTES - 1024:
        errors.append(
            CssblogError(
                f"the comment is longer than {MAX_COMMENT_BYTES // 1024 - 1} KiB",
                hint="comments are refused, never shortened",
            )
        )
    if len(new.author) > MAX_NAME or clean_name(new.author) != " ".join(new.author.split()):
        errors.append(CssblogError("the name is too long or has control characters"))
    if (
        len(new.email) > MAX_EMAIL
        or (new.email and "@" not in new.email)
        or any(c in new.email for c in "\r\n<> ")
    ):
        errors.append(CssblogError(f"not an email address: {new.email!r}"))
    if new.url and safe_url(new.url) is None:
        errors.append(CssblogError(f"not an http(s) address: {new.url!r}"))
    if new.parent is not None:
        siblings = {c.id: c for c in sources.comments if c.post_slug == new.post_slug}
        if siblings.get(new.parent) is None or siblings[new.parent].status != "approved":
            errors.append(
                CssblogError(f"no approved comment {new.parent!r} on this post to reply to")
            )
    if errors:
        raise ContentErrors(errors)


def moderate_pending(config: SiteConfig, *, now: datetime) -> list[tuple[Comment, Decision]]:
    """Apply the rules to every pending comment; return the ones whose status changed."""
    comments = all_comments(config)
    renderer = CommentRenderer()
    emails = config.author_emails()
    changed = []
    for comment in comments:
        if comment.status != "pending":
            continue
        history = [c for c in comments if c.id != comment.id]
        decision = moderate(
            comment,
            config=config.comments,
            author_emails=emails,
            history=history,
            renderer=renderer,
        )
        if decision.status != "pending":
            changed.append((set_status(comment, decision.status, decision.note, now), decision))
        elif decision.note != comment.moderation_note:
            set_status(comment, "pending", decision.note, now)
    return changed


def duplicate_groups(config: SiteConfig) -> tuple[DuplicateGroup, ...]:
    """Groups of duplicate comments across the site."""
    return find_duplicates(all_comments(config), config.comments.duplicate_threshold)


def mark_duplicates(
    config: SiteConfig, groups: Sequence[DuplicateGroup], *, now: datetime
) -> list[Comment]:
    """Mark each group's later copies ``duplicate`` (files are never deleted)."""
    return [
        set_status(
            copy, "duplicate", f"duplicate of {group.keep.id}", now, duplicate_of=group.keep.id
        )
        for group in groups
        for copy in group.copies
    ]
