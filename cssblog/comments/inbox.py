"""The author's service desk: comments awaiting moderation, and readers awaiting an answer."""

from __future__ import annotations

from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from cssblog.comments.dedupe import find_duplicates
from cssblog.comments.model import Comment
from cssblog.config import CommentsSection

InboxKind = Literal["pending", "unanswered"]


@dataclass(frozen=True, slots=True)
class InboxItem:
    """One comment that needs the author: to moderate, or to answer."""

    kind: InboxKind
    comment: Comment
    age_hours: float
    overdue: bool


def build_inbox(
    comments: Sequence[Comment],
    author_emails: frozenset[str],
    *,
    now: datetime,
    settings: CommentsSection,
    memo: MutableMapping[Any, Any] | None = None,
) -> tuple[InboxItem, ...]:
    """Pending comments, then approved reader comments no site author has replied to yet;
    each group oldest first; the copies of a duplicate count once. ``overdue``: older than
    ``reply_within_hours``. ``memo``: see :func:`find_duplicates`."""
    groups = find_duplicates(comments, settings.duplicate_threshold, memo)
    copies = {c.key for g in groups for c in g.copies}
    answered = {  # ids are unique within a post only
        f"{c.post_slug}/{c.parent}"
        for c in comments
        if c.parent and c.status == "approved" and c.email.strip().casefold() in author_emails
    }
    items = []
    for comment in sorted(comments, key=lambda c: (c.date, c.id)):
        if comment.key in copies:
            continue
        if comment.status == "pending":
            kind: InboxKind = "pending"
        elif (
            comment.status == "approved"
            and comment.key not in answered
            and comment.email.strip().casefold() not in author_emails
        ):
            kind = "unanswered"
        else:
            continue
        age = (now - comment.date).total_seconds() / 3600
        items.append(InboxItem(kind, comment, age, age > settings.reply_within_hours))
    return tuple(sorted(items, key=lambda i: i.kind != "pending"))
