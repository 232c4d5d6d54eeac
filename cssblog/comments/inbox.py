"""The author's service desk: comments awaiting moderation, and readers awaiting an answer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from cssblog.comments.model import Comment

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
    reply_within_hours: int,
) -> tuple[InboxItem, ...]:
    """Pending comments, then approved reader comments no site author has replied to yet;
    each group oldest first. ``overdue``: older than the reply service level."""
    answered = {
        c.parent
        for c in comments
        if c.parent and c.status == "approved" and c.email.strip().casefold() in author_emails
    }
    items = []
    for comment in sorted(comments, key=lambda c: (c.date, c.id)):
        if comment.status == "pending":
            kind: InboxKind = "pending"
        elif (
            comment.status == "approved"
            and comment.id not in answered
            and comment.email.strip().casefold() not in author_emails
        ):
            kind = "unanswered"
        else:
            continue
        age = (now - comment.date).total_seconds() / 3600
        items.append(InboxItem(kind, comment, age, age > reply_within_hours))
    return tuple(sorted(items, key=lambda i: i.kind != "pending"))
