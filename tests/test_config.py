"""``cssblog.toml``: defaults, every error at once with its line, and suggestions."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from cssblog.config import (
    AuthorSection,
    CommentsSection,
    CustomerServiceSection,
    IntakeSection,
    SiteConfig,
    SiteSection,
    load_config,
)
from cssblog.errors import ConfigError, CssblogError
from cssblog.urls import post_route
from tests.conftest import BASE_CONFIG

MINIMAL = '[site]\nurl = "https://blog.example.org"\n'


def write(root: Path, text: str | bytes) -> Path:
    path = root / "cssblog.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


def load(root: Path, text: str | bytes) -> SiteConfig:
    return load_config(write(root, text))


def problems(root: Path, text: str | bytes) -> tuple[CssblogError, ...]:
    with pytest.raises(ConfigError) as info:
        load(root, text)
    errors = info.value.errors
    assert isinstance(errors, tuple)
    assert errors
    for error in errors:
        assert isinstance(error, CssblogError)
        assert error.path == root / "cssblog.toml"
    return errors


def problem(root: Path, text: str | bytes) -> CssblogError:
    errors = problems(root, text)
    assert len(errors) == 1, [str(e) for e in errors]
    return errors[0]


# --- valid configurations ----------------------------------------------------------------------


def test_minimal_config_gets_documented_defaults(tmp_path: Path) -> None:
    config = load(tmp_path, MINIMAL)
    assert config.root == tmp_path
    assert config.site == SiteSection(
        url="https://blog.example.org",
        title="My Blog",
        description="",
        author="",
        language="en",
        timezone="UTC",
        theme="default",
        permalink="/{year}/{month}/{slug}/",
        posts_per_page=10,
        feed_entries=20,
    )
    assert config.customer_service == CustomerServiceSection(
        category="Customer Service", description=""
    )
    assert config.authors == ()
    assert config.comments == CommentsSection(
        enabled=True,
        policy="",
        moderation="first-time",
        require_name=True,
        blocked_names=("anonymous",),
        blocked_words=(),
        max_links=2,
        max_depth=4,
        close_after_days=0,
        reply_within_hours=48,
        duplicate_threshold=0.9,
        intake_url="",
    )
    assert config.tz == ZoneInfo("UTC")


def test_base_config_of_the_test_suite_loads(tmp_path: Path) -> None:
    config = load(tmp_path, BASE_CONFIG)
    assert config.site.title == "Test Blog"
    assert config.site.posts_per_page == 2
    assert config.customer_service.description == "Posts about *answering* people."
    assert config.authors == (
        AuthorSection(
            name="Jane Writer", email="jane@example.org", bio="Jane runs a **support** team."
        ),
    )


def test_every_field_can_be_set(tmp_path: Path) -> None:
    config = load(
        tmp_path,
        """\
        [site]
        url = "http://localhost:8000/blog/"
        title = "T"
        description = "D"
        author = "A"
        language = "fr"
        timezone = "Europe/Paris"
        theme = "mine"
        permalink = "/posts/{year}/{month}/{day}/{slug}/"
        posts_per_page = 1
        feed_entries = 1

        [customer_service]
        category = "Support"
        description = "About support."

        [comments]
        enabled = false
        policy = "Be kind."
        moderation = "all"
        require_name = false
        blocked_names = []
        blocked_words = ["spam", "casino"]
        max_links = 0
        max_depth = 1
        close_after_days = 30
        reply_within_hours = 24
        duplicate_threshold = 1
        intake_url = "https://intake.example.org/comments"
        """,
    )
    assert config.site.timezone == "Europe/Paris"
    assert config.tz == ZoneInfo("Europe/Paris")
    assert config.site.permalink == "/posts/{year}/{month}/{day}/{slug}/"
    assert config.customer_service.category == "Support"
    assert config.comments.moderation == "all"
    assert config.comments.blocked_names == ()
    assert config.comments.blocked_words == ("spam", "casino")
    assert config.comments.duplicate_threshold == 1.0
    assert isinstance(config.comments.duplicate_threshold, float)
    assert config.comments.max_links == 0


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    config = load(tmp_path, b"\xef\xbb\xbf" + MINIMAL.encode())
    assert config.site.url == "https://blog.example.org"


@pytest.mark.parametrize("moderation", ["all", "first-time", "none"])
def test_moderation_modes(tmp_path: Path, moderation: str) -> None:
    config = load(tmp_path, MINIMAL + f'[comments]\nmoderation = "{moderation}"\n')
    assert config.comments.moderation == moderation


# --- [[authors]] -------------------------------------------------------------------------------


AUTHORS = """\
[site]
url = "https://blog.example.org"

[[authors]]
name = "Jane Writer"
email = "jane@example.org"
bio = "Runs a support team."

[[authors]]
name = "Sam Rivera"
url = "https://sam.example.org"
"""


def test_authors_are_a_tuple_and_found_by_name(tmp_path: Path) -> None:
    config = load(tmp_path, AUTHORS)
    assert config.authors == (
        AuthorSection(name="Jane Writer", email="jane@example.org", bio="Runs a support team."),
        AuthorSection(name="Sam Rivera", url="https://sam.example.org"),
    )
    sam = config.author_named("Sam Rivera")
    assert sam is not None
    assert sam.url == "https://sam.example.org"
    assert sam.email == ""
    assert config.author_named("Jane Writer") is config.authors[0]
    assert config.author_named("Nobody") is None
    assert config.author_named("jane writer") is None


def test_author_without_name(tmp_path: Path) -> None:
    error = problem(tmp_path, MINIMAL + '\n[[authors]]\nemail = "a@example.org"\n')
    assert error.message == "[authors] needs `name`"
    assert error.line == 4
    assert error.hint is not None
    assert error.hint.startswith("add `name = ...`")


def test_authors_as_a_single_table_is_an_error(tmp_path: Path) -> None:
    error = problem(tmp_path, MINIMAL + '\n[authors]\nname = "A"\n')
    assert error.message == "`authors` must be a list of [[authors]] tables"
    assert error.line == 4


def test_error_in_second_author_points_at_second_author(tmp_path: Path) -> None:
    text = AUTHORS + "email = 5\n"  # line 12, in the second [[authors]] table
    error = problem(tmp_path, text)
    assert error.message == "[authors] email must be str, not 5"
    assert error.line == 12  # not 6, the first author's (valid) email


# --- unknown keys and sections -----------------------------------------------------------------


def test_unknown_site_key_suggests_title_with_its_line(tmp_path: Path) -> None:
    error = problem(tmp_path, MINIMAL + 'titel = "My Blog"\n')
    assert error.message == "[site] unknown key `titel`"
    assert error.line == 3
    assert error.hint == "did you mean `title`?"
    assert str(error) == (
        f"{tmp_path / 'cssblog.toml'}:3: [site] unknown key `titel`\n  hint: did you mean `title`?"
    )


def test_unknown_comments_key_suggests_closest(tmp_path: Path) -> None:
    error = problem(tmp_path, MINIMAL + "\n[comments]\nenabled = true\nmax_link = 3\n")
    assert error.message == "[comments] unknown key `max_link`"
    assert error.line == 6
    assert error.hint == "did you mean `max_links`?"


def test_unknown_section_suggests_closest(tmp_path: Path) -> None:
    error = problem(tmp_path, MINIMAL + "\n[coments]\nenabled = true\n")
    assert error.message == "unknown key `coments`"
    assert error.line == 4
    assert error.hint == "did you mean `comments`?"


def test_unknown_section_without_close_match_lists_sections(tmp_path: Path) -> None:
    error = problem(tmp_path, MINIMAL + "\n[frobnicate]\nx = 1\n")
    assert error.line == 4
    assert error.hint == "known keys: site, customer_service, comments, intake, authors, deploy"


def test_unknown_keys_are_all_reported(tmp_path: Path) -> None:
    text = """\
    [site]
    url = "https://blog.example.org"
    titel = "x"

    [customer_service]
    categroy = "Support"

    [comments]
    moderaton = "all"
    """
    errors = problems(tmp_path, text)
    assert [(e.line, e.hint) for e in errors] == [
        (3, "did you mean `title`?"),
        (6, "did you mean `category`?"),
        (9, "did you mean `moderation`?"),
    ]


# --- types -------------------------------------------------------------------------------------


def test_wrong_types_are_all_reported_with_lines(tmp_path: Path) -> None:
    text = """\
    [site]
    url = "https://blog.example.org"
    posts_per_page = "10"

    [comments]
    require_name = "yes"
    blocked_names = "x"
    duplicate_threshold = "high"
    """
    errors = problems(tmp_path, text)
    assert [(e.line, e.message) for e in errors] == [
        (3, "[site] posts_per_page must be int, not '10'"),
        (6, "[comments] require_name must be bool, not 'yes'"),
        (7, "[comments] blocked_names must be a list of strings, not 'x'"),
        (8, "[comments] duplicate_threshold must be float, not 'high'"),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("posts_per_page = true", "[site] posts_per_page must be int, not True"),
        ("posts_per_page = 2.5", "[site] posts_per_page must be int, not 2.5"),
        ("feed_entries = -1", "[site] feed_entries must be a number of 0 or more, not -1"),
        ("title = 5", "[site] title must be str, not 5"),
        ('title = ["a"]', "[site] title must be str, not ['a']"),
    ],
)
def test_site_type_errors(tmp_path: Path, line: str, message: str) -> None:
    error = problem(tmp_path, MINIMAL + line + "\n")
    assert error.message == message
    assert error.line == 3


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "blocked_words = [1, 2]",
            "[comments] blocked_words must be a list of strings, not [1, 2]",
        ),
        ("enabled = 1", "[comments] enabled must be bool, not 1"),
        ("max_links = -1", "[comments] max_links must be a number of 0 or more, not -1"),
        ("duplicate_threshold = true", "[comments] duplicate_threshold must be float, not True"),
    ],
)
def test_comments_type_errors(tmp_path: Path, line: str, message: str) -> None:
    error = problem(tmp_path, MINIMAL + "[comments]\n" + line + "\n")
    assert error.message == message
    assert error.line == 4


@pytest.mark.parametrize("value", ['"some"', '"All"', '"first_time"', "true", "1"])
def test_moderation_must_be_a_known_mode(tmp_path: Path, value: str) -> None:
    error = problem(tmp_path, MINIMAL + f"[comments]\nmoderation = {value}\n")
    assert error.message.startswith(
        '[comments] moderation must be "all" or "first-time" or "none", not '
    )
    assert error.line == 4


@pytest.mark.parametrize("value", ["0", "0.0", "1.5", "-0.1"])
def test_duplicate_threshold_range(tmp_path: Path, value: str) -> None:
    error = problem(tmp_path, MINIMAL + f"[comments]\nduplicate_threshold = {value}\n")
    assert error.message == "duplicate_threshold must be above 0 and at most 1"
    assert error.line == 4


@pytest.mark.parametrize("line", ["posts_per_page = 0", "feed_entries = 0"])
def test_pages_and_feeds_need_at_least_one_entry(tmp_path: Path, line: str) -> None:
    error = problem(tmp_path, MINIMAL + line + "\n")
    assert error.message == "posts_per_page and feed_entries must be at least 1"


@pytest.mark.parametrize("text", ['site = "x"\n', "site = [1]\n"])
def test_site_must_be_a_table(tmp_path: Path, text: str) -> None:
    errors = problems(tmp_path, text)
    assert errors[0].message == "[site] must be a table"


# --- [site] url, timezone, permalink -----------------------------------------------------------


def test_missing_site_url(tmp_path: Path) -> None:
    error = problem(tmp_path, '[site]\ntitle = "x"\n')
    assert error.message == "[site] needs `url`"
    assert error.line == 1
    assert error.hint is not None
    assert error.hint.startswith("add `url = ...`: Absolute base URL")


@pytest.mark.parametrize("text", ["", "[comments]\nenabled = true\n"])
def test_missing_site_section(tmp_path: Path, text: str) -> None:
    error = problem(tmp_path, text)
    assert error.message == "[site] needs `url`"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://blog.example.org",
        "/blog",
        "blog.example.org",
        "https://",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "",
    ],
)
def test_url_must_be_absolute_http(tmp_path: Path, url: str) -> None:
    error = problem(tmp_path, f'[site]\ntitle = "T"\nurl = "{url}"\n')
    assert error.message == f"[site] url must be an absolute http(s) URL, not {url!r}"
    assert error.line == 3
    assert error.hint == 'for example url = "https://blog.example.org"'


@pytest.mark.parametrize("timezone", ["Mars/Base", "/etc/passwd", "../UTC", "", "Europe"])
def test_bad_timezone(tmp_path: Path, timezone: str) -> None:
    # "Europe" names a folder of the tz database, not a zone: it must be a ConfigError too.
    error = problem(tmp_path, MINIMAL + f'timezone = "{timezone}"\n')
    assert error.message == f"unknown time zone {timezone!r}"
    assert error.line == 3
    assert error.hint == 'use an IANA name such as "UTC" or "Europe/Paris"'


@pytest.mark.parametrize(
    "permalink",
    [
        "/{year}/{month}/",  # no {slug}
        "/{title}/{slug}/",  # unknown field
        "/{slug}/{hour}/",
        "{slug}/",  # no leading /
        "/{slug}",  # no trailing /
        "/{slug.upper}/",
    ],
)
def test_invalid_permalink(tmp_path: Path, permalink: str) -> None:
    error = problem(tmp_path, MINIMAL + f'permalink = "{permalink}"\n')
    assert error.message == f"invalid permalink {permalink!r}"
    assert error.line == 3
    assert error.hint == (
        "start and end with /, contain {slug}, use only {year}, {month}, {day}, {slug}"
    )


@pytest.mark.parametrize(
    "permalink",
    [
        "/{slug}/{}/",
        "/{slug}/{0}/",
        "/{slug}/{",
        "/{slug}/}/",
        "/../{slug}/",
        "//{slug}/",
        "/a\\\\b/{slug}/",
    ],
)
def test_permalink_accepted_by_config_gives_a_route(tmp_path: Path, permalink: str) -> None:
    # Either load_config refuses the permalink, or every post gets a route from it:
    # a permalink must never pass validation and then crash the build in post_route.
    try:
        config = load(tmp_path, MINIMAL + f'permalink = "{permalink}"\n')
    except ConfigError as exc:
        as_loaded = permalink.replace("\\\\", "\\")  # TOML un-escapes \\ to \
        assert [e.message for e in exc.errors] == [f"invalid permalink {as_loaded!r}"]
        return
    route = post_route(config.site.permalink, datetime(2024, 3, 5, tzinfo=UTC), "hello")
    assert not route.path.is_absolute()
    assert ".." not in route.path.parts


@pytest.mark.parametrize(
    "permalink", ["/{slug}/", "/{year}/{slug}/", "/{year}/{month}/{day}/{slug}/", "/p/{slug}/"]
)
def test_valid_permalinks(tmp_path: Path, permalink: str) -> None:
    assert load(tmp_path, MINIMAL + f'permalink = "{permalink}"\n').site.permalink == permalink


def test_type_errors_and_value_errors_are_reported_together(tmp_path: Path) -> None:
    # load_config promises every problem at once, not one round of fixes per kind of check.
    text = """\
    [site]
    url = "ftp://blog.example.org"
    timezone = "Mars/Base"
    posts_per_page = "10"
    """
    errors = problems(tmp_path, text)
    assert sorted((e.line, e.message) for e in errors) == [
        (2, "[site] url must be an absolute http(s) URL, not 'ftp://blog.example.org'"),
        (3, "unknown time zone 'Mars/Base'"),
        (4, "[site] posts_per_page must be int, not '10'"),
    ]


def test_value_errors_are_reported_together(tmp_path: Path) -> None:
    text = """\
    [site]
    url = "/relative"
    timezone = "Mars/Base"
    permalink = "/{title}/"
    posts_per_page = 0

    [comments]
    duplicate_threshold = 2
    """
    errors = problems(tmp_path, text)
    assert [e.line for e in errors] == [2, 3, 4, 5, 8]


# --- broken files ------------------------------------------------------------------------------


def test_invalid_toml_reports_its_line(tmp_path: Path) -> None:
    error = problem(tmp_path, MINIMAL + 'title = "unclosed\n')
    assert error.message.startswith("invalid TOML: ")
    assert "(at line 3" in error.message
    assert error.line == 3
    assert error.hint == "check quotes, brackets and `key = value` syntax"


def test_duplicate_toml_key_is_invalid_toml(tmp_path: Path) -> None:
    error = problem(tmp_path, MINIMAL + 'url = "https://other.example.org"\n')
    assert error.message.startswith("invalid TOML: ")
    assert error.line == 3


def test_missing_config_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(CssblogError) as info:
        load_config(tmp_path)
    error = info.value
    assert not isinstance(error, ConfigError)
    assert error.message == "no cssblog.toml here"
    assert error.path == tmp_path / "cssblog.toml"
    assert error.hint is not None
    assert "cssblog init" in error.hint


def test_config_directory_is_not_a_config_file(tmp_path: Path) -> None:
    (tmp_path / "cssblog.toml").mkdir()
    with pytest.raises(CssblogError) as info:
        load_config(tmp_path)
    assert info.value.message == "no cssblog.toml here"


def test_non_utf8_config_is_a_cssblog_error(tmp_path: Path) -> None:
    # Content files get "file is not UTF-8" with a line; the config must not crash with a
    # bare UnicodeDecodeError either.
    data = MINIMAL.encode() + 'title = "Caf\u00e9"\n'.encode("latin-1")
    with pytest.raises(CssblogError) as info:
        load(tmp_path, data)
    assert info.value.path == tmp_path / "cssblog.toml"
    assert "UTF-8" in str(info.value)


# --- [intake] ------------------------------------------------------------------------------------


def test_intake_defaults(tmp_path: Path) -> None:
    intake = load(tmp_path, MINIMAL).intake
    assert intake == IntakeSection()
    assert intake.queue_dir == "content/comments"
    assert intake.flood_seconds == 15
    assert intake.trusted_proxies == ("127.0.0.1", "::1")
    assert intake.origins("https://Blog.example.org/blog/") == {"https://blog.example.org"}


def test_intake_every_field_can_be_set(tmp_path: Path) -> None:
    intake = load(
        tmp_path,
        MINIMAL
        + """
        [intake]
        allowed_origins = ["https://blog.example.org", "https://www.example.org:8443/"]
        trusted_proxies = ["10.0.0.0/8", "fd00::/8"]
        rate_per_minute = 30
        flood_seconds = 0
        max_queued = 0
        queue_dir = "inbox/comments"
        git_commit = true
        notify_email = "mod@example.org"
        smtp_from = "blog@example.org"
        smtp_host = "mail.example.org"
        smtp_port = 587
        smtp_starttls = true
        smtp_user = "blog"
        smtp_password_env = "BLOG_SMTP"
        """,
    ).intake
    assert intake.origins("https://x.example") == {
        "https://blog.example.org",
        "https://www.example.org:8443",
    }
    assert (intake.smtp_port, intake.smtp_starttls, intake.git_commit) == (587, True, True)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('allowed_origins = ["blog.example.org"]', "'blog.example.org' is not an origin"),
        ('allowed_origins = ["https://x.example/path"]', "is not an origin"),
        ('allowed_origins = ["null"]', "'null' is not an origin"),
        ('trusted_proxies = ["10.0.0.300"]', "'10.0.0.300' is not an address or network"),
        ('queue_dir = "../elsewhere"', "must be a folder inside the site"),
        ('queue_dir = "/var/spool/comments"', "must be a folder inside the site"),
        ('queue_dir = "."', "must be a folder inside the site"),
        ('queue_dir = "output/comments"', "outside output/ and .cssblog-cache/"),
        ('notify_email = "moderator"', "notify_email is not an email address"),
        ('smtp_from = "a b@example.org"', "smtp_from is not an email address"),
        ("smtp_port = 70000", "smtp_port must be from 1 to 65535"),
        ('smtp_password_env = "MY PASSWORD"', "must name an environment variable"),
        ("rate_per_minute = -1", "must be a number of 0 or more"),
        ('smtp_password = "hunter2"', "unknown key `smtp_password`"),
    ],
)
def test_intake_errors_name_the_line(tmp_path: Path, line: str, message: str) -> None:
    error = problem(tmp_path, MINIMAL + "\n[intake]\n" + line + "\n")
    assert message in error.message
    assert error.line == 5


def test_intake_unknown_key_suggests_the_closest(tmp_path: Path) -> None:
    error = problem(tmp_path, MINIMAL + "\n[intake]\nflood_second = 10\n")
    assert error.hint == "did you mean `flood_seconds`?"


def test_a_queue_dir_that_links_outside_the_site_is_refused(tmp_path: Path) -> None:
    (tmp_path / "outside").mkdir()
    site = tmp_path / "site"
    site.mkdir()
    (site / "queue").symlink_to(tmp_path / "outside", target_is_directory=True)
    error = problem(site, MINIMAL + '\n[intake]\nqueue_dir = "queue"\n')
    assert "inside the site" in error.message
