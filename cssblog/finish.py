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
_RAW_TAGS = frozenset({"pre", "code", "kbd", "script", "style", "samp", "tt"})
"""The elements whose content is left as written."""
_TAG_NAME = re.compile(r"<\s*(/?)/*([^\s/>]*)[/>]*(?:\s|$)")
"""A tag's name (group 2) and whether it closes an element (group 1)."""
_OPENING = r"(?<=[ \t\n(\[{\u2014\u2013\-/])"
"""After one of these characters, a quote opens."""
_OPENING_DOUBLE = re.compile(_OPENING + '"')
_OPENING_SINGLE = re.compile(_OPENING + r"'(\S)")


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
    parts = _TAG_OR_TEXT.split(rendered)  # text at even places, tags at odd ones
    raw_depth = 0
    previous = " "
    steps: dict[str, int] = {}  # what each tag does to the depth: a page repeats its tags
    for index in range(0, len(parts), 2):
        if index:
            raw_depth = _raw_depth(parts[index - 1], raw_depth, steps)
        part = parts[index]
        if not part:
            continue
        if part[0] == "<":  # a "<" never closed: read as a tag, as a browser would
            raw_depth = _raw_depth(part, raw_depth, steps)
            continue
        if raw_depth == 0:
            part = parts[index] = _smarten_text(part, previous)
        previous = part[-1]
    return "".join(parts)


def _raw_depth(tag: str, depth: int, steps: dict[str, int]) -> int:
    """How many raw elements (code, pre, ...) are open after ``tag``; ``steps`` keeps what
    each tag seen does to that number (+1, -1 or 0), which depends on the tag alone."""
    step = steps.get(tag)
    if step is None:
        tag_name = _TAG_NAME.match(tag)
        if tag_name is None or tag_name.group(2).lower() not in _RAW_TAGS:
            step = 0
        else:
            step = -1 if tag_name.group(1) else 1
        steps[tag] = step
    return max(depth + step, 0) if step else depth


def _smarten_text(text: str, before: str) -> str:
    text = text.replace("---", "\u2014").replace("--", "\u2013").replace("...", "\u2026")
    if "'" not in text and '"' not in text:
        return text
    # Each quote is decided by the character before it (``before`` for the first) and, for a
    # single one, the character after it: prefixing ``before`` lets look-behinds see it.
    text = _OPENING_DOUBLE.sub("\u201c", before + text).replace('"', "\u201d")
    return _OPENING_SINGLE.sub(_single, text).replace("'", "\u2019")[1:]


def _single(match: re.Match[str]) -> str:
    return ("\u2019" if match.group(1).isdigit() else "\u2018") + match.group(1)
