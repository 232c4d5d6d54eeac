"""What the ``cssblog comments`` commands do: add, find, change status, moderate, de-duplicate."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from cssblog.comments.dedupe import DuplicateGroup, find_duplicates, is_duplicate
from cssblog.comments.model import Comment, Status, new_comment_id
from cssblog.comments.moderation import Decision, moderate
from cssblog.comments.queue import intake_lock
from cssblog.comments.sanitize import CommentRenderer
from cssblog.comments.store import comments_dir, create_comment, load_comments, set_status
from cssblog.comments.validate import check_fields, check_parent, check_post
from cssblog.config import SiteConfig
from cssblog.errors import ContentErrors, CssblogError
from cssblog.gather import load_sources


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
    """Every stored comment, the intake's queue folder included when it is elsewhere; raise
    :class:`ContentErrors` if any file is broken."""
    comments: list[Comment] = []
    errors: list[CssblogError] = []
    for folder in comment_folders(config):
        loaded = load_comments(config.root, config.tz, base=folder)
        comments += loaded.comments
        errors += loaded.errors
    if errors:
        raise ContentErrors(errors)
    return tuple(comments)


def comment_folders(config: SiteConfig) -> tuple[Path, ...]:
    """``content/comments``, and ``[intake] queue_dir`` when that is another folder."""
    main = comments_dir(config.root)
    queue = config.root / config.intake.queue_dir
    return (main,) if queue.resolve() == main.resolve() else (main, queue)


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
    with intake_lock(config.root):
        sources = load_sources(config)  # posts and comments, read once
        posts = {p.slug: p for p in sources.posts}
        siblings = {c.id: c for c in sources.comments if c.post_slug == new.post_slug}
        problems = [
            *check_fields(new.author, new.email, new.url, new.body),
            check_post(posts.get(new.post_slug), new.post_slug, config.comments, now, drafts=True),
            check_parent(new.parent, siblings),
        ]
        errors = [CssblogError(p.text) for p in problems if p is not None]
        if errors:
            raise ContentErrors(errors)
        draft = draft_comment(new, now)
        existing = find_duplicate(draft, siblings.values(), config.comments.duplicate_threshold)
        if existing is not None:
            raise DuplicateCommentError(existing)
        decision = decide(config, draft, sources.comments, CommentRenderer())
        stored = create_comment(
            config.root, replace(draft, status=decision.status, moderation_note=decision.note)
        )
    return Added(stored, decision)


def draft_comment(new: NewComment, now: datetime) -> Comment:
    """``new`` as a pending comment with a fresh id, not yet stored."""
    return Comment(
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


def find_duplicate(draft: Comment, comments: Iterable[Comment], threshold: float) -> Comment | None:
    """The stored comment ``draft`` repeats, if any (spam is not a reason to refuse)."""
    return next(
        (c for c in comments if c.status != "spam" and is_duplicate(c, draft, threshold)), None
    )


def decide(
    config: SiteConfig, draft: Comment, history: Iterable[Comment], renderer: CommentRenderer
) -> Decision:
    """The ``[comments]`` rules' decision on ``draft``, given every stored comment."""
    return moderate(
        draft,
        config=config.comments,
        author_emails=config.author_emails(),
        history=history,
        renderer=renderer,
    )


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
