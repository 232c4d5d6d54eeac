"""Take a comment a reader submitted: read the fields, validate, moderate, de-duplicate, store.

Shared by the preview server and the production intake (:mod:`cssblog.intake_app`); nothing
here knows about HTTP beyond the request body's type. A submission becomes :class:`Received`:
a stored comment (pending or published), the stored copy of a comment sent twice (nothing new
is written), a quietly discarded trap (the honeypot field was filled in, as only robots do),
the problems that refused it, or a refusal to store it now (too fast, or the disk failed).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from email.message import Message
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs

from cssblog.catalog import PostCatalog
from cssblog.comments.model import Comment
from cssblog.comments.queue import CommentIndex
from cssblog.comments.sanitize import CommentRenderer
from cssblog.comments.service import NewComment, decide, draft_comment, find_duplicate
from cssblog.comments.store import comments_dir
from cssblog.comments.validate import (
    MAX_BODY_BYTES,
    Problem,
    check_fields,
    check_parent,
    check_post,
)
from cssblog.config import SiteConfig
from cssblog.content import Post
from cssblog.errors import CssblogError

FORM_TYPE = "application/x-www-form-urlencoded"
JSON_TYPE = "application/json"
MAX_FORM_BYTES = 3 * MAX_BODY_BYTES + 8192
"""The largest request body read: a 64 KiB comment percent-encoded (at most three bytes a byte
for text) and the other fields."""
FIELDS = ("post", "parent", "author", "email", "url", "body", "homepage")
HONEYPOT = "homepage"
RENDERED_KEPT = 256
"""Comment bodies whose rendering (for the link count) is kept, at most."""
LABELS = {
    "post": "the post",
    "parent": "the comment replied to",
    "author": "your name",
    "email": "your email address",
    "url": "your website",
    "body": "a comment",
    "form": "the form",
}

Outcome = Literal["pending", "published", "trap", "refused", "limited", "unavailable"]
Gate = Callable[[], float]
"""Asked just before a new comment is written: seconds to wait first, or 0 to go on."""

__all__ = [
    "FIELDS",
    "FORM_TYPE",
    "JSON_TYPE",
    "LABELS",
    "MAX_FORM_BYTES",
    "FormError",
    "Gate",
    "Intake",
    "Received",
    "UnsupportedType",
    "body_kind",
    "parse_form",
    "read_fields",
]


class FormError(ValueError):
    """The request is not a comment form at all (wrong type, unreadable, repeated fields)."""


class UnsupportedType(FormError):
    """The request body is neither an urlencoded form nor JSON."""


@dataclass(frozen=True, slots=True)
class Received:
    """What became of one submission."""

    outcome: Outcome
    post_slug: str
    comment: Comment | None = None
    problems: tuple[str, ...] = ()
    """What refused it, for the site's author (may quote the submission)."""
    duplicate: bool = False
    """The comment was sent before; ``comment`` is the stored copy and nothing new was written."""
    issues: tuple[Problem, ...] = ()
    """What refused it, field by field, safe to show anyone."""
    post: Post | None = None
    retry_after: float = 0.0
    """Seconds to wait before sending again (``limited``, ``unavailable``)."""


def parse_form(body: bytes, content_type: str) -> dict[str, str]:
    """The comment form's fields from an urlencoded request body (other fields left out)."""
    if _media_type(content_type)[0] != FORM_TYPE:
        raise FormError(f"expected {FORM_TYPE}")
    return {k: v for k, v in _form_fields(body).items() if k in FIELDS}


def body_kind(content_type: str) -> str | None:
    """``FORM_TYPE`` or ``JSON_TYPE`` when ``content_type`` is one of them, else None."""
    kind = _media_type(content_type)[0]
    return kind if kind in (FORM_TYPE, JSON_TYPE) else None


def read_fields(body: bytes, content_type: str) -> dict[str, str]:
    """Every field of an urlencoded form or a JSON object of strings, in UTF-8."""
    kind, charset = _media_type(content_type)
    if kind not in (FORM_TYPE, JSON_TYPE):
        raise UnsupportedType(f"expected {FORM_TYPE} or {JSON_TYPE}")
    if charset not in ("", "utf-8", "utf8"):
        raise FormError("the request must be UTF-8")
    return _form_fields(body) if kind == FORM_TYPE else _json_fields(body)


def _media_type(content_type: str) -> tuple[str, str]:
    message = Message()
    message["Content-Type"] = content_type or "application/octet-stream"
    charset = message.get_param("charset", "")
    return message.get_content_type(), str(charset).strip().lower()


def _form_fields(body: bytes) -> dict[str, str]:
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
        if len(values) != 1:
            raise FormError(f"the field {name!r} is repeated" if name in FIELDS else "repeated")
        fields[name] = _lines(values[0])
    return fields


def _json_fields(body: bytes) -> dict[str, str]:
    try:
        data = json.loads(body.decode("utf-8"), object_pairs_hook=_no_repeats)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise FormError("the request is not valid UTF-8 JSON") from exc
    if not isinstance(data, dict) or len(data) > len(FIELDS) * 2:
        raise FormError("expected a JSON object of the comment's fields")
    if not all(isinstance(v, str) for v in data.values()):
        raise FormError("every field must be a string")
    try:
        for value in data.values():
            value.encode("utf-8")  # a lone surrogate such as "\ud800" cannot be
    except UnicodeEncodeError as exc:
        raise FormError("the request is not valid UTF-8 JSON") from exc
    return {k: _lines(v) for k, v in data.items()}


def _no_repeats(pairs: Sequence[tuple[str, object]]) -> dict[str, object]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("a field is repeated")
    return result


def _lines(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n")


class Intake:
    """Store comments: each submission checked, then de-duplicated and written under a lock
    shared with every other writer of the site's comments."""

    def __init__(
        self,
        *,
        drafts: bool = True,
        queue: Path | None = None,
        refresh: float = 0.0,
        max_queued: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``drafts``: take comments on drafts and scheduled posts (the preview does).
        ``queue``: the folder to write to (default: the site's ``content/comments``).
        ``refresh``: seconds the list of posts and the comments' statuses may be old.
        ``max_queued``: comments awaiting moderation at which new ones are refused (0: never).
        """
        self.drafts = drafts
        self.queue = queue
        self.max_queued = max_queued
        self._refresh = refresh
        self._clock = clock
        self._catalog = PostCatalog(refresh=refresh, clock=clock)
        self._indexes: dict[tuple[Path, Path, str], CommentIndex] = {}
        self._lock = threading.Lock()
        self._rendered: dict[str, str] = {}
        self._renderer = CommentRenderer(self._rendered)  # one Markdown parser for all threads

    def receive(
        self,
        config: SiteConfig,
        fields: Mapping[str, str],
        *,
        now: datetime,
        gate: Gate | None = None,
    ) -> Received:
        """Validate, moderate, de-duplicate and store the comment in ``fields``."""
        slug = fields.get("post", "").strip()
        trap = bool(fields.get(HONEYPOT, "").strip())  # answered like a comment awaiting moderation
        try:
            post = self._catalog.posts(config).get(slug)
        except CssblogError as exc:
            if trap:
                return Received("trap", slug)
            return Received("unavailable", slug, problems=(exc.message,), retry_after=60)
        problem = check_post(post, slug, config.comments, now, drafts=self.drafts)
        shown = post if problem is None else None
        if trap:
            return Received("trap", slug, post=shown)
        problems = _field_problems(config, fields)
        if problems:
            return _refused(slug, problems, shown)
        if problem is not None or post is None:
            return _refused(slug, [problem] if problem else [])
        new = _new_comment(slug, fields)
        if len(self._rendered) > RENDERED_KEPT:
            self._rendered.clear()
        self._renderer.count_links(new.body)  # the slow part of moderating, outside the lock
        try:
            with self._index(config).locked() as index:
                return self._store(config, index, new, post, now, gate, self._renderer)
        except CssblogError as exc:
            return Received("unavailable", slug, problems=(exc.message,), post=post, retry_after=60)

    def _store(
        self,
        config: SiteConfig,
        index: CommentIndex,
        new: NewComment,
        post: Post,
        now: datetime,
        gate: Gate | None,
        renderer: CommentRenderer,
    ) -> Received:
        siblings = index.on_post(post.slug)
        known = siblings.get(new.parent or "")
        if known is not None and known.status != "approved":  # approved since last looked?
            siblings[known.id] = index.reread(known) or known
        problem = check_parent(new.parent, siblings)
        if problem is not None:
            return _refused(post.slug, [problem], post)
        draft = draft_comment(new, now)
        existing = find_duplicate(draft, siblings.values(), config.comments.duplicate_threshold)
        if existing is not None:
            return Received(_shown(existing.status), post.slug, existing, duplicate=True, post=post)
        wait = gate() if gate is not None else 0.0
        if wait > 0:
            return Received("limited", post.slug, post=post, retry_after=wait)
        history = index.everything()
        if self.max_queued and _queued(history) >= self.max_queued:
            problems = ("too many comments are awaiting moderation",)
            return Received("unavailable", post.slug, problems=problems, retry_after=3600)
        decision = decide(config, draft, history, renderer)
        stored = index.create(replace(draft, status=decision.status, moderation_note=decision.note))
        return Received(_shown(stored.status), post.slug, stored, post=post)

    def _index(self, config: SiteConfig) -> CommentIndex:
        base = self.queue if self.queue is not None else comments_dir(config.root)
        key = (config.root, base, config.site.timezone)
        with self._lock:
            if key not in self._indexes:
                self._indexes[key] = CommentIndex(
                    config.root, base, config.tz, refresh=self._refresh, clock=self._clock
                )
            return self._indexes[key]


def _new_comment(slug: str, fields: Mapping[str, str]) -> NewComment:
    return NewComment(
        post_slug=slug,
        author=fields.get("author", ""),
        email=fields.get("email", ""),
        url=fields.get("url", ""),
        body=fields.get("body", ""),
        parent=fields.get("parent", "").strip() or None,
    )


def _field_problems(config: SiteConfig, fields: Mapping[str, str]) -> list[Problem]:
    if any(v.strip() for k, v in fields.items() if k not in FIELDS):
        return [Problem("form", "the form has fields this site does not take")]
    required = ["post", "body"]
    if config.comments.require_name:
        required[1:1] = ["author", "email"]  # as WordPress's "name and email are required"
    missing = [
        Problem(name, f"{LABELS[name]} is missing", "missing")
        for name in required
        if not fields.get(name, "").strip()
    ]
    if missing:
        return missing
    return check_fields(
        fields.get("author", ""), fields.get("email", ""), fields.get("url", ""), fields["body"]
    )


def _refused(slug: str, problems: Sequence[Problem], post: Post | None = None) -> Received:
    missing = [LABELS[p.field] for p in problems if p.kind == "missing"]
    texts = [f"missing {', '.join(missing)}"] if missing else []
    texts += [p.text for p in problems if p.kind != "missing"]
    return Received("refused", slug, problems=tuple(texts), issues=tuple(problems), post=post)


def _queued(comments: Sequence[Comment]) -> int:
    return sum(1 for c in comments if c.status in ("pending", "spam"))


def _shown(status: str) -> Outcome:
    """What the reader is told: published, or awaiting moderation (spam is not announced)."""
    return "published" if status == "approved" else "pending"
