"""Whether a new comment may be taken: its fields, its post, the comment it replies to.

Every check gives :class:`Problem` values that name the field and say what is wrong without
repeating what was typed (the intake shows them to anyone), and a ``detail`` that does, for the
author's own tools. Limits follow WordPress: a name of 245 characters, an email address of 100,
a website of 200 and a comment of 64 KiB are refused when longer, never shortened.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, Protocol

from cssblog.comments.model import ID_PATTERN, Comment, clean_name
from cssblog.comments.sanitize import MAX_URL, safe_url
from cssblog.config import CommentsSection

MAX_NAME = 245
MAX_EMAIL = 100
MAX_BODY_BYTES = 64 * 1024

ProblemKind = Literal["missing", "invalid", "unknown", "closed"]
_EMAIL = re.compile(r"[^@\s<>()\[\],;:\"\\]+@[^@\s<>()\[\],;:\"\\]+")
# In a body: C0 controls but tab and newline, DEL, C1 controls, non-characters, surrogates.
_BODY_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")


@dataclass(frozen=True, slots=True)
class Problem:
    """Why one field of a new comment is refused."""

    field: str
    """``post``, ``parent``, ``author``, ``email``, ``url`` or ``body``."""
    message: str
    """What is wrong, without the value: safe to show anyone."""
    kind: ProblemKind = "invalid"
    detail: str = ""
    """The same with the value, for the command line and the preview."""

    @property
    def text(self) -> str:
        """The detailed message where there is one."""
        return self.detail or self.message


class Commentable(Protocol):
    """What the checks need of a post."""

    @property
    def comments(self) -> str: ...

    @property
    def date(self) -> datetime: ...

    @property
    def draft(self) -> bool: ...


def comment_mode(post: Commentable, settings: CommentsSection, now: datetime) -> str:
    """``open``, ``closed`` or ``hidden``: the post's own setting, closed after
    ``close_after_days``, hidden when comments are disabled."""
    if not settings.enabled:
        return "hidden"
    days = settings.close_after_days
    if post.comments == "open" and days and now - post.date > timedelta(days=days):
        return "closed"
    return post.comments


def check_post(
    post: Commentable | None,
    slug: str,
    settings: CommentsSection,
    now: datetime,
    *,
    drafts: bool,
) -> Problem | None:
    """Whether ``post`` (the post called ``slug``, if any) takes comments now."""
    if post is None or (not drafts and (post.draft or post.date > now)):
        return Problem("post", "there is no such post", "unknown", f"no post with slug {slug!r}")
    mode = comment_mode(post, settings, now)
    if mode == "open":
        return None
    detail = f"comments are {mode} on {slug!r}" if settings.enabled else "comments are disabled"
    return Problem("post", "comments are closed on this post", "closed", detail)


def check_parent(parent: str | None, siblings: Mapping[str, Comment]) -> Problem | None:
    """Whether ``parent`` is an approved comment among ``siblings`` (the post's, by id)."""
    if parent is None:
        return None
    found = siblings.get(parent) if ID_PATTERN.fullmatch(parent) else None
    if found is None or found.status != "approved":
        return Problem(
            "parent",
            "there is no approved comment to reply to",
            "unknown",
            f"no approved comment {parent!r} on this post to reply to",
        )
    return None


def check_fields(author: str, email: str, url: str, body: str) -> list[Problem]:
    """Problems with the reader's own fields (whether they are required is the caller's)."""
    problems = []
    if len(author) > MAX_NAME or _hidden_characters(author):
        problems.append(
            Problem(
                "author",
                f"the name is longer than {MAX_NAME} characters or has control characters",
                detail="the name is too long or has control characters",
            )
        )
    if len(email) > MAX_EMAIL or (email and not _EMAIL.fullmatch(email)):
        problems.append(
            Problem("email", "not an email address", detail=f"not an email address: {email!r}")
        )
    if len(url) > MAX_URL or _hidden_characters(url) or (url and safe_url(url) is None):
        problems.append(
            Problem("url", "not an http(s) address", detail=f"not an http(s) address: {url!r}")
        )
    if not body.strip():
        problems.append(Problem("body", "the comment is empty", "missing"))
    elif len(body.encode("utf-8", "surrogatepass")) > MAX_BODY_BYTES:
        problems.append(Problem("body", f"the comment is longer than {MAX_BODY_BYTES // 1024} KiB"))
    elif _BODY_CONTROL.search(body):
        problems.append(Problem("body", "the comment has control characters"))
    return problems


def _hidden_characters(text: str) -> bool:
    """Control characters (newlines and tabs too), line separators, invisible or bidi marks."""
    if any(unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") for c in text):
        return True
    return clean_name(text) != " ".join(text.split())
