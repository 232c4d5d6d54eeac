"""Flat front matter read directly gives what the YAML parser gives."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cssblog.errors import CssblogError
from cssblog.frontmatter import _flat_yaml, _yaml

KEYS = ["title", "date", "tags", "a-b", "_x", "Title", "x1", "y"] * 3 + [
    "yes", "No", "null", "on", "k" * 128, "k" * 1025,
]  # fmt: skip
SEPARATORS = [": "] * 8 + [":  ", ":", " : ", ":\t"]
VALUES = [
    "Plain words", "It's fine", "Zoë", "a, b", "x [y]", "x {y}", "{x", "[x", "x]", "a: b", "a #b",
    "a#b", "trailing ", "trailing\u00a0", "yes", "Yes", "NO", "true", "Off", "null", "Null", "~",
    "", "1", "1.5", "0x1f", "1_000", "12:30", "2020-01-01 08:00", "2020-01-01 08:00:00",
    "2020-01-01", "2020-1-1 8:00", "2020-01-01T08:00", '"quoted"', '"a: b # c"', '"with \\" esc"',
    '"say \\u00e9"', "'single'", "'it''s'", "'open", '"open', "&anchor x", "*alias", "!tag x",
    "|", ">", "@at", "`tick", "%pct", "- item", "? key", "[]", "[a, b]", "[a,b]", "['C S', x]",
    '["a, b", c]', "[a, [b]]", "[a, {b: c}]", "[a: b]", "[yes, no]", "[1, 2]", "[ a ]", "[,]",
    "[a, ]", "[]x", "x\u2028y", "x\u0085y", "x\ufeffy", "tab\there", "x\x7fy", "é", "[é, ü]",
    "x\ud800y", "'x\udfff'",
]  # fmt: skip


def _both(block: str) -> tuple[object, object]:
    try:
        slow: object = _yaml(block, Path("f.md"), 2)
    except (CssblogError, UnicodeError) as exc:  # lone surrogates: not text YAML can read
        slow = exc
    return _flat_yaml(block, 2), slow


def _same(fast: object, slow: object) -> bool:
    """Equal, with the same types all the way down (True is not 1, a date is not text)."""
    return repr(fast) == repr(slow) and fast == slow


@settings(max_examples=2000, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(KEYS), st.sampled_from(SEPARATORS), st.sampled_from(VALUES)),
        min_size=1,
        max_size=3,
    ),
    st.sampled_from(["", "\n", "\n\n# note", "\n  - x"]),
)
def test_a_flat_block_reads_as_yaml_reads_it(lines: list[tuple[str, str, str]], end: str) -> None:
    block = "\n".join(k + s + v for k, s, v in lines) + end
    fast, slow = _both(block)
    if fast is not None:
        assert not isinstance(slow, CssblogError | UnicodeError), block
        assert _same(fast, slow), block


@pytest.mark.parametrize(
    "block",
    [
        "title: \"A post\"\ndate: 2020-01-01 08:00\ncategories: ['Customer Service']\ntags: [a]",
        "author: Reader 292\nemail: r71@example.com\ndate: 2021-10-01 17:00\nstatus: approved",
        "title: It's a plain title, with commas\nsummary: 'single quoted: with a colon'",
        "tags: []\ndraft: false",
    ],
)
def test_common_front_matter_is_read_directly(block: str) -> None:
    fast, slow = _both(block)
    if "draft: false" in block:  # a boolean is left to YAML
        assert fast is None
        return
    assert fast is not None
    assert _same(fast, slow)


@pytest.mark.parametrize(
    "block",
    [
        "title: a\ntitle: b",  # duplicate key: YAML's error, with its line
        "yes: x",  # a key YAML reads as a boolean
        "title: [a, *b]",  # an alias
        "date: 2020-01-01",  # a date
        "count: 3",
        "title: x: y",
        "title:",
        "k" * 1025 + ": v",  # YAML refuses a key this long
        "title: a\ud800",  # a lone surrogate: YAML cannot read it
    ],
)
def test_anything_else_is_left_to_yaml(block: str) -> None:
    assert _flat_yaml(block, 2) is None
