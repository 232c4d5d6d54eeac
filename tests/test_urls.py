"""URLs and output paths: slugs, routes, listings and absolute URLs (FM-30 containment)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import PurePosixPath
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cssblog import urls
from cssblog.urls import (
    MAX_SLUG,
    Route,
    absolute,
    is_valid_slug,
    listing_url,
    page_route,
    post_route,
    slugify,
)

DEFAULT_PERMALINK = "/{year}/{month}/{slug}/"
PERMALINKS = [DEFAULT_PERMALINK, "/{slug}/", "/{year}/{month}/{day}/{slug}/", "/posts/{slug}/"]
WHEN = datetime(2024, 3, 5, 9, 30, tzinfo=UTC)


# --- slugify -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Hello World", "hello-world"),
        ("Café Ops!", "cafe-ops"),
        ("Ünïcödé façade", "unicode-facade"),
        ("Straße", "strasse"),
        ("Ærø and Œuvre", "aero-and-oeuvre"),
        ("Łódź", "lodz"),
        ("Þórr", "thorr"),
        ("R&D", "r-and-d"),
        ("Q&A: tone & speed", "q-and-a-tone-and-speed"),
        ("What's new? (2024 edition)", "what-s-new-2024-edition"),
        ("  --leading and trailing--  ", "leading-and-trailing"),
        ("a -- b __ c", "a-b-c"),
        ("already-a-slug", "already-a-slug"),
        ("ﬁle", "file"),
        ("\uff26\uff35\uff2c\uff2c width", "full-width"),  # full-width FULL
        ("\U0001f600", ""),
        ("\U0001f600 \U0001f389 \u2764\ufe0f", ""),
        ("日本語", ""),
        ("", ""),
        ("!!!", ""),
        ("../../etc/passwd", "etc-passwd"),
        ("C:\\Windows\\x", "c-windows-x"),
    ],
)
def test_slugify_examples(text: str, slug: str) -> None:
    assert slugify(text) == slug


def test_slugify_caps_length_without_trailing_hyphen() -> None:
    slug = slugify("customer " * 20)
    assert len(slug) <= MAX_SLUG
    assert not slug.endswith("-")
    assert is_valid_slug(slug)
    assert slugify("a" * 200) == "a" * MAX_SLUG


def test_slugify_keeps_letters_whose_compatibility_form_is_upper_case() -> None:
    # Mathematical bold "Hello" (as pasted from social media) and black-letter H decompose
    # (NFKD) to upper-case ASCII; lower-casing before decomposing drops those letters.
    bold_hello = "\U0001d407\U0001d41e\U0001d425\U0001d425\U0001d428"
    assert slugify(bold_hello + " World") == "hello-world"
    assert slugify("\u210cello") == "hello"


# --- is_valid_slug -----------------------------------------------------------------------------


@pytest.mark.parametrize("slug", ["a", "hello", "hello-world", "2024", "a1-b2-c3", "a" * MAX_SLUG])
def test_valid_slugs(slug: str) -> None:
    assert is_valid_slug(slug)


@pytest.mark.parametrize(
    "slug",
    [
        "",
        "-",
        "-a",
        "a-",
        "a--b",
        "A",
        "Hello",
        "a_b",
        "a b",
        "a.b",
        ".",
        "..",
        "a/b",
        "../x",
        "a\\b",
        "é",
        "a\n",
        "a\x00",
        "a" * (MAX_SLUG + 1),
    ],
)
def test_invalid_slugs(slug: str) -> None:
    assert not is_valid_slug(slug)


# --- routes ------------------------------------------------------------------------------------


def test_post_route_default_permalink() -> None:
    route = post_route(DEFAULT_PERMALINK, WHEN, "hello")
    assert route == Route(url="/2024/03/hello/")
    assert route.path == PurePosixPath("2024/03/hello/index.html")


@pytest.mark.parametrize(
    ("permalink", "url", "path"),
    [
        ("/{year}/{month}/{day}/{slug}/", "/2024/03/05/hello/", "2024/03/05/hello/index.html"),
        ("/{slug}/", "/hello/", "hello/index.html"),
        ("/posts/{year}/{slug}/", "/posts/2024/hello/", "posts/2024/hello/index.html"),
        ("/{slug}/{year}/", "/hello/2024/", "hello/2024/index.html"),
    ],
)
def test_post_route_custom_permalink(permalink: str, url: str, path: str) -> None:
    route = post_route(permalink, WHEN, "hello")
    assert route.url == url
    assert route.path == PurePosixPath(path)


def test_post_route_uses_the_post_own_calendar_date() -> None:
    # 00:30 on 1 January in Paris is still 2023 in UTC; the URL follows the date as written.
    when = datetime(2024, 1, 1, 0, 30, tzinfo=ZoneInfo("Europe/Paris"))
    assert post_route(DEFAULT_PERMALINK, when, "new-year").url == "/2024/01/new-year/"


def test_post_route_pads_small_years() -> None:
    when = datetime(99, 1, 2, tzinfo=UTC)
    assert post_route("/{year}/{month}/{day}/{slug}/", when, "x").url == "/0099/01/02/x/"


def test_post_route_refuses_empty_slug() -> None:
    with pytest.raises(ValueError, match="unsafe URL"):
        post_route(DEFAULT_PERMALINK, WHEN, "")


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("/", "index.html"),
        ("/about/", "about/index.html"),
        ("/a/b/c/", "a/b/c/index.html"),
        ("/feed.xml", "feed.xml"),
        ("/comments/feed.xml", "comments/feed.xml"),
        ("/page/2/", "page/2/index.html"),
    ],
)
def test_page_route(url: str, path: str) -> None:
    route = page_route(url)
    assert route.url == url
    assert route.path == PurePosixPath(path)
    assert not route.path.is_absolute()


@pytest.mark.parametrize(
    "url",
    [
        "/../x/",
        "/..",
        "/../",
        "/a/..",
        "/a/../",
        "/a/../../b/",
        "/a/../b.html",
        "//evil.example/",
        "/a//b/",
        "//",
        "/a\\b/",
        "/\\evil/",
        "/..\\x/",
        "about/",
        "",
        "x.html",
        "../x/",
    ],
)
def test_page_route_refuses_unsafe_urls(url: str) -> None:
    with pytest.raises(ValueError, match="unsafe URL"):
        page_route(url)


# --- listing and other URLs --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "number", "url"),
    [
        ("/", 1, "/"),
        ("/", 2, "/page/2/"),
        ("/", 10, "/page/10/"),
        ("/category/customer-service/", 1, "/category/customer-service/"),
        ("/category/customer-service/", 3, "/category/customer-service/page/3/"),
        ("/tag/tone/", 2, "/tag/tone/page/2/"),
    ],
)
def test_listing_url(base: str, number: int, url: str) -> None:
    assert listing_url(base, number) == url
    assert page_route(url).url == url


def test_named_urls() -> None:
    assert urls.category_url("customer-service") == "/category/customer-service/"
    assert urls.tag_url("tone") == "/tag/tone/"
    assert urls.author_url("jane-writer") == "/author/jane-writer/"
    assert urls.year_url(2024) == "/2024/"
    assert urls.month_url(2024, 3) == "/2024/03/"
    assert urls.feed_urls("/") == ("/feed.xml", "/atom.xml")
    assert urls.feed_urls("/tag/tone/") == ("/tag/tone/feed.xml", "/tag/tone/atom.xml")
    for url in (urls.ARCHIVE_URL, urls.COMMENT_POLICY_URL, urls.COMMENTS_FEED_URL):
        assert page_route(url).url == url


# --- absolute ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base", "url", "expected"),
    [
        ("https://x.org/blog", "/a/", "https://x.org/blog/a/"),
        ("https://x.org/blog/", "/a/", "https://x.org/blog/a/"),
        ("https://x.org/blog", "/", "https://x.org/blog/"),
        ("https://x.org/blog", "/feed.xml", "https://x.org/blog/feed.xml"),
        ("https://x.org", "/a/", "https://x.org/a/"),
        ("https://x.org/", "/a/", "https://x.org/a/"),
        ("https://x.org", "/", "https://x.org/"),
        ("https://x.org/a/b", "/2024/03/x/", "https://x.org/a/b/2024/03/x/"),
        ("http://localhost:8000", "/tag/tone/", "http://localhost:8000/tag/tone/"),
        ("https://x.org/blog", "/images/a.png?v=1#top", "https://x.org/blog/images/a.png?v=1#top"),
        ("https://x.org/blog", "https://other.example/x", "https://other.example/x"),
    ],
)
def test_absolute(base: str, url: str, expected: str) -> None:
    assert absolute(base, url) == expected


@pytest.mark.parametrize("url", ["/a:b/", "/a:b.png", "/javascript:alert(1)"])
def test_absolute_keeps_a_colon_path_on_the_site(url: str) -> None:
    # A site path whose first segment holds a colon must not turn into a URL scheme.
    assert absolute("https://x.org/blog", url) == "https://x.org/blog" + url


# --- properties --------------------------------------------------------------------------------


@given(st.text())
def test_slugify_gives_empty_or_valid_slug(text: str) -> None:
    slug = slugify(text)
    assert slug == "" or is_valid_slug(slug)
    assert slugify(slug) == slug


@given(
    text=st.text(),
    when=st.datetimes(timezones=st.just(UTC)),
    permalink=st.sampled_from(PERMALINKS),
)
def test_slugified_post_route_stays_inside_output(
    text: str, when: datetime, permalink: str
) -> None:
    slug = slugify(text)
    if not slug:
        return
    route = post_route(permalink, when, slug)
    assert not route.path.is_absolute()
    assert ".." not in route.path.parts
    assert "" not in route.path.parts
    assert route.path.name == "index.html"
    assert route.path.parent.name == slug
    assert route.url == "/" + route.path.parent.as_posix() + "/"


@given(st.text(alphabet="abc-./\\%:_ \x00", max_size=12))
def test_page_route_never_escapes(raw: str) -> None:
    try:
        route = page_route("/" + raw)
    except ValueError:
        return
    assert not route.path.is_absolute()
    assert ".." not in route.path.parts
    assert "\\" not in str(route.path)
