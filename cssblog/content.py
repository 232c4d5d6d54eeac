"""Typed posts and pages from parsed front matter: slugs, dates, categories, summaries."""

from __future__ import annotations

import contextlib
import difflib
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from pathlib import Path
from typing import Any, Literal

from cssblog.errors import CssblogError
from cssblog.frontmatter import Document
from cssblog.pickling import CachedValue
from cssblog.urls import is_valid_slug, slugify

CommentMode = Literal["open", "closed", "hidden"]
_NO_DATE = datetime(1970, 1, 1, tzinfo=UTC)
_DATE_PREFIX = re.compile(r"^\d{4}-\d{2}-\d{2}-")
_DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")
_PLAIN_DATE = re.compile(r"(\d{4})-(\d\d)-(\d\d)(?: (\d\d):(\d\d)(?::(\d\d))?)?", re.ASCII)
"""The dates of :data:`_DATE_FORMATS` with two-digit fields (strptime takes one digit too)."""
POST_KEYS = frozenset(
    {
        "title",
        "date",
        "updated",
        "slug",
        "categories",
        "tags",
        "summary",
        "author",
        "draft",
        "comments",
        "canonical_url",
        "image",
        "image_alt",
    }
)
PAGE_KEYS = frozenset(
    {"title", "slug", "summary", "draft", "canonical_url", "image", "image_alt", "date", "updated"}
)


@dataclass(frozen=True, slots=True)
class Post(CachedValue):
    """One post as written: front matter checked and typed, body still Markdown."""

    source: Path
    title: str
    slug: str
    date: datetime
    updated: datetime | None
    categories: tuple[str, ...]
    tags: tuple[str, ...]
    summary: str | None
    author: str
    draft: bool
    comments: CommentMode
    canonical_url: str | None
    image: str | None
    image_alt: str | None
    body: str
    body_line: int


@dataclass(frozen=True, slots=True)
class Page(CachedValue):
    """A standalone page (about, contact, ...)."""

    source: Path
    title: str
    slug: str
    summary: str | None
    draft: bool
    canonical_url: str | None
    image: str | None
    image_alt: str | None
    body: str
    body_line: int


def parse_date(value: object, tz: tzinfo) -> datetime:
    """A front-matter date as an aware datetime (naive ones are in ``tz``)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=tz)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=tz)
    if not isinstance(value, str):
        raise ValueError
    text = value.strip()
    if match := _PLAIN_DATE.fullmatch(text):  # the usual shape, without strptime's cost
        with contextlib.suppress(ValueError):  # out of range: strptime says so below
            year, month, day, hour, minute, second = (int(g or 0) for g in match.groups())
            return datetime(year, month, day, hour, minute, second, tzinfo=tz)
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=tz)
        except ValueError:
            continue
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)


class _Fields:
    """Reads typed values out of one document, collecting every error."""

    def __init__(self, doc: Document, tz: tzinfo) -> None:
        self.doc = doc
        self.tz = tz
        self.errors: list[CssblogError] = []

    def error(self, key: str, message: str, hint: str | None = None) -> None:
        self.errors.append(
            CssblogError(message, path=self.doc.path, line=self.doc.line_of(key), hint=hint)
        )

    def text(self, key: str, *, required: bool = False) -> str | None:
        value = self.doc.meta.get(key)
        if value is None:
            if required:
                self.error(key, f"missing `{key}`", hint=f"add `{key}: ...` to the front matter")
            return None
        if not isinstance(value, str):
            typed = self.doc.raw.get(key, str(value))
            self.error(
                key,
                f"`{key}` must be text, not {_describe(value)}",
                hint=f'put the value in quotes: {key}: "{typed}"',
            )
            return None
        if required and not value.strip():
            self.error(key, f"`{key}` is empty")
            return None
        return value.strip()

    def when(self, key: str, *, required: bool = False) -> datetime | None:
        value = self.doc.meta.get(key)
        if value is None:
            if required:
                self.error(key, f"missing `{key}`", hint="add e.g. `date: 2026-01-31 09:00`")
            return None
        try:
            return parse_date(value, self.tz)
        except ValueError:
            self.error(
                key,
                f"invalid {key} {value!r}",
                hint="use YYYY-MM-DD, YYYY-MM-DD HH:MM[:SS], or ISO 8601 with an offset",
            )
            return None

    def names(self, key: str) -> tuple[str, ...]:
        value = self.doc.meta.get(key)
        if value is None:
            return ()
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(i, str) and i.strip() for i in items):
            self.error(
                key,
                f"`{key}` must be a list of names or one name",
                hint=f'e.g. {key}: ["Customer Service", "Tools"]',
            )
            return ()
        return tuple(dict.fromkeys(i.strip() for i in items))

    def flag(self, key: str) -> bool:
        value = self.doc.meta.get(key, False)
        typed = self.doc.raw.get(key, "false").lower()
        if not isinstance(value, bool) or typed not in ("true", "false"):
            self.error(key, f"`{key}` must be true or false, not {self.doc.raw.get(key, value)!r}")
            return False
        return value

    def url(self, key: str) -> str | None:
        value = self.text(key)
        if value is not None and not re.match(r"^(https?://[^\s\"'<>]+|/[^\s\"'<>]*)$", value):
            self.error(key, f"`{key}` must be an http(s) URL or a path starting with /")
            return None
        return value

    def slug(self, default_from: str) -> str:
        explicit = self.text("slug")
        if explicit is not None:
            if not is_valid_slug(explicit):
                self.error(
                    "slug",
                    f"invalid slug {explicit!r}",
                    hint=f"use lower-case letters, digits and hyphens, e.g. "
                    f"{slugify(explicit) or 'my-post'!r}",
                )
            return explicit
        slug = slugify(_DATE_PREFIX.sub("", default_from))
        if not slug:
            self.error(
                "slug",
                f"cannot make a URL slug from the file name {default_from!r}",
                hint="add `slug: some-words` to the front matter",
            )
        return slug

    def unknown_keys(self, allowed: frozenset[str]) -> None:
        for key in self.doc.meta:
            if key not in allowed:
                close = difflib.get_close_matches(key, sorted(allowed), n=1)
                self.error(
                    key,
                    f"unknown front-matter key `{key}`",
                    hint=f"did you mean `{close[0]}`?"
                    if close
                    else "allowed: " + ", ".join(sorted(allowed)),
                )


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {value!r} (YAML reads yes/no/on/off as booleans)"
    if isinstance(value, date):
        return f"a date ({value})"
    return f"{type(value).__name__} {value!r}"


def read_post(
    doc: Document, tz: tzinfo, default_author: str
) -> tuple[Post | None, list[CssblogError]]:
    """Check a post's front matter; return the post, or ``None`` and every error found."""
    f = _Fields(doc, tz)
    f.unknown_keys(POST_KEYS)
    title = f.text("title", required=True)
    when = f.when("date", required=True)
    updated = f.when("updated")
    comments = doc.meta.get("comments", "open")
    if comments not in ("open", "closed", "hidden"):
        f.error("comments", f"`comments` must be open, closed or hidden, not {comments!r}")
    post = Post(
        source=doc.path,
        title=title or "",
        slug=f.slug(doc.path.stem),
        date=when or _NO_DATE,
        updated=updated,
        categories=f.names("categories"),
        tags=f.names("tags"),
        summary=f.text("summary"),
        author=f.text("author") or default_author,
        draft=f.flag("draft"),
        comments=comments,
        canonical_url=f.url("canonical_url"),
        image=f.url("image"),
        image_alt=f.text("image_alt"),
        body=doc.body,
        body_line=doc.body_line,
    )
    return (None, f.errors) if f.errors else (post, [])


def read_page(doc: Document, tz: tzinfo) -> tuple[Page | None, list[CssblogError]]:
    """Check a page's front matter; return the page, or ``None`` and every error found."""
    f = _Fields(doc, tz)
    f.unknown_keys(PAGE_KEYS)
    title = f.text("title", required=True)
    f.when("date")
    f.when("updated")
    page = Page(
        source=doc.path,
        title=title or "",
        slug=f.slug(doc.path.stem),
        summary=f.text("summary"),
        draft=f.flag("draft"),
        canonical_url=f.url("canonical_url"),
        image=f.url("image"),
        image_alt=f.text("image_alt"),
        body=doc.body,
        body_line=doc.body_line,
    )
    return (None, f.errors) if f.errors else (page, [])
