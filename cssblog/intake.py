"""Take a comment submitted with the theme's form: validate, moderate, de-duplicate, store.

The preview server uses this for its comment form; nothing here knows about HTTP beyond the
form's fields. A submission becomes :class:`Received`: a stored comment (pending or
published), the existing copy of a comment sent twice, a quietly discarded trap (the honeypot
field was filled in, as only robots do), or the problems that refused it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from urllib.parse import parse_qs

from cssblog.comments.model import Comment
from cssblog.comments.service import DuplicateCommentError, NewComment, add_comment
from cssblog.comments.store import MAX_COMMENT_BYTES
from cssblog.config import SiteConfig
from cssblog.errors import ContentErrors, CssblogError

FORM_TYPE = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = MAX_COMMENT_BYTES + 4096
"""The largest form accepted: a 64 KiB comment, percent-encoding aside, and its other fields."""
FIELDS = ("post", "parent", "author", "email", "url", "body", "homepage")
HONEYPOT = "homepage"

Outcome = Literal["pending", "published", "trap", "refused"]

__all__ = ["FORM_TYPE", "MAX_FORM_BYTES", "FormError", "Intake", "Received", "parse_form"]


class FormError(ValueError):
    """The request is not a comment form at all (wrong type, unreadable, repeated fields)."""


@dataclass(frozen=True, slots=True)
class Received:
    """What became of one submission."""

    outcome: Outcome
    post_slug: str
    comment: Comment | None = None
    problems: tuple[str, ...] = ()
    duplicate: bool = False
    """The comment was sent before; ``comment`` is the stored copy and nothing new was written."""


def parse_form(body: bytes, content_type: str) -> dict[str, str]:
    """The comment form's fields from an urlencoded request body."""
    if content_type.split(";")[0].strip().lower() != FORM_TYPE:
        raise FormError(f"expected {FORM_TYPE}")
    try:
        text = body.decode("utf-8")
        parsed = parse_qs(
            text, keep_blank_values=True, strict_parsing=False, errors="strict",
            max_num_fields=len(FIELDS) * 2,
        )  # fmt: skip
    except (UnicodeDecodeError, ValueError) as exc:
        raise FormError("the form is not valid UTF-8 urlencoded data") from exc
    fields = {}
    for name, values in parsed.items():
        if name not in FIELDS:
            continue
        if len(values) != 1:
            raise FormError(f"the field {name!r} is repeated")
        fields[name] = values[0].replace("\r\n", "\n")
    return fields


class Intake:
    """Store comments, one submission at a time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # the duplicate check and the write are one step

    def receive(self, config: SiteConfig, fields: Mapping[str, str], *, now: datetime) -> Received:
        """Validate, moderate, de-duplicate and store the comment in ``fields``."""
        slug = fields.get("post", "").strip()
        if fields.get(HONEYPOT, "").strip():
            return Received("trap", slug)
        required = [("post", "the post"), ("author", "your name"), ("body", "a comment")]
        missing = [label for name, label in required if not fields.get(name, "").strip()]
        if config.comments.require_name is False and "your name" in missing:
            missing.remove("your name")
        if missing:
            return Received("refused", slug, problems=(f"missing {', '.join(missing)}",))
        new = NewComment(
            post_slug=slug,
            author=fields.get("author", ""),
            email=fields.get("email", ""),
            url=fields.get("url", ""),
            body=fields.get("body", ""),
            parent=fields.get("parent", "").strip() or None,
        )
        with self._lock:
            try:
                added = add_comment(config, new, now=now)
            except DuplicateCommentError as exc:
                return Received(_shown(exc.existing.status), slug, exc.existing, duplicate=True)
            except ContentErrors as exc:
                return Received("refused", slug, problems=tuple(e.message for e in exc.errors))
            except CssblogError as exc:
                return Received("refused", slug, problems=(exc.message,))
        return Received(_shown(added.comment.status), slug, added.comment)


def _shown(status: str) -> Outcome:
    """What the reader is told: published, or awaiting moderation (spam is not announced)."""
    return "published" if status == "approved" else "pending"
