"""The production intake as a WSGI app, without sockets: RELIABILITY.md §2e, row by row.

Each refusal is checked for its status, for writing nothing, and (where it must be refused
before the body is read) for not reading the body at all.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from cssblog.comments.store import load_comments
from cssblog.comments.validate import MAX_BODY_BYTES
from cssblog.intake import MAX_FORM_BYTES
from cssblog.intake_app import IntakeApp
from tests.conftest import NOW, MakeSite
from tests.intake_helpers import (
    APPROVED,
    FORM,
    HELLO_URL,
    PENDING,
    READER,
    SITE,
    Clock,
    call,
    every_file,
    form,
    front_matter,
    intake_site,
    make_intake,
    reader,
    send,
    send_json,
    stored,
)
from tests.wsgi_calls import MustNotRead

PENDING_AT = f"{HELLO_URL}#comment-pending"
NO_LIMITS = "rate_per_minute = 0\nflood_seconds = 0\n"


@pytest.fixture
def site(make_site: MakeSite) -> Path:
    return intake_site(make_site, intake=NO_LIMITS)


@pytest.fixture
def app(site: Path) -> IntakeApp:
    return make_intake(site)


def unread(app: IntakeApp, headers: dict[str, str], length: int = 100) -> Any:
    return call(app, headers={"Content-Length": str(length), **headers}, body=MustNotRead())


# -- a comment that is taken ------------------------------------------------------------------


def test_a_form_comment_is_stored_pending_and_the_reader_sent_back_to_the_post(
    app: IntakeApp, site: Path
) -> None:
    reply = send(app)
    assert reply.status == 303
    assert reply.header("Location") == PENDING_AT
    assert reply.body == b""
    (path,) = stored(site)
    meta = front_matter(path)
    assert meta["author"] == "Riley Reader"
    assert meta["email"] == "riley@example.net"
    assert meta["status"] == "pending"
    assert meta["moderation_note"] == "first comment from this email address"
    assert "parent" not in meta
    assert path.read_text().endswith("---\nHow do you answer the angry ones?\n")
    assert not list(path.parent.glob(".*"))  # no temporary file left behind


def test_a_comment_by_a_returning_reader_is_published(app: IntakeApp, site: Path) -> None:
    reply = send(app, reader(author="Dana", email="dana@example.com", body="Me again."))
    assert reply.header("Location") == f"{HELLO_URL}#comment-published"
    (path,) = stored(site)
    assert front_matter(path)["status"] == "approved"


def test_a_json_comment_gets_json_with_its_id(app: IntakeApp, site: Path) -> None:
    reply = send_json(app, reader())
    assert reply.status == 201
    assert reply.header("Content-Type") == "application/json"
    (path,) = stored(site)
    assert reply.json() == {"status": "pending", "id": path.stem, "errors": []}
    assert reply.header("Access-Control-Allow-Origin") == SITE


def test_a_reply_to_an_approved_comment_records_its_parent(app: IntakeApp, site: Path) -> None:
    assert send(app, reader(parent=APPROVED)).status == 303
    (path,) = stored(site)
    assert front_matter(path)["parent"] == APPROVED


def test_comments_appear_in_the_inbox(app: IntakeApp, site: Path) -> None:
    from click.testing import CliRunner

    from cssblog.cli import main

    send(app)
    (path,) = stored(site)
    result = CliRunner().invoke(main, ["comments", "inbox", "--site", str(site), "--json"])
    assert result.exit_code == 0, result.output
    items = {i["id"]: i for i in json.loads(result.output)}
    arrived = items[f"hello/{path.stem}"]
    assert (arrived["kind"], arrived["author"]) == ("pending", "Riley Reader")


# -- I-01, I-02: missing and unknown fields -----------------------------------------------------


@pytest.mark.parametrize(
    ("missing", "field"),
    [("author", "your name"), ("email", "your email address"), ("body", "a comment")],
)
def test_I01_a_missing_field_is_named(app: IntakeApp, site: Path, missing: str, field: str) -> None:
    reply = send(app, reader(**{missing: "  "}))
    assert reply.status == 400
    assert reply.header("Content-Type") == "text/html; charset=utf-8"
    assert f"{field[0].upper()}{field[1:]} is missing." in reply.body.decode()
    assert stored(site) == []


def test_I01_missing_fields_are_listed_in_json(app: IntakeApp) -> None:
    reply = send_json(app, {"post": "hello"})
    assert reply.status == 400
    assert reply.json() == {
        "status": "refused",
        "id": None,
        "errors": [
            {"field": "author", "message": "your name is missing"},
            {"field": "email", "message": "your email address is missing"},
            {"field": "body", "message": "a comment is missing"},
        ],
    }


def test_I01_name_and_email_are_optional_when_names_are_not_required(
    make_site: MakeSite,
) -> None:
    root = intake_site(make_site, "require_name = false\n", intake=NO_LIMITS)
    reply = send(make_intake(root), reader(author="", email=""))
    assert reply.status == 303
    assert len(stored(root)) == 1


@pytest.mark.parametrize(
    "extra", [{"status": "approved"}, {"id": "x"}, {"parent_status": "approved"}, {"redirect": "x"}]
)
def test_I02_an_unknown_field_with_a_value_is_refused(
    app: IntakeApp, site: Path, extra: dict[str, str]
) -> None:
    reply = send(app, {**reader(), **extra})
    assert reply.status == 400
    assert b"fields this site does not take" in reply.body
    assert stored(site) == []


def test_I02_an_empty_unknown_field_is_tolerated_and_status_is_set_by_the_server(
    app: IntakeApp, site: Path
) -> None:
    assert send(app, {**reader(), "status": "", "submit": ""}).status == 303
    (path,) = stored(site)
    assert front_matter(path)["status"] == "pending"


# -- I-03: the honeypot ---------------------------------------------------------------------


def test_I03_a_filled_honeypot_looks_like_success_and_stores_nothing(
    app: IntakeApp, site: Path, caplog: pytest.LogCaptureFixture
) -> None:
    before = every_file(site)
    caplog.set_level(logging.INFO, "cssblog")
    trapped = send(app, reader(homepage="http://spam.example"))
    assert every_file(site) == before
    real = send(app)
    assert (trapped.status, trapped.headers) == (real.status, real.headers)
    assert "outcome=trap" in caplog.text


def test_I03_a_trap_in_json_looks_like_a_new_comment(app: IntakeApp, site: Path) -> None:
    reply = send_json(app, reader(homepage="x"))
    assert reply.status == 201
    data = reply.json()
    assert data["status"] == "pending" and data["errors"] == []
    assert len(data["id"]) == len(APPROVED)
    assert stored(site) == []


# -- I-04: sizes -----------------------------------------------------------------------------


@pytest.mark.parametrize("length", [MAX_FORM_BYTES + 1, 1 << 40])
def test_I04_a_request_too_large_is_refused_unread(app: IntakeApp, length: int) -> None:
    reply = unread(app, {"Content-Type": FORM, "Origin": SITE}, length)
    assert reply.status == 413


def test_I04_a_request_without_length_or_chunked_is_refused_unread(app: IntakeApp) -> None:
    headers = {"Content-Type": FORM, "Origin": SITE}
    assert call(app, headers=headers, body=MustNotRead()).status == 411
    chunked = {**headers, "Transfer-Encoding": "chunked"}
    assert call(app, headers=chunked, body=MustNotRead()).status == 411


@pytest.mark.parametrize("length", ["lots", "-5", "1e3", "10,10", "\u0661\u0662"])
def test_I04_a_bad_length_is_refused_unread(app: IntakeApp, length: str) -> None:
    headers = {"Content-Type": FORM, "Origin": SITE, "Content-Length": length}
    assert call(app, headers=headers, body=MustNotRead()).status == 400


def test_I04_a_body_shorter_than_its_length_is_refused(app: IntakeApp, site: Path) -> None:
    body = form(**reader())
    headers = {"Content-Type": FORM, "Origin": SITE, "Content-Length": str(len(body) + 50)}
    reply = call(app, headers=headers, body=io.BytesIO(body))  # type: ignore[arg-type]
    assert reply.status == 400
    assert stored(site) == []


def test_X50_a_comment_over_64_kib_is_refused_not_shortened(app: IntakeApp, site: Path) -> None:
    reply = send(app, reader(body="é" * (MAX_BODY_BYTES // 2 + 1)))
    assert reply.status == 400
    assert b"longer than 64 KiB" in reply.body
    assert stored(site) == []


def test_a_comment_of_exactly_64_kib_is_taken_whole(app: IntakeApp, site: Path) -> None:
    body = ("word " * (MAX_BODY_BYTES // 5 + 1))[: MAX_BODY_BYTES - 1] + "!"
    assert len(body.encode()) == MAX_BODY_BYTES
    assert send(app, reader(body=body)).status == 303
    (path,) = stored(site)
    (comment,) = [c for c in load_comments(site, NOW.tzinfo).comments if c.path == path]
    assert comment.body == body


@pytest.mark.parametrize(("field", "longest"), [("author", 245), ("email", 100), ("url", 200)])
def test_wordpress_field_lengths_are_limits_not_truncations(
    app: IntakeApp, site: Path, field: str, longest: int
) -> None:
    values = {
        "author": lambda n: "N" * n,
        "email": lambda n: "a" * (n - 12) + "@example.org",
        "url": lambda n: "https://example.org/" + "p" * (n - 20),
    }[field]
    assert send(app, reader(**{field: values(longest + 1)})).status == 400
    assert stored(site) == []
    assert send(app, reader(**{field: values(longest)})).status == 303
    (path,) = stored(site)
    assert front_matter(path)[field] == values(longest)


# -- I-05: where the request comes from ------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "https://blog.example.org.evil.example"},
        {"Origin": "http://blog.example.org"},
        {"Referer": "https://evil.example/blog.example.org/"},
        {"Sec-Fetch-Site": "cross-site", "Referer": f"{SITE}/2026/01/hello/"},
        {},
    ],
)
def test_I05_a_post_from_elsewhere_is_refused_unread(
    app: IntakeApp, headers: dict[str, str]
) -> None:
    reply = unread(app, {"Content-Type": FORM, **headers})
    assert reply.status == 403
    assert reply.header("Access-Control-Allow-Origin") is None


def test_I05_a_json_post_without_origin_is_refused(app: IntakeApp) -> None:
    reply = unread(app, {"Content-Type": "application/json"})
    assert reply.status == 403
    assert reply.json()["status"] == "refused"


def test_I05_the_site_page_as_referer_is_enough(app: IntakeApp, site: Path) -> None:
    headers = {"Content-Type": FORM, "Referer": f"{SITE}/2026/01/hello/"}
    assert call(app, headers=headers, body=form(**reader())).status == 303
    assert len(stored(site)) == 1


def test_I05_allowed_origins_come_from_the_configuration(make_site: MakeSite) -> None:
    root = intake_site(
        make_site, intake=NO_LIMITS + 'allowed_origins = ["https://www.example.org:8443"]\n'
    )
    app = make_intake(root)
    ok = send(app, headers={"Origin": "https://WWW.example.org:8443"})
    assert ok.status == 303
    assert send(app, reader(body="Another."), headers={"Origin": SITE}).status == 403


def test_cors_preflight_answers_allowed_origins_only(app: IntakeApp) -> None:
    asked = {"Origin": SITE, "Access-Control-Request-Method": "POST"}
    reply = call(app, method="OPTIONS", headers=asked)
    assert reply.status == 204
    assert reply.header("Access-Control-Allow-Origin") == SITE
    assert reply.header("Access-Control-Allow-Methods") == "POST"
    assert reply.header("Vary") == "Origin"
    evil = call(app, method="OPTIONS", headers={**asked, "Origin": "https://evil.example"})
    assert evil.status == 403
    assert evil.header("Access-Control-Allow-Origin") is None
    wrong = call(app, method="OPTIONS", headers={**asked, "Access-Control-Request-Method": "PUT"})
    assert wrong.status == 403


# -- I-06, I-07: types and encodings ---------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "multipart/form-data; boundary=x", "", "application/xml", "text/html"],
)
def test_I06_other_types_are_refused_unread(app: IntakeApp, content_type: str) -> None:
    assert unread(app, {"Content-Type": content_type, "Origin": SITE}).status == 415


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        (f"{FORM}; charset=iso-8859-1", form(**reader())),
        (FORM, b"post=hello&author=%ff%fe&body=x"),
        (FORM, b"post=hello&author=%ED%A0%80&body=x"),
        (FORM, b"post=hello&post=shut"),
        ("application/json", b'{"post": "hello", "body": "\\ud800"}'),
        ("application/json", b'{"post": "hello", "post": "shut"}'),
        ("application/json", b'{"post": "hello", "body": 5}'),
        ("application/json", b'{"post": "hello", "body": {"a": "b"}}'),
        ("application/json", b'["hello"]'),
        ("application/json", b"[" * 100_000),
        ("application/json", b'{"post": "hello"'),
        ("application/json; charset=utf-16", b'{"post": "hello"}'),
    ],
)
def test_I07_unreadable_bodies_are_refused(
    app: IntakeApp, site: Path, content_type: str, body: bytes
) -> None:
    reply = call(app, headers={"Content-Type": content_type, "Origin": SITE}, body=body)
    assert reply.status == 400
    assert stored(site) == []


# -- I-08: the same comment twice --------------------------------------------------------------


def test_I08_a_resubmission_answers_with_the_stored_comment_and_writes_nothing(
    app: IntakeApp, site: Path
) -> None:
    first = send(app)
    (path,) = stored(site)
    before = path.read_bytes()
    again = send(app, reader(body="How do you answer the angry ones? "))
    assert (again.status, again.header("Location")) == (303, first.header("Location"))
    assert stored(site) == [path]
    assert path.read_bytes() == before
    as_json = send_json(app, reader())
    assert as_json.status == 200
    assert as_json.json() == {"status": "pending", "id": path.stem, "errors": []}
    assert stored(site) == [path]


# -- I-09: rates -----------------------------------------------------------------------------


def test_I09_too_many_requests_from_one_address_get_429(make_site: MakeSite) -> None:
    root = intake_site(make_site, intake="rate_per_minute = 3\nflood_seconds = 0\n")
    clock = Clock()
    app = make_intake(root, clock)
    for i in range(3):
        assert send(app, reader(body=f"Comment {i}.")).status == 303
    limited = send(app, reader(body="Comment 3."))
    assert limited.status == 429
    assert limited.header("Retry-After") == "20"
    assert send(app, reader(body="From elsewhere."), remote="198.51.100.9").status == 303
    clock.advance(20)
    assert send(app, reader(body="Comment 3.")).status == 303
    assert len(stored(root)) == 5


def test_I09_a_second_comment_within_15_seconds_is_a_flood(make_site: MakeSite) -> None:
    root = intake_site(make_site)
    clock = Clock()
    app = make_intake(root, clock)
    assert send(app).status == 303
    clock.advance(5)
    same_address = send(app, reader(author="Other", email="o@example.net", body="Hi."))
    assert same_address.status == 429
    assert same_address.header("Retry-After") == "10"
    assert b"too quickly" in same_address.body
    same_email = send(app, reader(body="Different words."), remote="198.51.100.9")
    assert same_email.status == 429
    resent = send(app)  # the same comment again is not a flood: it is the stored one
    assert resent.status == 303
    clock.advance(10)
    assert send(app, reader(author="Other", email="o@example.net", body="Hi.")).status == 303
    assert len(stored(root)) == 2


def test_I09_a_forged_forwarded_for_from_a_reader_is_ignored(make_site: MakeSite) -> None:
    root = intake_site(make_site)
    app = make_intake(root, Clock())
    assert send(app).status == 303
    forged = {"X-Forwarded-For": "192.0.2.1"}
    other = reader(author="Other", email="o@example.net", body="Hi.")
    assert send(app, other, headers=forged).status == 429


def test_I09_behind_a_trusted_proxy_each_reader_has_their_own_limit(
    make_site: MakeSite,
) -> None:
    root = intake_site(make_site)
    app = make_intake(root, Clock())
    proxy = "127.0.0.1"
    first = {"X-Forwarded-For": "192.0.2.1"}
    assert send(app, remote=proxy, headers=first).status == 303
    other = reader(author="Other", email="o@example.net", body="Hi.")
    # the reader's own claim (left of the proxy's) cannot make them someone else
    spoofed = {"X-Forwarded-For": "198.51.100.50, 192.0.2.1"}
    assert send(app, other, remote=proxy, headers=spoofed).status == 429
    assert send(app, other, remote=proxy, headers={"X-Forwarded-For": "192.0.2.2"}).status == 303


# -- I-10, I-10b: which posts take comments ----------------------------------------------------


@pytest.mark.parametrize(
    ("slug", "status"),
    [
        ("nope", 404),
        ("draft", 404),
        ("later", 404),
        ("shut", 403),
        ("quiet", 403),
    ],
)
def test_I10_only_published_open_posts_take_comments(
    app: IntakeApp, site: Path, slug: str, status: int
) -> None:
    before = every_file(site)
    reply = send(app, reader(post=slug))
    assert reply.status == status
    assert every_file(site) == before


def test_I10_comments_close_after_close_after_days(make_site: MakeSite) -> None:
    root = intake_site(make_site, "close_after_days = 30\n", intake=NO_LIMITS)
    app = make_intake(root)
    assert send(app, reader(post="old")).status == 403
    assert send(app, reader(post="hello")).status == 403  # 2026-01-05 is long before NOW


@pytest.mark.parametrize("parent", ["20990101T000000-ffffffffffff", PENDING, "../" + APPROVED])
def test_I10_replies_only_to_approved_comments_of_the_post(
    app: IntakeApp, site: Path, parent: str
) -> None:
    reply = send(app, reader(parent=parent))
    assert reply.status == 404
    assert stored(site) == []


@pytest.mark.parametrize(
    "slug",
    ["../../../etc", "hello/../../x", "%2e%2e", "..", "hello/x", "hello\x00", "/hello", "HELLO"],
)
def test_I10b_a_post_field_is_never_a_path(app: IntakeApp, site: Path, slug: str) -> None:
    before = every_file(site)
    outside = every_file(site.parent)
    reply = send(app, reader(post=slug))
    assert reply.status in (400, 404)
    assert every_file(site) == before
    assert every_file(site.parent) == outside


# -- I-11: the redirect ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "slug",
    [
        "hello\r\nSet-Cookie: a=b",
        "hello%0d%0aLocation: https://evil.example",
        "https://evil.example",
        "//evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
    ],
)
def test_I11_the_redirect_is_built_from_the_configuration_only(app: IntakeApp, slug: str) -> None:
    reply = send(app, reader(post=slug))  # call() fails on CR or LF in any header
    assert reply.header("Location") is None
    assert reply.header("Set-Cookie") is None
    trapped = send(app, reader(post=slug, homepage="x"))
    assert trapped.header("Location") == f"{SITE}/#comment-pending"


# -- I-YAML: nothing typed becomes front matter ----------------------------------------------


@pytest.mark.parametrize(
    "author", ["Bob\nstatus: approved", "Bob\r\n---\r\n<script>", "Bob\x85x", "Bob\u2028x", "A\x00"]
)
def test_I_YAML01_newlines_and_controls_in_names_are_refused(
    app: IntakeApp, site: Path, author: str
) -> None:
    reply = send(app, reader(author=author))
    assert reply.status == 400
    assert b"control characters" in reply.body
    assert stored(site) == []


@pytest.mark.parametrize("field", ["email", "url"])
def test_I_YAML01_newlines_in_email_or_website_are_refused(
    app: IntakeApp, site: Path, field: str
) -> None:
    value = {"email": "a@example.org\nstatus: approved", "url": "https://a.example/\nstatus: x"}
    assert send(app, reader(**{field: value[field]})).status == 400
    assert stored(site) == []


@pytest.mark.parametrize(
    "author",
    ["!!python/object/apply:os.system ['id']", "&a x", "*a", "yes", "2024-01-01", "key: value",
     "'q", '"dq', "\\", "#c", "---", "...", "Zoë 😀", "null", "~", "[a]", "{b: c}"],
)  # fmt: skip
def test_I_YAML03_awkward_names_round_trip_exactly(app: IntakeApp, site: Path, author: str) -> None:
    assert send(app, reader(author=author, body=f"Said {author!r}.")).status == 303
    (comment,) = [c for c in load_comments(site, NOW.tzinfo).comments if c.author == author]
    assert comment.status == "pending"


def test_I_YAML02_a_body_that_looks_like_front_matter_stays_body(
    app: IntakeApp, site: Path
) -> None:
    body = "---\nstatus: approved\nauthor: Admin\n---\nReal text."
    assert send(app, reader(body=body)).status == 303
    loaded = load_comments(site, NOW.tzinfo)
    assert loaded.errors == ()
    (comment,) = [c for c in loaded.comments if c.body == body]
    assert (comment.status, comment.author) == ("pending", "Riley Reader")


@pytest.mark.parametrize("body", ["a\x00b", "a\x1bb", "a\x7fb", "a\x85b", "a\ufffeb"])
def test_X52_control_characters_in_a_body_are_refused(
    app: IntakeApp, site: Path, body: str
) -> None:
    assert send(app, reader(body=body)).status == 400
    assert stored(site) == []


# -- I-12, I-14: naming and failing to write ---------------------------------------------------


def test_I12_the_file_name_is_made_by_the_server(app: IntakeApp, site: Path) -> None:
    send(app, reader(author="../../etc/passwd"))
    (path,) = stored(site)
    assert path.parent == site / "content/comments/hello"
    assert path.stem[:15] == "20261123T120000"


def test_I14_a_full_disk_is_a_503_and_leaves_no_file(
    app: IntakeApp, site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    real_write = os.write

    def full(fd: int, data: Any) -> int:
        real_write(fd, bytes(data[:10]))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("cssblog.comments.store.os.write", full)
    reply = send(app)
    assert reply.status == 503
    assert reply.header("Retry-After") == "60"
    monkeypatch.undo()
    folder = site / "content/comments/hello"
    assert sorted(p.name for p in folder.iterdir()) == sorted([f"{APPROVED}.md", f"{PENDING}.md"])


def test_I16_a_full_moderation_queue_refuses_new_comments(make_site: MakeSite) -> None:
    root = intake_site(make_site, intake=NO_LIMITS + "max_queued = 2\n")
    app = make_intake(root)
    assert send(app).status == 303  # the site's own pending comment, and this one
    full = send(app, reader(body="One more."))
    assert full.status == 503
    assert len(stored(root)) == 1


# -- I-17: answers say what, never repeat what was sent -------------------------------------


HOSTILE = "<script>alert(1)</script>\"'&"


@pytest.mark.parametrize(
    "fields",
    [
        reader(email=HOSTILE),
        reader(url="javascript:" + HOSTILE),
        reader(post=HOSTILE),
        reader(author=HOSTILE + "\n"),
        reader(parent=HOSTILE),
        {**reader(), HOSTILE: HOSTILE},
    ],
)
def test_I17_refusals_never_repeat_the_input(app: IntakeApp, fields: dict[str, str]) -> None:
    for reply in (send(app, fields), send_json(app, fields)):
        assert reply.status in (400, 404)
        text = reply.body.decode()
        for piece in ("<script", "alert(1)", "&#34;", "javascript:"):
            assert piece not in text
        assert "Traceback" not in text


def test_a_refusal_page_names_the_field_and_links_back_to_the_post(app: IntakeApp) -> None:
    reply = send(app, reader(email="not-an-address"))
    page = reply.body.decode()
    assert "<li>Your email address: not an email address.</li>" in page
    assert f'<a href="{HELLO_URL}#comments">Back to the post</a>' in page
    assert "not-an-address" not in page
    assert (
        reply.header(
            "Content-Security-Policy",
        )
        is not None
    )


# -- routes, health, logs ---------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE"])
def test_comments_take_only_post_and_options(app: IntakeApp, method: str) -> None:
    reply = call(app, method=method, body=MustNotRead())  # type: ignore[arg-type]
    assert reply.status == 405
    assert reply.header("Allow") == "POST, OPTIONS"


@pytest.mark.parametrize("path", ["/", "/comments/", "/comment", "/healthz/x", "/../comments"])
def test_other_paths_are_not_found(app: IntakeApp, path: str) -> None:
    assert call(app, path, method="GET").status == 404


def test_healthz_says_ok_when_comments_can_be_written(app: IntakeApp, site: Path) -> None:
    before = every_file(site)
    reply = call(app, "/healthz", method="GET")
    assert (reply.status, reply.body) == (200, b"ok")
    assert every_file(site) == before
    assert call(app, "/healthz", method="POST").status == 405


def test_healthz_fails_when_the_queue_is_not_writable(
    app: IntakeApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr("cssblog.intake_app.tempfile.mkstemp", refuse)
    assert call(app, "/healthz", method="GET").status == 503


def test_each_request_is_one_log_line_without_personal_data(
    app: IntakeApp, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "cssblog")
    send(app, remote="203.0.113.77")
    send(app, reader(email="bad"), remote="2001:db8:1234:5678::9")
    lines = [r.getMessage() for r in caplog.records if r.name == "cssblog.intake_app"]
    assert len(lines) == 2
    assert lines[0].startswith("method=POST path=/comments status=303 duration_ms=")
    assert "outcome=pending client=203.0.113.0/24 post=hello id=20261123T120000-" in lines[0]
    assert "status=400" in lines[1] and "client=2001:db8:1234::/48" in lines[1]
    text = "\n".join(lines)
    for secret in ("Riley", "riley@", "angry", "203.0.113.77", "5678", READER):
        assert secret not in text
