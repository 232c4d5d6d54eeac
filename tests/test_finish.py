"""Finishing rendered HTML: typographic punctuation and Pygments highlighting."""

from __future__ import annotations

import pytest

from cssblog.finish import Finisher, smarten


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ('<p>"Hello," she said.</p>', "<p>\u201cHello,\u201d she said.</p>"),
        ("<p>It's the '90s.</p>", "<p>It\u2019s the \u201990s.</p>"),
        ("<p>'Quoted' words</p>", "<p>\u2018Quoted\u2019 words</p>"),
        ("<p>a -- b --- c...</p>", "<p>a \u2013 b \u2014 c\u2026</p>"),
        ('<p><em>"emphasis"</em></p>', "<p><em>\u201cemphasis\u201d</em></p>"),
    ],
)
def test_smart_punctuation_in_text(html: str, expected: str) -> None:
    assert smarten(html) == expected


def test_code_attributes_and_raw_blocks_are_left_alone() -> None:
    html = (
        '<p><a href="/a-b--c/" title="x \'y\'">"link"</a> <code>"x" -- y</code></p>'
        '<pre><code>don\'t "touch" -- this</code></pre><kbd>--</kbd>'
    )
    out = smarten(html)
    assert 'href="/a-b--c/"' in out and "title=\"x 'y'\"" in out
    assert '<code>"x" -- y</code>' in out
    assert '<pre><code>don\'t "touch" -- this</code></pre>' in out
    assert "<kbd>--</kbd>" in out
    assert "\u201clink\u201d" in out


def test_fenced_code_is_highlighted_with_classes_and_unknown_languages_kept() -> None:
    finisher = Finisher()
    html = '<pre><code class="language-python">x = &quot;a&lt;b&quot;\n</code></pre>'
    out = finisher.finish(html)
    assert out.startswith('<div class="highlight"><pre>')
    assert '<span class="n">x</span>' in out
    assert "a&lt;b" in out and "a<b" not in out  # escaped again after highlighting
    plain = '<pre><code class="language-no-such-lang">x</code></pre>'
    assert finisher.finish(plain) == plain
