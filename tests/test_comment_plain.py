"""The plain-prose path of comment rendering gives exactly what markdown-it and nh3 give."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from cssblog.comments.sanitize import CommentRenderer, plain_html

PIECES = [
    "word", "Thanks", "2024", "1.", "3)", " ", "  ", "\n", "\n\n", "\n \n", "!", "?", "'", '"',
    ">", "<", "&", "&amp;", "-", "- ", "+ ", "=", "===", "---", "#", "# ", "~~~", "```", "`",
    "*", "_", "[", "]", "(", ")", "\\", "\t", "\r", "\x0c", "\u00a0", "\u2028", "\u3000",
    "\ufeff", "é", "http://example.net/a?b=c", "a@b.example", "    ", ":", "|", "%", "\x00",
    "\ud800",
]  # fmt: skip


def _full(text: str) -> str:
    """The HTML of the full path: markdown-it, then nh3."""
    md = MarkdownIt("commonmark", {"html": False, "linkify": False})
    md.disable("image")
    return CommentRenderer()._clean(md.render(text))


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=14).map("".join))
def test_plain_prose_renders_as_markdown_it_and_nh3_render_it(text: str) -> None:
    made = plain_html(text)
    if made is not None:
        assert made == _full(text)


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ('Great post, thanks! It\'s "spot on" > the rest.\n\nSecond thought:\nagreed.', True),
        ("2 weeks later, it worked (mostly).", True),
        ("e-mail me at a@b.example or see http://example.net/x?y=1", True),
        ("", True),
        ("1. first\n2. second", False),
        ("- a list", False),
        ("# heading", False),
        ("> quoted", False),
        ("Title\n===", False),
        ("    code", False),
        ("hard  \nbreak", False),
        ("*emphasis*", False),
        ("a <b>tag</b>", False),
        ("&copy;", False),
        ("[link](http://x.example)", False),
        ("nul \x00 here", False),  # markdown-it shows U+FFFD for it
        ("lone \ud800 surrogate", False),  # nh3 refuses it
    ],
)
def test_which_texts_take_the_plain_path(text: str, plain: bool) -> None:
    made = plain_html(text)
    assert (made is not None) is plain
    if made is not None:
        assert made == _full(text)


def test_the_renderer_cleans_plain_and_markdown_bodies_alike() -> None:
    renderer = CommentRenderer()
    assert renderer.render('Hi "there" > you\n\nbye') == '<p>Hi "there" &gt; you</p>\n<p>bye</p>\n'
    assert renderer.render("no\xa0break") == "<p>no&nbsp;break</p>\n"
    assert renderer.render("Hi *there*") == "<p>Hi <em>there</em></p>\n"
