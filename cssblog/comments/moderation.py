"""Moderation rules: decide an incoming comment's status and record every reason."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from cssblog.comments.model import Comment, Status, identity
from cssblog.comments.sanitize import CommentRenderer
from cssblog.config import CommentsSection

_WORDS_FILE = Path(__file__).parent.parent / "data" / "blocked_words.txt"
_SPAM_SIGNALS_NEEDED = 2


@dataclass(frozen=True, slots=True)
class Decision:
    """The status a comment gets, and why."""

    status: Status
    reasons: tuple[str, ...]

    @property
    def note(self) -> str:
        """The reasons as one ``moderation_note``."""
        return "; ".join(self.reasons)


@cache
def bundled_blocked_words() -> frozenset[str]:
    """The expletives shipped with cssblog."""
    lines = _WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip().casefold() for w in lines if w.strip() and not w.startswith("#"))


def moderate(
    comment: Comment,
    *,
    config: CommentsSection,
    author_emails: frozenset[str],
    history: Iterable[Comment],
    renderer: CommentRenderer,
) -> Decision:
    """Apply the ``[comments]`` rules to ``comment``; ``history`` is every stored comment."""
    email = comment.email.strip().casefold()
    if email and email in author_emails:
        return Decision("approved", ("written by a site author",))
    name = identity(comment.author)
    if config.require_name and not name:
        return Decision("rejected", ("name is empty",))
    if name in {identity(n) for n in config.blocked_names}:
        return Decision("rejected", (f"name {comment.author!r} is blocked",))
    held, spam_signals = _signals(comment, config, renderer)
    if len(spam_signals) >= _SPAM_SIGNALS_NEEDED:
        return Decision("spam", tuple(spam_signals))
    if held:
        return Decision("pending", tuple(held))
    if config.moderation == "all":
        return Decision("pending", ("every comment waits for approval (moderation = all)",))
    if config.moderation == "first-time":
        returning = email and any(
            c.status == "approved" and c.email.strip().casefold() == email for c in history
        )
        if not returning:
            return Decision("pending", ("first comment from this email address",))
        return Decision("approved", ("returning commenter with an approved comment",))
    return Decision("approved", ("no rule held it (moderation = none)",))


def _signals(
    comment: Comment, config: CommentsSection, renderer: CommentRenderer
) -> tuple[list[str], list[str]]:
    """Reasons to hold the comment, and the subset that also smell of spam."""
    held: list[str] = []
    spam: list[str] = []
    links = renderer.count_links(comment.body)
    if links > config.max_links:
        reason = f"{links} links (more than max_links = {config.max_links})"
        held.append(reason)
        spam.append(reason)
    words = bundled_blocked_words() | {w.casefold() for w in config.blocked_words}
    found = sorted({w for w in re.findall(r"\w+", comment.body.casefold()) if w in words})
    if found:
        held.append("blocked words: " + ", ".join(found))
        spam.append("blocked words")
    if re.search(r"https?://|www\.", comment.author, re.IGNORECASE):
        held.append("a link in the name")
        spam.append("a link in the name")
    if links and len(re.sub(r"\W", "", comment.body)) < 40 and comment.url:
        spam.append("a short comment that is mostly a link")
    visible = re.sub(r"\]\([^)]*\)|<?https?://\S+", "", comment.body)  # link targets out
    letters = re.sub(r"[^A-Za-z]", "", visible)
    if len(letters) >= 20 and letters.isupper():
        spam.append("written in capitals")
    return held, spam
