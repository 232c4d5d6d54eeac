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
        # Raw tags in any case, with attributes on other lines, or closed with stray slashes.
        ('<PRE\nclass="x">"a"</PRE> "b"', '<PRE\nclass="x">"a"</PRE> \u201cb\u201d'),
        (
            "<script>'a'</script ><style>--</style>'b'",
            "<script>'a'</script ><style>--</style>\u2018b\u2019",
        ),
        ("<presto>'a'</presto>", "<presto>\u2018a\u2019</presto>"),  # not <pre>
        # A quote is decided by what comes before it, across tags.
        ("<p>(<em>'x'</em>)</p>", "<p>(<em>\u2018x\u2019</em>)</p>"),
        ("<p>a<em>'x'</em></p>", "<p>a<em>\u2019x\u2019</em></p>"),
        ("<p>'</p><p>' 9</p>", "<p>\u2019</p><p>\u2019 9</p>"),
        # A "<" never closed is read as a tag, and nothing around it breaks.
        ('<p>"a"</p>< ', "<p>\u201ca\u201d</p>< "),
        ("<p>x</p><code 'y'", "<p>x</p><code 'y'"),
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
