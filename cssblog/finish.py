"""Finish rendered post HTML: Pygments highlighting and typographic punctuation.

Both run once over the finished HTML instead of inside Python-Markdown: its ``smarty`` extension
adds a dozen inline patterns to every text node (it doubled conversion time), and ``codehilite``
builds a new lexer and formatter for every block (four times slower than reusing them).
"""

from __future__ import annotations

import html
import re
from typing import Any

_CODE_BLOCK = re.compile(r'<pre><code class="language-([\w+#.-]+)">(.*?)</code></pre>', re.DOTALL)
_TAG_OR_TEXT = re.compile(r"(<[^>]*>)")
_RAW_TAGS = ("pre", "code", "kbd", "script", "style", "samp", "tt")
_OPENING_CONTEXT = " \t\n([{\u2014\u2013-/"


class Finisher:
    """Reusable highlighter and typographer (lexers and the formatter are made once)."""

    def __init__(self) -> None:
        self._formatter: Any = None  # Pygments is loaded on the first code block
        self._lexers: dict[str, Any] = {}

    def finish(self, rendered: str) -> str:
        """Highlighted code blocks and curly quotes, dashes and ellipses in text."""
        return self._highlight(smarten(rendered))

    def _highlight(self, rendered: str) -> str:
        if "<pre><code class=" not in rendered:
            return rendered
        return _CODE_BLOCK.sub(self._block, rendered)

    def _block(self, match: re.Match[str]) -> str:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter

        lexer = self._lexer(match.group(1))
        if lexer is None:
            return match.group(0)
        if self._formatter is None:
            self._formatter = HtmlFormatter(cssclass="highlight")
        return str(highlight(html.unescape(match.group(2)), lexer, self._formatter))

    def _lexer(self, language: str) -> Any:
        from pygments.lexers import get_lexer_by_name
        from pygments.util import ClassNotFound

        if language not in self._lexers:
            try:
                self._lexers[language] = get_lexer_by_name(language)
            except ClassNotFound:
                self._lexers[language] = None
        return self._lexers[language]


def smarten(rendered: str) -> str:
    """SmartyPants-style punctuation in text nodes, never inside code or tags."""
    if not any(mark in rendered for mark in ("'", '"', "--", "...")):
        return rendered
    parts = _TAG_OR_TEXT.split(rendered)
    raw_depth = 0
    previous = " "
    for index, part in enumerate(parts):
        if not part:
            continue
        if part.startswith("<"):
            name = part[1:].split(None, 1)[0].rstrip(">/").lower() if len(part) > 2 else ""
            if name.lstrip("/") in _RAW_TAGS:
                raw_depth += -1 if name.startswith("/") else 1
                raw_depth = max(raw_depth, 0)
            continue
        if raw_depth == 0:
            parts[index] = _smarten_text(part, previous)
        previous = parts[index][-1]
    return "".join(parts)


def _smarten_text(text: str, before: str) -> str:
    text = text.replace("---", "\u2014").replace("--", "\u2013").replace("...", "\u2026")
    if "'" not in text and '"' not in text:
        return text
    out = []
    prev = before
    for i, char in enumerate(text):
        if char == '"':
            char = "\u201c" if prev in _OPENING_CONTEXT else "\u201d"
        elif char == "'":
            following = text[i + 1] if i + 1 < len(text) else " "
            opening = prev in _OPENING_CONTEXT and not following.isdigit()
            char = "\u2018" if opening and not following.isspace() else "\u2019"
        out.append(char)
        prev = char
    return "".join(out)
