"""Comment bodies to safe HTML, and author URLs to safe links.

Bodies are Markdown rendered by markdown-it-py with raw HTML off (it is shown as text) — chosen
over Python-Markdown for readers' text because it stays linear on pathological input (``"[" * 8000``
takes 0.1 s, not 11 s) — and the result is cleaned by nh3 under a strict allow-list. Most
comments are plain prose, with no character Markdown gives a meaning to: those are cut into
paragraphs of escaped text directly, the very HTML that markdown-it and nh3 make of them
(tested against both), in a fifth of the time.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import urlsplit

ALLOWED_TAGS = frozenset(
    {"p", "br", "a", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li"}
)
ALLOWED_SCHEMES = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener noreferrer"
MAX_URL = 200
# Characters HTML forbids in text: C0 controls but tab, LF, FF and CR; C1 controls; U+FFFE/FFFF.
_HTML_INVALID = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_STRIP_FOR_SCHEME = re.compile(r"[\x00-\x20]")
_NOT_PLAIN = re.compile(
    # escapes, code, emphasis, links, HTML, entities, odd spaces; NUL and lone surrogates
    # (markdown-it shows U+FFFD for the one, nh3 refuses the other)
    r"[\\`*_\[\]<&\t\r\x0b\x0c\x00\ud800-\udfff]"
    r"|^(?:[#>+=~-]|\d+[.)])"  # headings, quotes, lists, setext underlines, fences
    r"|^[^\S\n]|[^\S\n]$",  # indented code and hard breaks; paragraphs are trimmed
    re.MULTILINE,
)
_BLANK_LINES = re.compile(r"\n\n+")


class CommentRenderer:
    """A reusable Markdown → sanitised HTML converter for comments."""

    def __init__(self, cache: MutableMapping[str, str] | None = None) -> None:
        self._md: Any = None  # made on first use: most builds render no new comment
        self._cache = cache if cache is not None else {}

    def render(self, body: str) -> str:
        """Safe HTML for a comment body (each distinct body rendered once)."""
        key = hashlib.blake2b(body.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
        cached = self._cache.get(key)
        if cached is None:
            text = _HTML_INVALID.sub("", body)
            html = plain_html(text)
            if html is None:
                html = self._clean(self._markdown().render(text))
            cached = self._cache[key] = html
        return cached

    def _markdown(self) -> Any:
        if self._md is None:
            from markdown_it import MarkdownIt

            self._md = MarkdownIt("commonmark", {"html": False, "linkify": False})
            self._md.disable("image")
        return self._md

    def _clean(self, html: str) -> str:
        import nh3

        return str(
            nh3.clean(
                html,
                tags=set(ALLOWED_TAGS),
                attributes={"a": {"href", "title"}},
                url_schemes=set(ALLOWED_SCHEMES),
                link_rel=LINK_REL,
                strip_comments=True,
            )
        )

    def count_links(self, body: str) -> int:
        """How many links the rendered body has."""
        return self.render(body).count("<a ")


def plain_html(text: str) -> str | None:
    """The clean HTML of ``text`` when it is plain prose (paragraphs of lines with no character
    Markdown gives a meaning to there), as markdown-it's CommonMark and then nh3 make it;
    None for any other text."""
    if _NOT_PLAIN.search(text):
        return None
    paragraphs = _BLANK_LINES.split(text.strip("\n"))
    return "".join(f"<p>{_escape(p)}</p>\n" for p in paragraphs if p)


def _escape(text: str) -> str:
    """Text escaped as nh3 writes it: ``>`` and no-break spaces (plain text has no ``&`` or
    ``<``; quotes are left as they are)."""
    return text.replace(">", "&gt;").replace("\xa0", "&nbsp;")


def safe_url(url: str) -> str | None:
    """``url`` when it is a plain http(s) link fit to publish, else ``None``."""
    text = url.strip()
    if not text or len(text) > MAX_URL:
        return None
    if _STRIP_FOR_SCHEME.search(text) or any(c in text for c in "\"'<>\\`"):
        return None
    if text.startswith("//"):
        return None
    if "://" not in text and re.match(r"^[\w.-]+\.[a-z]{2,}(/|$)", text, re.IGNORECASE):
        text = "https://" + text
    try:
        parts = urlsplit(text)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            return None
    except ValueError:  # e.g. an unbalanced [ in the host
        return None
    if parts.username or parts.password:
        return None
    return text
