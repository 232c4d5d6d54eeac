"""Front matter splitting and strict YAML: catalogue rows FM-01 ... FM-29 (RELIABILITY.md 2b).

Line numbers are file lines: line 1 is the opening ``---``, the front matter starts on line 2.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from cssblog import frontmatter
from cssblog.errors import CssblogError
from cssblog.frontmatter import Document, decode_source, parse_document

PATH = Path("content/posts/x.md")


def parse(text: str) -> Document:
    return parse_document(text, PATH)


def parse_error(text: str) -> CssblogError:
    with pytest.raises(CssblogError) as info:
        parse_document(text, PATH)
    assert info.value.path == PATH
    return info.value


def decode_error(data: bytes) -> CssblogError:
    with pytest.raises(CssblogError) as info:
        decode_source(data, PATH)
    assert info.value.path == PATH
    return info.value


# --- the happy path: meta, key lines, body and body line ---------------------------------------


def test_simple_document_is_split_into_meta_and_body() -> None:
    doc = parse('---\ntitle: "Hello"\ndate: 2024-01-01 10:00\n---\nFirst line.\n\nSecond.\n')
    assert doc.path == PATH
    assert dict(doc.meta) == {"title": "Hello", "date": "2024-01-01 10:00"}
    assert doc.body == "First line.\n\nSecond.\n"
    assert doc.body_line == 5


def test_key_lines_are_file_lines() -> None:
    text = (
        "---\n"  # 1
        "title: T\n"  # 2
        "date: 2024-01-01\n"  # 3
        "tags:\n"  # 4
        "  - a\n"  # 5
        "  - b\n"  # 6
        "\n"  # 7
        "summary: >\n"  # 8
        "  folded\n"  # 9
        "  text\n"  # 10
        "author: Jane\n"  # 11
        "---\n"  # 12
        "Body\n"  # 13
    )
    doc = parse(text)
    assert dict(doc.key_lines) == {"title": 2, "date": 3, "tags": 4, "summary": 8, "author": 11}
    assert doc.meta["tags"] == ["a", "b"]
    assert doc.meta["summary"] == "folded text\n"
    assert doc.body_line == 13
    assert doc.body == "Body\n"


def test_line_of_absent_key_is_line_one() -> None:
    doc = parse("---\ntitle: T\n---\n")
    assert doc.line_of("title") == 2
    assert doc.line_of("date") == 1


def test_empty_front_matter_is_an_empty_mapping() -> None:
    doc = parse("---\n---\nJust a body.\n")
    assert dict(doc.meta) == {}
    assert dict(doc.key_lines) == {}
    assert doc.body == "Just a body.\n"
    assert doc.body_line == 3


def test_trailing_spaces_after_delimiters_are_accepted() -> None:
    doc = parse("---  \ntitle: T\n--- \t\nBody")
    assert dict(doc.meta) == {"title": "T"}
    assert doc.body == "Body"
    assert doc.body_line == 4


def test_error_renders_path_line_message_and_hint() -> None:
    error = parse_error("---\ntitle: a\ndate: b: c\n---\n")
    rendered = str(error)
    assert rendered.startswith(f"{PATH}:3: invalid YAML")
    assert "\n  hint: " in rendered


# --- FM-01 .. FM-06: YAML problems -------------------------------------------------------------


def test_fm01_unquoted_colon_reports_line() -> None:
    error = parse_error("---\ntitle: This thing: crashes\ndate: 2024-01-01\n---\nBody\n")
    assert error.line == 2
    assert "invalid YAML" in error.message
    assert "mapping values are not allowed" in error.message
    assert error.hint is not None
    assert "quote the value" in error.hint


def test_fm01_unquoted_colon_on_a_later_line_reports_that_line() -> None:
    text = "---\ndate: 2024-01-01\nauthor: Jane\n\ntitle: Support: the basics\n---\nBody\n"
    error = parse_error(text)
    assert error.line == 5
    assert error.hint is not None
    assert "quote" in error.hint


def test_fm02_tab_indentation_reports_line_and_hint() -> None:
    error = parse_error("---\ntitle: T\ntags:\n\t- a\n---\n")
    assert error.line == 4
    assert "invalid YAML" in error.message
    assert error.hint == "indent with spaces, not tabs"


def test_fm02_tab_before_key_reports_line() -> None:
    error = parse_error("---\ntitle: T\n\tdate: 2024-01-01\n---\n")
    assert error.line == 3
    assert error.hint == "indent with spaces, not tabs"


@pytest.mark.parametrize(
    "value",
    [
        "!!python/object/apply:os.system ['touch PWNED']",
        "!!python/object/new:os.system ['touch PWNED']",
        "!!python/name:os.system",
        "!!python/object/apply:subprocess.check_call [['touch', 'PWNED']]",
    ],
)
def test_fm03_python_tags_are_refused_and_run_nothing(
    value: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    error = parse_error(f"---\ndate: 2024-01-01\ntitle: {value}\n---\n")
    assert error.line == 3
    assert "invalid YAML" in error.message
    assert "tag" in error.message
    assert error.hint is not None
    assert "unsupported YAML tag" in error.hint
    assert not (tmp_path / "PWNED").exists()
    assert list(tmp_path.iterdir()) == []


def test_fm05_alias_is_refused_with_its_line() -> None:
    error = parse_error("---\ntitle: &t Hello\nsummary: *t\n---\n")
    assert error.line == 3
    assert "aliases" in error.message


def test_fm05_merge_key_alias_is_refused() -> None:
    error = parse_error("---\nbase: &b {a: 1}\nother:\n  <<: *b\n---\n")
    assert error.line == 4
    assert "aliases" in error.message


def test_fm05_alias_bomb_is_refused() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 9)}]")
    error = parse_error("---\n" + "\n".join(lines) + "\n---\n")
    assert error.line == 3  # the first alias, on the `b:` line
    assert "aliases" in error.message


def test_fm05_anchor_without_alias_is_harmless() -> None:
    doc = parse("---\ntitle: &t Hello\n---\n")
    assert doc.meta["title"] == "Hello"


def test_fm06_duplicate_key_names_key_and_line() -> None:
    error = parse_error("---\ntitle: A\ndate: 2024-01-01\ntitle: B\n---\n")
    assert error.line == 4
    assert "duplicate key" in error.message
    assert "'title'" in error.message


def test_fm06_duplicate_key_in_nested_mapping() -> None:
    error = parse_error("---\ntitle: T\nextra:\n  a: 1\n  a: 2\n---\n")
    assert error.line == 5
    assert "duplicate key 'a'" in error.message


def test_unhashable_key_is_a_content_error_not_a_crash() -> None:
    # A complex (list) key must be reported like any other bad YAML, with its line,
    # not escape as a TypeError that aborts the whole build.
    error = parse_error("---\ntitle: T\n? [a, b]\n: 1\n---\n")
    assert error.line == 3


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("1", "front matter key '1' is not text"),
        ("null", "front matter key 'null' is not text"),
        ("2024-01-01", "invalid YAML: front-matter keys must be plain words"),
        ("[a, b]", "invalid YAML: front-matter keys must be plain words"),
    ],
)
def test_non_text_key_is_refused(key: str, message: str) -> None:
    error = parse_error(f"---\n{key}: a\n---\n")
    assert error.message == message
    assert error.line == 2


def test_non_text_key_reports_its_own_line() -> None:
    # `on:` is the boolean True in YAML 1.1; the error quotes it as written, on line 3.
    error = parse_error("---\ntitle: T\non: push\n---\n")
    assert "'on'" in error.message
    assert "is not text" in error.message
    assert error.line == 3


def test_control_character_reports_its_line() -> None:
    error = parse_error('---\ntitle: T\ndate: 2024-01-01\nsummary: "bell \x07"\n---\n')
    assert "invalid YAML" in error.message
    assert error.line == 4


def test_unicode_line_separator_in_a_value_does_not_shift_line_numbers() -> None:
    # U+2028 inside a quoted title is one character on line 2 for every editor and for
    # parse_document's own \n-based numbering; the bad line is line 3.
    error = parse_error('---\ntitle: "one\u2028two"\nsummary: a: b\n---\n')
    assert error.line == 3


def test_yaml_document_end_marker_inside_block_is_an_error() -> None:
    error = parse_error("---\ntitle: T\n...\nother: x\n---\n")
    assert "invalid YAML" in error.message
    assert error.line is not None
    assert error.line >= 2


# --- FM-16 .. FM-20, FM-26 .. FM-28: splitting ------------------------------------------------


@pytest.mark.parametrize("text", ["", "\n", "  \n\n\t\n"])
def test_fm16_empty_file(text: str) -> None:
    error = parse_error(text)
    assert error.message == "file is empty"
    assert error.line == 1
    assert error.hint is not None
    assert "---" in error.hint


def test_fm16_empty_bytes_decode_then_fail_as_empty() -> None:
    error = parse_error(decode_source(b"", PATH))
    assert error.message == "file is empty"


@pytest.mark.parametrize("text", ["---\ntitle: T\n---\n", "---\ntitle: T\n---"])
def test_fm17_front_matter_without_body_is_fine(text: str) -> None:
    doc = parse(text)
    assert dict(doc.meta) == {"title": "T"}
    assert doc.body == ""
    assert doc.body_line == 4


def test_fm18_unclosed_front_matter() -> None:
    error = parse_error("---\ntitle: T\ndate: 2024-01-01\n\nThe body, but no closing line.\n")
    assert error.message == "front matter is not closed"
    assert error.line == 1
    assert error.hint is not None
    assert "---" in error.hint


def test_fm18_lone_opening_delimiter() -> None:
    error = parse_error("---\n")
    assert error.message == "front matter is not closed"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("---\n- title\n- date\n---\nBody\n", "list"),
        ("---\njust a sentence\n---\nBody\n", "str"),
        ("---\n42\n---\nBody\n", "int"),
    ],
)
def test_fm19_non_mapping_front_matter(text: str, kind: str) -> None:
    error = parse_error(text)
    assert error.message == f"front matter must be a mapping of keys, not a {kind}"
    assert error.line == 2
    assert error.hint is not None
    assert "key: value" in error.hint


def test_fm20_json_first_line_is_not_front_matter() -> None:
    # Decision: no JSON auto-detection; a file must start with --- or it is an error.
    error = parse_error('{"title": "Hello", "date": "2024-01-01"}\nBody\n')
    assert error.message == "file does not start with front matter"
    assert error.line == 1
    assert error.hint is not None
    assert "first line must be ---" in error.hint


def test_fm20_toml_delimiter_is_not_front_matter() -> None:
    error = parse_error('+++\ntitle = "Hello"\n+++\nBody\n')
    assert error.message == "file does not start with front matter"


@pytest.mark.parametrize("prefix", ["\n", "  \n", "\n\n", "Some text\n"])
def test_fm26_text_before_opening_delimiter_is_an_error(prefix: str) -> None:
    # Decision (as Jekyll and Hugo): `---` must be on line 1; leading blank lines are refused
    # rather than silently skipped, so every reported line number matches the file.
    error = parse_error(prefix + "---\ntitle: T\n---\nBody\n")
    assert error.message == "file does not start with front matter"
    assert error.line == 1


@pytest.mark.parametrize("closing", ["----", "...", "- - -", "--", "---x", " ---"])
def test_fm27_only_three_dashes_close_front_matter(closing: str) -> None:
    error = parse_error(f"---\ntitle: T\n{closing}\nBody\n")
    assert error.message == "front matter is not closed"
    assert error.line == 1


def test_fm27_four_dashes_open_nothing() -> None:
    error = parse_error("----\ntitle: T\n---\nBody\n")
    assert error.message == "file does not start with front matter"


def test_fm28_horizontal_rules_in_body_are_kept() -> None:
    body = "Intro\n\n---\n\nMiddle\n\n----\n\n---\nEnd\n"
    doc = parse("---\ntitle: T\ndate: 2024-01-01\n---\n" + body)
    assert dict(doc.meta) == {"title": "T", "date": date(2024, 1, 1)}
    assert doc.body == body
    assert doc.body_line == 5


def test_fm28_body_starting_with_rule() -> None:
    doc = parse("---\ntitle: T\n---\n---\nafter\n")
    assert doc.body == "---\nafter\n"
    assert doc.body_line == 4


# --- FM-21 .. FM-25, FM-29: bytes --------------------------------------------------------------

LF_SOURCE = "---\ntitle: Café\ndate: 2024-01-01\ntags:\n  - a\n---\nLine one.\n\nLine two.\n"


def test_decode_plain_utf8() -> None:
    assert decode_source(LF_SOURCE.encode(), PATH) == LF_SOURCE


def test_fm21_utf8_bom_parses_normally() -> None:
    text = decode_source(b"\xef\xbb\xbf" + LF_SOURCE.encode(), PATH)
    assert text == LF_SOURCE
    doc = parse(text)
    assert doc.meta["title"] == "Café"
    assert "\ufeff" not in doc.body
    assert doc.key_lines["title"] == 2


@pytest.mark.parametrize(
    "data",
    [
        LF_SOURCE.replace("\n", "\r\n").encode(),
        LF_SOURCE.replace("\n", "\r").encode(),
        b"\xef\xbb\xbf" + LF_SOURCE.replace("\n", "\r\n").encode(),
        # mixed: CRLF in the front matter, CR and LF in the body
        b"---\r\ntitle: Caf\xc3\xa9\r\ndate: 2024-01-01\ntags:\r  - a\r\n---\rLine one.\n\r\n"
        b"Line two.\r",
    ],
    ids=["crlf", "cr", "bom-crlf", "mixed"],
)
def test_fm22_line_endings_give_identical_meta_and_body(data: bytes) -> None:
    expected = parse(LF_SOURCE)
    text = decode_source(data, PATH)
    assert "\r" not in text
    doc = parse(text)
    assert doc.meta == expected.meta
    assert doc.key_lines == expected.key_lines
    assert doc.body == expected.body
    assert doc.body_line == expected.body_line


def test_fm22_crlf_error_line_numbers_match_lf() -> None:
    data = b"---\r\ntitle: T\r\ndate: 2024-01-01\r\nsummary: a: b\r\n---\r\n"
    error = parse_error(decode_source(data, PATH))
    assert error.line == 4


def test_fm23_latin1_bytes_name_the_line() -> None:
    data = "---\ntitle: T\ndate: 2024-01-01\nsummary: café\n---\n".encode("latin-1")
    error = decode_error(data)
    assert error.line == 4
    assert "not UTF-8" in error.message
    offset = data.index(b"\xe9")
    assert f"0xe9 at offset {offset}" in error.message
    assert error.hint is not None
    assert "UTF-8" in error.hint


def test_fm23_latin1_in_body_names_body_line() -> None:
    data = b"---\ntitle: T\n---\nok\nna\xefve\n"
    error = decode_error(data)
    assert error.line == 5


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_fm24_utf16_is_refused(encoding: str) -> None:
    bom = {"utf-16": b"", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}[encoding]
    data = bom + "---\ntitle: T\n---\n".encode(encoding)
    error = decode_error(data)
    assert error.message == "file is UTF-16"
    assert error.line == 1
    assert error.hint == "save it as UTF-8"


def test_fm25_nul_bytes_name_the_line() -> None:
    error = decode_error(b"---\ntitle: T\n---\nbody\nmore\x00binary\n")
    assert "NUL" in error.message
    assert error.line == 5
    assert error.hint is not None


def test_fm25_binary_file() -> None:
    error = decode_error(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    assert "NUL" in error.message
    assert error.line == 3  # the PNG signature holds two \n bytes before the first NUL


def test_fm29_file_over_size_limit_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(frontmatter, "MAX_SOURCE_BYTES", 64)
    data = b"---\ntitle: T\n---\n" + b"x" * 64
    error = decode_error(data)
    assert "larger than" in error.message
    assert error.hint is not None
    assert "split it up" in error.hint


def test_fm29_file_at_size_limit_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"---\ntitle: T\n---\n" + b"x" * 48
    monkeypatch.setattr(frontmatter, "MAX_SOURCE_BYTES", len(data))
    assert decode_source(data, PATH).endswith("x" * 48)


def test_fm29_default_limit_is_ten_mib() -> None:
    assert frontmatter.MAX_SOURCE_BYTES == 10 * 1024 * 1024
    error = decode_error(b"---\ntitle: T\n---\n" + b"x" * frontmatter.MAX_SOURCE_BYTES)
    assert error.message == "file is larger than 10 MiB"
