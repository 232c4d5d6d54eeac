"""Typed posts and pages from front matter: catalogue rows FM-04 ... FM-15, FM-30 (RELIABILITY 2b).

Line numbers are file lines: line 1 is the opening ``---``, the front matter starts on line 2;
an absent key is reported on line 1.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cssblog.content import Page, Post, parse_date, read_page, read_post
from cssblog.errors import CssblogError
from cssblog.frontmatter import parse_document
from tests.conftest import post

TZ = ZoneInfo("Europe/Paris")
POSTS = Path("content/posts")
PAGES = Path("content/pages")
NAME = "2025-01-02-hello.md"
AUTHOR = "Jane Writer"


def front(*lines: str, body: str = "Body.\n") -> str:
    return "---\n" + "".join(line + "\n" for line in lines) + "---\n" + body


def read(text: str, name: str = NAME) -> tuple[Post | None, list[CssblogError]]:
    return read_post(parse_document(text, POSTS / name), TZ, AUTHOR)


def ok(text: str, name: str = NAME) -> Post:
    result, errors = read(text, name)
    assert errors == []
    assert result is not None
    return result


def errors_of(text: str, name: str = NAME) -> list[CssblogError]:
    """Every problem with a post, whether found while splitting or while typing it."""
    try:
        doc = parse_document(text, POSTS / name)
    except CssblogError as exc:
        return [exc]
    result, errors = read_post(doc, TZ, AUTHOR)
    assert result is None
    assert errors
    for error in errors:
        assert error.path == POSTS / name
    return errors


def one_error(text: str, name: str = NAME) -> CssblogError:
    errors = errors_of(text, name)
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


# --- a valid post ------------------------------------------------------------------------------


def test_full_post_is_typed() -> None:
    text = front(
        'title: "  First reply  "',
        "date: 2024-03-05 09:30",
        "updated: 2024-03-06T10:00:00+00:00",
        'slug: "first-reply"',
        "categories: [Customer Service, Tools, Customer Service]",
        "tags: tone",
        'summary: "Short."',
        "author: Sam Rivera",
        "draft: true",
        "comments: closed",
        "canonical_url: https://medium.example.com/first",
        "image: /images/a.png",
        "image_alt: A chart",
        body="Hello **world**.\n",
    )
    result = ok(text)
    assert result == Post(
        source=POSTS / NAME,
        title="First reply",
        slug="first-reply",
        date=datetime(2024, 3, 5, 9, 30, tzinfo=TZ),
        updated=datetime(2024, 3, 6, 10, 0, tzinfo=UTC),
        categories=("Customer Service", "Tools"),
        tags=("tone",),
        summary="Short.",
        author="Sam Rivera",
        draft=True,
        comments="closed",
        canonical_url="https://medium.example.com/first",
        image="/images/a.png",
        image_alt="A chart",
        body="Hello **world**.\n",
        body_line=16,
    )


def test_minimal_post_gets_defaults() -> None:
    result = ok(post("Hello", "2024-01-01"))
    assert result.title == "Hello"
    assert result.slug == "hello"
    assert result.date == datetime(2024, 1, 1, tzinfo=TZ)
    assert result.updated is None
    assert result.categories == ()
    assert result.tags == ()
    assert result.summary is None
    assert result.author == AUTHOR
    assert result.draft is False
    assert result.comments == "open"
    assert result.canonical_url is None
    assert result.image is None
    assert result.image_alt is None
    assert result.body == "Body text."
    assert result.body_line == 5


def test_author_defaults_to_default_author_and_can_be_set() -> None:
    assert ok(post("T", "2024-01-01")).author == AUTHOR
    assert ok(post("T", "2024-01-01", author="")).author == AUTHOR
    assert ok(post("T", "2024-01-01", author=" Sam Rivera ")).author == "Sam Rivera"
    doc = parse_document(post("T", "2024-01-01"), POSTS / NAME)
    result, _ = read_post(doc, TZ, "Somebody Else")
    assert result is not None
    assert result.author == "Somebody Else"


# --- every error at once -----------------------------------------------------------------------


def test_all_errors_in_one_file_are_reported_at_once() -> None:
    text = front(
        "date: yesterday",  # 2
        "titel: Hello",  # 3
    )
    errors = errors_of(text)
    found = {(e.line, e.message) for e in errors}
    assert found == {
        (1, "missing `title`"),
        (2, "invalid date 'yesterday'"),
        (3, "unknown front-matter key `titel`"),
    }
    hints = {e.message: e.hint for e in errors}
    assert hints["unknown front-matter key `titel`"] == "did you mean `title`?"
    assert hints["missing `title`"] == "add `title: ...` to the front matter"


def test_many_field_errors_are_all_reported() -> None:
    text = front(
        "title: yes",  # 2
        "date: 2024-01-01",  # 3
        'draft: "yes"',  # 4
        "comments: maybe",  # 5
        "canonical_url: javascript:alert(1)",  # 6
        "slug: ../../etc/x",  # 7
        "tags: [1, 2]",  # 8
    )
    errors = errors_of(text)
    lines = sorted(e.line or 0 for e in errors)
    assert lines == [2, 4, 5, 6, 7, 8]


# --- FM-04, FM-07 .. FM-09: text fields reject non-text YAML ------------------------------------


def test_fm04_binary_tag_for_text_field_is_an_error() -> None:
    error = one_error(front("title: !!binary aGVsbG8=", "date: 2024-01-01"))
    assert error.line == 2
    assert error.message.startswith("`title` must be text, not bytes")


def test_fm07_title_that_looks_like_a_date_suggests_quotes() -> None:
    error = one_error(front("date: 2024-01-01", "title: 2024-12-19"))
    assert error.line == 3
    assert error.message == "`title` must be text, not a date (2024-12-19)"
    assert error.hint == 'put the value in quotes: title: "2024-12-19"'


@pytest.mark.parametrize("spelling", ["yes", "no", "on", "off", "NO", "true"])
def test_fm08_title_yes_is_an_error_naming_booleans(spelling: str) -> None:
    error = one_error(front(f"title: {spelling}", "date: 2024-01-01"))
    assert error.line == 2
    assert error.message.startswith("`title` must be text, not the boolean")
    assert "yes/no/on/off" in error.message
    assert error.hint is not None
    assert error.hint.startswith("put the value in quotes")


@pytest.mark.parametrize(
    ("spelling", "description"),
    [("1.10", "float 1.1"), ("12:30:00", "int 45000"), ("010", "int 8"), ("1e3", "str")],
)
def test_fm09_number_like_title_is_an_error(spelling: str, description: str) -> None:
    text = front(f"title: {spelling}", "date: 2024-01-01")
    if description == "str":  # PyYAML reads 1e3 (no dot) as text: fine as a title
        assert ok(text).title == spelling
        return
    error = one_error(text)
    assert error.line == 2
    assert error.message == f"`title` must be text, not {description}"


@pytest.mark.parametrize("spelling", ["2024-12-19", "yes", "off", "1.10", "12:30:00", "010"])
def test_fm07_fm08_fm09_quote_hint_repeats_what_was_written(spelling: str) -> None:
    # The hint must tell the writer to quote the value they typed, not YAML's reading of it:
    # `title: 1.10` -> title: "1.10" (not "1.1"), `title: yes` -> title: "yes" (not "True").
    error = one_error(front(f"title: {spelling}", "date: 2024-01-01"))
    assert error.hint == f'put the value in quotes: title: "{spelling}"'


def test_summary_and_image_alt_must_be_text() -> None:
    errors = errors_of(front("title: T", "date: 2024-01-01", "summary: 12", "image_alt: [a]"))
    assert {(e.line, e.message) for e in errors} == {
        (4, "`summary` must be text, not int 12"),
        (5, "`image_alt` must be text, not list ['a']"),
    }


# --- FM-10 .. FM-12: dates ---------------------------------------------------------------------


@pytest.mark.parametrize("value", ["yesterday", "31/12/2024", "2024-1-1 25:00", "'2024-13-45'"])
def test_fm10_unparseable_dates(value: str) -> None:
    error = one_error(front("title: T", f"date: {value}"))
    assert error.line == 3
    assert error.message == f"invalid date {value.strip(chr(39))!r}"
    assert error.hint == "use YYYY-MM-DD, YYYY-MM-DD HH:MM[:SS], or ISO 8601 with an offset"


@pytest.mark.parametrize("value", ["2024-13-45", "2024-02-30", "2023-02-29 10:00:00"])
def test_fm10_impossible_unquoted_dates_are_content_errors(value: str) -> None:
    # YAML's timestamp resolver matches these and datetime() raises ValueError while the
    # front matter is loaded: it must come back as a CssblogError on the date line,
    # not crash the build.
    error = one_error(front("title: T", f"date: {value}"))
    assert error.line == 3


@pytest.mark.parametrize("value", ["12:30:00", "true", "[2024, 1, 1]", "{y: 2024}", "20240101"])
def test_fm10_non_date_scalars(value: str) -> None:
    error = one_error(front("title: T", f"date: {value}"))
    assert error.line == 3
    assert error.message.startswith("invalid date ")


def test_fm10_bad_updated_is_reported_on_its_line() -> None:
    error = one_error(front("title: T", "date: 2024-01-01", "updated: soon"))
    assert error.line == 4
    assert error.message == "invalid updated 'soon'"


def test_fm11_date_without_seconds_is_parsed_in_site_timezone() -> None:
    text = front("title: T", "date: 2024-01-01 10:00")
    assert parse_document(text, POSTS / NAME).meta["date"] == "2024-01-01 10:00"  # YAML: a str
    result = ok(text)
    assert result.date == datetime(2024, 1, 1, 10, 0, tzinfo=TZ)
    assert result.date.utcoffset() == timedelta(hours=1)
    assert result.date.astimezone(UTC) == datetime(2024, 1, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected_utc"),
    [
        ("2024-07-01", datetime(2024, 6, 30, 22, 0, tzinfo=UTC)),  # CEST, +02:00
        ("2024-01-15", datetime(2024, 1, 14, 23, 0, tzinfo=UTC)),  # CET, +01:00
        ("2024-07-01 10:00:00", datetime(2024, 7, 1, 8, 0, tzinfo=UTC)),
        ("2024-07-01T10:00:00", datetime(2024, 7, 1, 8, 0, tzinfo=UTC)),
        ("2024-07-01 10:00", datetime(2024, 7, 1, 8, 0, tzinfo=UTC)),
        ("'2024-07-01 10:00:00'", datetime(2024, 7, 1, 8, 0, tzinfo=UTC)),
    ],
)
def test_fm12_naive_dates_use_site_timezone(value: str, expected_utc: datetime) -> None:
    result = ok(front("title: T", f"date: {value}"))
    assert result.date.tzinfo is TZ
    assert result.date == expected_utc


@pytest.mark.parametrize(
    ("value", "offset"),
    [
        ("2024-07-01T10:00:00+05:30", timedelta(hours=5, minutes=30)),
        ("2024-07-01 10:00:00 -04:00", timedelta(hours=-4)),
        ("2024-07-01T10:00:00Z", timedelta(0)),
        ("'2024-07-01T10:00+05:30'", timedelta(hours=5, minutes=30)),
        ("'2024-07-01T10:00Z'", timedelta(0)),
    ],
)
def test_fm12_explicit_offsets_are_kept(value: str, offset: timedelta) -> None:
    result = ok(front("title: T", f"date: {value}"))
    assert result.date.utcoffset() == offset
    assert result.date.replace(tzinfo=None) == datetime(2024, 7, 1, 10, 0)  # noqa: DTZ001


def _by_strptime(text: str) -> datetime | None:
    """What the date formats give, tried in turn the slow way (None: none of them)."""
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), fmt).replace(tzinfo=TZ)
        except ValueError:
            continue
    return None


TWO_DIGITS = st.integers(0, 99)


@settings(max_examples=400)
@given(
    st.tuples(
        st.integers(0, 10000), st.integers(0, 99), st.integers(0, 99),
        st.none() | st.tuples(TWO_DIGITS, TWO_DIGITS, st.none() | TWO_DIGITS),
    ),
    st.sampled_from(["", " ", "\n"]),
)  # fmt: skip
def test_a_plain_date_is_read_as_strptime_reads_it(
    parts: tuple[int, int, int, tuple[int, int, int | None] | None], around: str
) -> None:
    year, month, day, clock = parts
    text = f"{year:04d}-{month:02d}-{day:02d}"
    if clock is not None:
        text += f" {clock[0]:02d}:{clock[1]:02d}" + (
            f":{clock[2]:02d}" if clock[2] is not None else ""
        )
    expected = _by_strptime(text)
    if expected is None:
        with pytest.raises(ValueError):
            parse_date(around + text + around, TZ)
    else:
        got = parse_date(around + text + around, TZ)
        assert (got, got.tzinfo, got.fold) == (expected, expected.tzinfo, expected.fold)


def test_one_digit_fields_are_still_read() -> None:
    assert parse_date("2024-7-1 9:05", TZ) == datetime(2024, 7, 1, 9, 5, tzinfo=TZ)


def test_parse_date_directly() -> None:
    naive = datetime(2024, 7, 1, 10, 0)  # noqa: DTZ001
    assert parse_date(naive, TZ) == datetime(2024, 7, 1, 10, 0, tzinfo=TZ)
    aware = datetime(2024, 7, 1, 10, 0, tzinfo=timezone(timedelta(hours=3)))
    assert parse_date(aware, TZ) is aware
    assert parse_date(date(2024, 7, 1), TZ) == datetime(2024, 7, 1, tzinfo=TZ)
    assert parse_date(" 2024-07-01 10:00 ", TZ) == datetime(2024, 7, 1, 10, 0, tzinfo=TZ)
    assert parse_date("2024-07-01T10:00:00Z", TZ) == datetime(2024, 7, 1, 10, 0, tzinfo=UTC)
    for bad in ("tomorrow", "", 45000, True, None, ["2024-07-01"]):
        with pytest.raises(ValueError):
            parse_date(bad, TZ)


def test_missing_date() -> None:
    error = one_error(front("title: T"))
    assert error.message == "missing `date`"
    assert error.line == 1
    assert error.hint is not None
    assert "date: " in error.hint


# --- FM-14: categories and tags ----------------------------------------------------------------


def test_fm14_string_is_one_category_without_comma_split() -> None:
    result = ok(front("title: T", "date: 2024-01-01", "categories: python, web", "tags: a,b"))
    assert result.categories == ("python, web",)
    assert result.tags == ("a,b",)


def test_fm14_null_and_empty_list_are_no_categories() -> None:
    result = ok(front("title: T", "date: 2024-01-01", "categories:", "tags: []"))
    assert result.categories == ()
    assert result.tags == ()


def test_fm14_list_is_stripped_and_deduplicated_in_order() -> None:
    text = front("title: T", "date: 2024-01-01", "tags: [' b ', a, b, 'a']")
    assert ok(text).tags == ("b", "a")


@pytest.mark.parametrize(
    "value", ["[1, 2]", "[python, 2]", "{a: b}", "42", "true", "['']", "''", "[[a]]", "[null]"]
)
def test_fm14_non_text_categories_are_errors(value: str) -> None:
    error = one_error(front("title: T", "date: 2024-01-01", f"categories: {value}"))
    assert error.line == 4
    assert error.message == "`categories` must be a list of names or one name"
    assert error.hint == 'e.g. categories: ["Customer Service", "Tools"]'


def test_fm14_bad_tags_name_tags() -> None:
    error = one_error(front("title: T", "date: 2024-01-01", "tags: [1]"))
    assert error.message == "`tags` must be a list of names or one name"
    assert error.line == 4


# --- FM-15: title ------------------------------------------------------------------------------


def test_fm15_missing_title() -> None:
    error = one_error(front("date: 2024-01-01"))
    assert error.message == "missing `title`"
    assert error.line == 1
    assert error.hint == "add `title: ...` to the front matter"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "missing `title`"),
        ("~", "missing `title`"),
        ("''", "`title` is empty"),
        ('"   "', "`title` is empty"),
    ],
)
def test_fm15_null_or_blank_title(value: str, message: str) -> None:
    error = one_error(front(f"title: {value}", "date: 2024-01-01"))
    assert error.message == message
    assert error.line == 2


# --- FM-30: slugs ------------------------------------------------------------------------------

UNSAFE_SLUGS = [
    "../../etc/x",
    "..%2f..%2fx",
    "/etc/passwd",
    "C:\\x",
    "\\\\host\\share",
    "a/../../b",
    ".",
    "..",
    "NUL",
    "CON",
    "x.",
    "x-",
    "-x",
    "a--b",
    "x\x00",
    "a" * 300,
    "a" * 81,
    "Hello",
    "héllo",
    "a b",
    "a_b",
    "",
]


@pytest.mark.parametrize("slug", UNSAFE_SLUGS)
def test_fm30_unsafe_slugs_are_rejected(slug: str) -> None:
    error = one_error(front("title: T", "date: 2024-01-01", f"slug: {json.dumps(slug)}"))
    assert error.line == 4
    assert error.message == f"invalid slug {slug!r}"
    assert error.hint is not None
    assert error.hint.startswith("use lower-case letters, digits and hyphens")


def test_fm30_slug_hint_suggests_a_valid_slug() -> None:
    error = one_error(front("title: T", "date: 2024-01-01", "slug: My Post!"))
    assert error.hint == "use lower-case letters, digits and hyphens, e.g. 'my-post'"


def test_fm30_non_text_slug_is_an_error() -> None:
    error = one_error(front("title: T", "date: 2024-01-01", "slug: 2024"))
    assert error.line == 4
    assert error.message == "`slug` must be text, not int 2024"


@pytest.mark.parametrize("slug", ["my-post", "a", "2024-review", "a" * 80, " padded "])
def test_explicit_valid_slug_is_used(slug: str) -> None:
    result = ok(front("title: T", "date: 2024-01-01", f"slug: {json.dumps(slug)}"))
    assert result.slug == slug.strip()


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("2025-01-02-Hello World.md", "hello-world"),
        ("2025-01-02-hello.md", "hello"),
        ("Café Ops!.md", "cafe-ops"),
        ("2025-01-02.md", "2025-01-02"),  # only a date followed by a hyphen is stripped
        ("2025-01-02-2026-03-04-x.md", "2026-03-04-x"),  # stripped once
        ("no-date.md", "no-date"),
    ],
)
def test_slug_defaults_from_file_name_without_leading_date(name: str, slug: str) -> None:
    assert ok(post("T", "2024-01-01"), name=name).slug == slug


def test_file_name_without_slug_material_is_an_error() -> None:
    error = one_error(post("T", "2024-01-01"), name="2025-01-02-\U0001f600.md")
    assert error.message == "cannot make a URL slug from the file name '2025-01-02-\U0001f600'"
    assert error.line == 1
    assert error.hint == "add `slug: some-words` to the front matter"


def test_explicit_slug_rescues_unusable_file_name() -> None:
    text = front("title: T", "date: 2024-01-01", "slug: smile")
    assert ok(text, name="\U0001f600.md").slug == "smile"


# --- flags, enums, URLs, unknown keys ----------------------------------------------------------


@pytest.mark.parametrize("value", ['"yes"', '"true"', "1", "0", "null", "[true]", "maybe"])
def test_draft_must_be_a_real_boolean(value: str) -> None:
    error = one_error(front("title: T", "date: 2024-01-01", f"draft: {value}"))
    assert error.line == 4
    assert error.message.startswith("`draft` must be true or false, not ")


def test_draft_true_and_false() -> None:
    assert ok(front("title: T", "date: 2024-01-01", "draft: true")).draft is True
    assert ok(front("title: T", "date: 2024-01-01", "draft: false")).draft is False


@pytest.mark.parametrize("value", ["maybe", "Open", "false", "null", "1"])
def test_comments_must_be_open_closed_or_hidden(value: str) -> None:
    error = one_error(front("title: T", "date: 2024-01-01", f"comments: {value}"))
    assert error.line == 4
    assert error.message.startswith("`comments` must be open, closed or hidden, not ")


@pytest.mark.parametrize("value", ["open", "closed", "hidden"])
def test_comments_modes(value: str) -> None:
    assert ok(front("title: T", "date: 2024-01-01", f"comments: {value}")).comments == value


@pytest.mark.parametrize(
    "value",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<b>x</b>",
        "ftp://example.org/x",
        "example.org/x",
        "'https://example.org/a b'",
        "'/a\"b'",
        "'https://example.org/<x>'",
        "mailto:a@example.org",
    ],
)
def test_canonical_url_and_image_must_be_http_or_path(value: str) -> None:
    errors = errors_of(
        front("title: T", "date: 2024-01-01", f"canonical_url: {value}", f"image: {value}")
    )
    assert [(e.line, e.message) for e in errors] == [
        (4, "`canonical_url` must be an http(s) URL or a path starting with /"),
        (5, "`image` must be an http(s) URL or a path starting with /"),
    ]


@pytest.mark.parametrize(
    "value", ["https://example.org/a", "http://example.org", "/images/a.png", "/"]
)
def test_canonical_url_and_image_accept_http_and_paths(value: str) -> None:
    result = ok(front("title: T", "date: 2024-01-01", f"canonical_url: {value}", f"image: {value}"))
    assert result.canonical_url == value
    assert result.image == value


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        ("titel", "did you mean `title`?"),
        ("tag", "did you mean `tags`?"),
        ("category", "did you mean `categories`?"),
        ("Date", "did you mean `date`?"),
        ("canonical", "did you mean `canonical_url`?"),
    ],
)
def test_unknown_key_suggests_closest(key: str, hint: str) -> None:
    error = one_error(front("title: T", "date: 2024-01-01", f"{key}: x"))
    assert error.line == 4
    assert error.message == f"unknown front-matter key `{key}`"
    assert error.hint == hint


def test_unknown_key_without_close_match_lists_allowed_keys() -> None:
    error = one_error(front("title: T", "date: 2024-01-01", "zzzzzz: x"))
    assert error.hint is not None
    assert error.hint.startswith("allowed: author, canonical_url, categories, comments")


# --- pages -------------------------------------------------------------------------------------


def read_a_page(text: str, name: str = "about.md") -> tuple[Page | None, list[CssblogError]]:
    return read_page(parse_document(text, PAGES / name), TZ)


def test_page_is_typed() -> None:
    text = front(
        "title: About us",
        "summary: Who we are.",
        "canonical_url: https://example.org/about",
        "image: /img/team.jpg",
        "image_alt: The team",
        body="We answer.\n",
    )
    page, errors = read_a_page(text)
    assert errors == []
    assert page == Page(
        source=PAGES / "about.md",
        title="About us",
        slug="about",
        summary="Who we are.",
        draft=False,
        canonical_url="https://example.org/about",
        image="/img/team.jpg",
        image_alt="The team",
        body="We answer.\n",
        body_line=8,
    )


def test_page_needs_no_date() -> None:
    page, errors = read_a_page(front("title: Contact"), name="Contact Us.md")
    assert errors == []
    assert page is not None
    assert page.slug == "contact-us"


def test_page_errors_are_all_reported() -> None:
    text = front(
        "comments: open",  # 2
        "draft: no thanks",  # 3
        "slug: ../x",  # 4
        "image: javascript:x",  # 5
    )
    page, errors = read_a_page(text)
    assert page is None
    assert sorted((e.line, e.message) for e in errors) == [
        (1, "missing `title`"),
        (2, "unknown front-matter key `comments`"),
        (3, "`draft` must be true or false, not 'no thanks'"),
        (4, "invalid slug '../x'"),
        (5, "`image` must be an http(s) URL or a path starting with /"),
    ]
    assert all(e.path == PAGES / "about.md" for e in errors)
