"""Markdown conversion: the quick inline processor and the guarded block processors give
exactly the stock processors' HTML."""

from __future__ import annotations

import importlib.util
import random
import re
from pathlib import Path, PurePosixPath

import markdown
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown.inlinepatterns import SimpleTagInlineProcessor
from markdown.preprocessors import NormalizeWhitespace
from markdown.treeprocessors import InlineProcessor

from cssblog import markup
from cssblog.markup import MarkdownRenderer, RenderedMarkdown

ROOT = Path(__file__).parent.parent
SOURCE = PurePosixPath("posts/hello.md")
LINKS = {"posts/other.md": "/2024/01/other/"}

# Pieces of Markdown that meet every inline pattern, its edge cases and its near misses.
PIECES = [
    "word", "two words", " ", "  \n", "\n", "\n\n", "\\", "\\*", "\\`", "\\\\`x`", "`code`",
    "``a ` b``", "*em*", "**strong**", "***both***", "_em_", "__strong__", "snake_case_name",
    " * ", "[link](https://example.org)", "[ref][r]", "[r]", "[other](other.md)",
    "![alt](/i.png)", "![img][r]", "![r]", "[^1]", "[^missing]", "<https://example.org/a>",
    "<me@example.org>", "<span>", "</span>", "<b>bold</b>", "<!-- note -->", "<?php ?>",
    "<![CDATA[x]]>", "&amp;", "&#169;", "&#x1F600;", "&nope", "a < b", "a & b", "!", "[", "]",
    "(", ")", "'quoted'", '"double"', "--", "...", "{: .cls }", "HTML", "*[HTML]: Hyper",
    "{", "}", "&#123;", "\\{", "{: #id }", "[TOC]", "\t", "\r\n", "\r", " \n", "~~~",
    "```", "\x02", "\x03", "\x0212\x03", "[o](other\\.md)", "[o](other&#46;md)", ".md",
    "[o](/posts/other.md#part)", "![i](other.md)", "[o][md]", "other.md",
    "[TO\x02C]", "[T\x03OC]", "[o](other.\x02md)", "![i](other.\x03md)", "[o](other.\nmd)",
    "[o](<other.\nmd>)", "[o](other.m\rd)", "[o](other.m\td)", "[x](missing.\r\nmd)",
]  # fmt: skip
BLOCKS = [
    "", "# Heading\n", "## Sub *heading*\n", "- item\n- item\n", "1. one\n2. two\n", "> quote\n",
    "    indented code\n", "```python\nx = 'a<b' * 2\n```\n", "| a | b |\n|---|:-:|\n| 1 | 2 |\n",
    "[r]: https://example.org/ref\n", "[^1]: A note with *emphasis*.\n",
    "*[HTML]: Hyper Text\n", "Term\n: Definition\n", "<div markdown=\"1\">*in html*</div>\n",
    "---\n", "* * *\n", "___\n", "- - -\n", "--\n", "Title\n=====\n", "Title\n---\n",
    "Text\n# Heading in a paragraph\n", "> > nested\n> quote\n", "Term\n:   Indented definition\n",
    "[r2]: <https://example.org/2> \"Title\"\n", "[r3]: /three (Three)\n",
    "text [^2]\n\n[^2]: Two.\n",
    "a: b\n", "x]: y\n", "#hashtag\n", "1 > 0\n",
    "[TOC]\n", " [TOC] \n", "~~~\ncode { }\n~~~\n", "\tcode after a tab\n", "   \n",
    "# Heading {: #custom }\n", "<div markdown=\"1\">\n[TOC]\n\n*x* {: .y }\n</div>\n",
    "- item\n{: .list }\n", "Para\r\nwith CRLF\r\n", "[md]: other.md\n",
]  # fmt: skip


GUARDS = (markup._Guarded, markup._GuardedLines, markup._GuardedTree, markup._QuickToc)


def _stock() -> MarkdownRenderer:
    """The house converter with Python-Markdown's own inline, block, pre- and tree processors
    put back."""
    renderer = MarkdownRenderer()
    md = renderer._md
    md.treeprocessors.register(InlineProcessor(md), "inline", 20)
    md.preprocessors.register(NormalizeWhitespace(md), "normalize_whitespace", 30)
    md.preprocessors.deregister("cssblog_source")
    for registry in (md.parser.blockprocessors, md.preprocessors, md.treeprocessors):
        for item in list(registry._priority):
            if isinstance(registry[item.name], GUARDS):
                registry.register(registry[item.name].processor, item.name, item.priority)
    renderer._links = markup._SourceLinks(md)  # knowing no text: it walks every tree
    md.treeprocessors.register(renderer._links, "source_links", 1)
    return renderer


def _render(renderer: MarkdownRenderer, text: str) -> RenderedMarkdown:
    return renderer.render(text, source=SOURCE, body_line=5, links=LINKS)


QUICK, STOCK = MarkdownRenderer(), _stock()


def test_the_quick_processor_is_the_one_in_use() -> None:
    md = MarkdownRenderer()._md
    assert isinstance(md.treeprocessors["inline"], markup._QuickInline)
    # Every stock pattern of the house extensions has its needed strings known.
    assert all(p.pattern in markup._NEEDS for p in md.inlinePatterns)
    # So has each block processor that searches every block: all are guarded.
    guarded = {name for name, _ in markup._BLOCK_NEEDS}
    assert {n for n in guarded if isinstance(md.parser.blockprocessors[n], markup._Guarded)} == (
        guarded
    )
    assert not any(isinstance(p, markup._Guarded) for p in _stock()._md.parser.blockprocessors)
    # So has each preprocessor and tree processor that has nothing to do on most texts.
    assert type(md.preprocessors["normalize_whitespace"]) is markup._QuickWhitespace
    assert isinstance(md.treeprocessors["toc"], markup._QuickToc)
    for registry, needs in (
        (md.preprocessors, markup._PRE_NEEDS),
        (md.treeprocessors, markup._TREE_NEEDS),
    ):
        assert all(isinstance(registry[name], GUARDS) for name, _ in needs), needs
    # The guards' text is kept right after the normaliser, which drops STX and ETX.
    assert [type(p) for p in md.preprocessors][:2] == [markup._QuickWhitespace, markup._Source]
    assert md.treeprocessors["unescape"].RE is STOCK._md.treeprocessors["unescape"].RE
    # In Python-Markdown's own order: a guard took its processor's place, even among equals.
    plain = markdown.Markdown(extensions=["extra", "toc", "sane_lists"]).parser.blockprocessors
    assert [type(getattr(p, "processor", p)) for p in md.parser.blockprocessors] == [
        type(p) for p in plain
    ]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(BLOCKS), st.lists(st.sampled_from(PIECES), max_size=12)),
        min_size=1,
        max_size=6,
    )
)
def test_same_html_as_the_stock_processor(parts: list[tuple[str, list[str]]]) -> None:
    text = "\n".join(block + "".join(pieces) + "\n" for block, pieces in parts)
    assert _render(QUICK, text) == _render(STOCK, text)


def test_same_html_for_the_benchmark_corpus_and_the_sample_site() -> None:
    spec = importlib.util.spec_from_file_location("corpus", ROOT / "benchmarks" / "corpus.py")
    assert spec is not None and spec.loader is not None
    corpus = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(corpus)
    rng = random.Random(7)
    texts = [corpus.body(rng, i, 60) for i in range(60)]
    texts += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "content").rglob("*.md"))]
    assert len(texts) > 60
    for text in texts:
        assert _render(QUICK, text) == _render(STOCK, text)
    assert QUICK.render_inline("A *short* [bio](https://e.org) &amp; more") == (
        STOCK.render_inline("A *short* [bio](https://e.org) &amp; more")
    )


@pytest.mark.parametrize(
    "text",
    [
        "[TO\x02C]\n\n# H\n",  # the normaliser drops STX and ETX: a marker after all
        "x\n\n[T\x03OC]\n\n## a\n",
        "[other](other.\x02md)",
        "![i](other.\x02md)",
        "[x](missing.\x02md)",
        "[o](other.\nmd)",  # urlsplit drops line breaks from an address
        "[o](<other.\nmd>)",
        "[o](other.m\rd)",
        "![i](<other.\nmd> 't')",
        "[o](missing.\r\nmd)",
    ],
)
def test_markers_and_addresses_split_by_what_is_dropped_are_found(text: str) -> None:
    assert _render(QUICK, text) == _render(STOCK, text)
    assert QUICK.render_inline(text) == STOCK.render_inline(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="`\\[]^!<>&*_ \n:/@.-#x0aZ;\"'=?(){}", max_size=30))
def test_a_text_without_a_patterns_needed_strings_never_matches_it(text: str) -> None:
    for pattern, needs in markup._NEEDS.items():
        if not any(n in text for n in needs):
            assert re.compile(pattern, re.DOTALL | re.UNICODE).search(text) is None, pattern


def _block_expressions() -> list[tuple[str, re.Pattern[str]]]:
    """Each guarded block processor's name and its regular expression, as it searches."""
    found = []
    for processor in _stock()._md.parser.blockprocessors:
        regex = getattr(processor, "SEARCH_RE", getattr(processor, "RE", None))
        for (name, pattern), _ in markup._BLOCK_NEEDS.items():
            if isinstance(regex, re.Pattern) and regex.pattern == pattern:
                found.append((name, regex))
    return found


BLOCK_EXPRESSIONS = _block_expressions()


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="#=-_*: \n>[]^\\'\"()<x0.a", max_size=40))
def test_a_block_without_a_processors_needed_strings_never_matches_it(text: str) -> None:
    assert len(BLOCK_EXPRESSIONS) == len(markup._BLOCK_NEEDS)
    for name, regex in BLOCK_EXPRESSIONS:
        needs = next(v for (n, _), v in markup._BLOCK_NEEDS.items() if n == name)
        if not any(n in text for n in needs):
            assert regex.search(text) is None, name


def test_a_pattern_it_does_not_know_is_always_tried() -> None:
    renderer = MarkdownRenderer()
    md: markdown.Markdown = renderer._md
    md.inlinePatterns.register(SimpleTagInlineProcessor(r"()~~(.+?)~~", "del"), "strike", 55)
    out = _render(renderer, "Some ~~old~~ text and `~~code~~`.")
    assert "<del>old</del>" in out.html
    assert "<code>~~code~~</code>" in out.html


def test_the_stock_processor_stays_where_the_quick_one_may_not_fit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with monkeypatch.context() as patched:
        patched.setattr(markdown, "__version_info__", (4, 0, 0, "final", 0))
        assert type(MarkdownRenderer()._md.treeprocessors["inline"]) is InlineProcessor
        md = MarkdownRenderer()._md
        assert not any(isinstance(p, markup._Guarded) for p in md.parser.blockprocessors)
        assert not any(isinstance(p, GUARDS) for p in (*md.preprocessors, *md.treeprocessors))
        assert type(md.preprocessors["normalize_whitespace"]) is NormalizeWhitespace
    with monkeypatch.context() as patched:
        patched.delattr(InlineProcessor, "_InlineProcessor__applyPattern")
        assert type(MarkdownRenderer()._md.treeprocessors["inline"]) is InlineProcessor
    assert type(MarkdownRenderer()._md.treeprocessors["inline"]) is markup._QuickInline


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab \t\r\n\x02\x03\u00a0\u2028", max_size=40))
def test_the_quick_whitespace_normaliser_is_the_stock_one(text: str) -> None:
    md = MarkdownRenderer()._md
    lines = text.split("\n")
    assert markup._QuickWhitespace(md).run(lines) == NormalizeWhitespace(md).run(lines)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="`~<>&;#=/\"' \nabcdiv-!?[]*{}:1\x02\x03", max_size=60))
def test_lines_without_a_preprocessors_needed_strings_come_back_unchanged(text: str) -> None:
    """What a guarded preprocessor assumes of the one it stands for, on any lines."""
    lines = text.split("\n")
    for item in STOCK._md.preprocessors._priority:
        processor = STOCK._md.preprocessors[item.name]
        needs = markup._PRE_NEEDS.get((item.name, markup._qualified(processor)))
        if needs is not None and not any(n in text for n in needs):
            STOCK._md.reset()
            assert processor.run(list(lines)) == lines, item.name


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from([*"aZ9_ -'\u2019.,\t\n\x1c\x1f<>/&;é", "<b>", "</p>", "&rsquo;", "ü"])
    ).map("".join)
)
def test_word_count_is_the_count_of_word_runs_in_the_text(html: str) -> None:
    """The quick count (ASCII texts) and the expression (the rest) agree on every text."""
    text = re.sub(r"<[^>]+>", " ", html)
    assert markup._word_count(html) == len(re.findall(r"\w+", text))


def test_word_count_counts_words_outside_tags() -> None:
    assert markup._word_count("<p>Don't wait: reply_now, in 2 hours.</p>") == 7
    assert markup._word_count('<p class="x">Café au lait</p><pre>a-b</pre>') == 5
