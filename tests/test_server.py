"""The preview server: first as a WSGI app without sockets, then end to end over loopback.

The WSGI tests build environ dicts the way ``wsgiref`` does (``PATH_INFO`` is the request path
percent-decoded once into a latin-1 string), so every hostile path below reaches the app exactly
as a real server would hand it over. The socket tests bind 127.0.0.1 on a free port, bound every
wait, and always shut the server down.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import select
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest

from cssblog.httpd import MAX_REQUEST_LINE, PreviewHTTPServer, make_server
from cssblog.intake import MAX_FORM_BYTES, Received
from cssblog.preview import INTAKE_PATH, Outcome, Problem
from cssblog.server import HostPolicy, PreviewApp, ReloadHub
from tests.wsgi_calls import MustNotRead, call, environ, start

SECRET = b"TOP-SECRET-OUTSIDE-THE-PREVIEW"
INDEX = (
    b"<!doctype html><html><head><title>Home</title></head>"
    b"<body><h1>Home</h1><p>Text &amp; more.</p></body></html>"
)
PAGE_A = b"<!doctype html><html><HEAD><title>A</title></HEAD><body>page a</body></html>"
NO_HEAD = b"<!doctype html><html><body><p>no head here</p></body></html>"
FRAGMENT = b"<p>just a fragment</p>"
NOT_FOUND = b"<!doctype html><html><head><title>Lost</title></head><body>Custom 404</body></html>"
CSS = b"body { color: red; } /* </head> </body> */\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) + b"</head>"
NOTES = b"plain text with </head> and </body> inside\n"
FEED = b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"></feed>'
BIG_SIZE = 8 * 1024 * 1024


def tag(generation: int = 0) -> bytes:
    """The live-reload script element the server adds to HTML."""
    return (
        f'<script src="/_cssblog/reload.js" data-generation="{generation}" defer></script>'
    ).encode()


# -- fixtures: a preview folder with every awkward thing in it --------------------------------


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """``tmp_path/site``, the preview folder; a secret outside it; a ``site-leak`` sibling."""
    (tmp_path / "secret.txt").write_bytes(SECRET)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "index.html").write_bytes(b"<html><head></head>" + SECRET + b"</html>")
    (outside / "data.txt").write_bytes(SECRET)
    leak = tmp_path / "site-leak"
    leak.mkdir()
    (leak / "secret.txt").write_bytes(SECRET)

    folder = tmp_path / "site"
    files: dict[str, bytes] = {
        "index.html": INDEX,
        "a/index.html": PAGE_A,
        "nohead/index.html": NO_HEAD,
        "fragment.html": FRAGMENT,
        "404.html": NOT_FOUND,
        "style.css": CSS,
        "images/dot.png": PNG,
        "notes.txt": NOTES,
        "feed.xml": FEED,
        "empty/other.txt": b"other",
        "evil.example/x/index.html": b"<html><head></head><body>x</body></html>",
        "%2e%2e/literal.txt": b"a file whose folder is really named %2e%2e",
        "\u65e5\u672c/index.html": b"<html><head></head><body>nihon</body></html>",
        "my notes/index.html": b"<html><head></head><body>spaced</body></html>",
        ".git/config": b"[core]\n" + SECRET,
        ".env": SECRET,
        ".cssblog-output": SECRET,
        "a/.hidden": SECRET,
    }
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (folder / "outside-file.txt").symlink_to(tmp_path / "secret.txt")
    (folder / "outside-dir").symlink_to(outside, target_is_directory=True)
    (folder / "leak").symlink_to("../site-leak", target_is_directory=True)
    (folder / "alias.txt").symlink_to("notes.txt")
    (folder / "alias-dir").symlink_to("a", target_is_directory=True)
    return folder


@pytest.fixture
def hub() -> ReloadHub:
    return ReloadHub()


@pytest.fixture
def app(site: Path, hub: ReloadHub) -> PreviewApp:
    return PreviewApp(site, hub, heartbeat=0.05)


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every regular file under ``folder`` (symlinks not followed) and its bytes."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


# -- files and the injected script -----------------------------------------------------------


@pytest.mark.parametrize(("target", "page"), [("/", INDEX), ("/index.html", INDEX)])
def test_the_home_page_gets_the_script_before_head_end_once(
    app: PreviewApp, site: Path, target: str, page: bytes
) -> None:
    before = snapshot(site)
    reply = call(app, target)
    assert reply.status == 200
    assert reply.body == page.replace(b"</head>", tag() + b"</head>")
    assert reply.body.count(b"/_cssblog/reload.js") == 1
    assert reply.header("Content-Type") == "text/html; charset=utf-8"
    assert reply.header("Content-Length") == str(len(reply.body))
    assert reply.header("Cache-Control") == "no-store"
    assert snapshot(site) == before  # P-17: nothing written to the preview folder


def test_a_folder_page_is_served_with_the_script_and_the_file_left_alone(
    app: PreviewApp, site: Path
) -> None:
    reply = call(app, "/a/")
    assert reply.status == 200
    assert reply.body == PAGE_A.replace(b"</HEAD>", tag() + b"</HEAD>")
    assert (site / "a" / "index.html").read_bytes() == PAGE_A
    assert b"reload.js" not in (site / "a" / "index.html").read_bytes()


def test_the_script_carries_the_current_generation(app: PreviewApp, hub: ReloadHub) -> None:
    hub.publish(Outcome(7, frozenset({"/"}), (), (), 0.1))
    reply = call(app, "/")
    assert tag(7) in reply.body
    assert reply.body.count(b"<script") == 1


def test_a_page_without_head_gets_the_script_before_body_end(app: PreviewApp) -> None:
    reply = call(app, "/nohead/")
    assert reply.body == NO_HEAD.replace(b"</body>", tag() + b"</body>")


def test_a_page_without_head_or_body_gets_the_script_appended(app: PreviewApp) -> None:
    reply = call(app, "/fragment.html")
    assert reply.body == FRAGMENT + tag()
    assert reply.header("Content-Length") == str(len(FRAGMENT + tag()))


@pytest.mark.parametrize(
    ("target", "data", "kind"),
    [
        ("/style.css", CSS, "text/css; charset=utf-8"),
        ("/images/dot.png", PNG, "image/png"),
        ("/notes.txt", NOTES, "text/plain; charset=utf-8"),
        ("/feed.xml", FEED, "application/xml; charset=utf-8"),
    ],
)
def test_other_files_are_served_byte_for_byte(
    app: PreviewApp, target: str, data: bytes, kind: str
) -> None:
    reply = call(app, target)
    assert reply.status == 200
    assert reply.body == data  # no script, even where the bytes contain </head>
    assert reply.header("Content-Type") == kind
    assert reply.header("Content-Length") == str(len(data))
    assert reply.header("X-Content-Type-Options") == "nosniff"


@pytest.mark.parametrize("target", ["/", "/style.css", "/missing"])
def test_head_sends_the_headers_of_get_and_no_body(app: PreviewApp, target: str) -> None:
    get = call(app, target)
    head = call(app, target, method="HEAD")
    assert head.status == get.status
    assert head.body == b""
    assert head.header("Content-Length") == str(len(get.body))
    assert head.header("Content-Type") == get.header("Content-Type")


# -- redirects (P-09) -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "location"),
    [
        ("/a", "/a/"),
        ("/a?x=1", "/a/?x=1"),
        ("//a", "/a/"),
        ("///a", "/a/"),
        ("//evil.example/x", "/evil.example/x/"),
        ("/%2Fevil.example/x", "/evil.example/x/"),
        ("/alias-dir", "/alias-dir/"),
        ("/%E6%97%A5%E6%9C%AC", "/%E6%97%A5%E6%9C%AC/"),
        ("/my%20notes", "/my%20notes/"),
    ],
)
def test_a_folder_without_its_slash_redirects_to_a_local_path(
    app: PreviewApp, target: str, location: str
) -> None:
    reply = call(app, target)
    assert reply.status == 301
    assert reply.header("Location") == location
    assert not location.startswith("//")
    assert reply.body == b""


@pytest.mark.parametrize("target", ["//evil.example/%2e%2e/x", "//evil.example/x/../x"])
def test_a_scheme_relative_path_with_dot_segments_is_not_found(
    app: PreviewApp, target: str
) -> None:
    reply = call(app, target)
    assert reply.status == 404
    assert reply.header("Location") is None


def test_the_redirected_unicode_folder_is_served(app: PreviewApp) -> None:
    location = call(app, "/%E6%97%A5%E6%9C%AC").header("Location")
    assert location is not None
    reply = call(app, location)
    assert reply.status == 200
    assert b"nihon" in reply.body


# -- containment: traversal, siblings, symlinks, NUL, odd request targets ---------------------

TRAVERSALS = [
    "/../../etc/passwd",
    "/../secret.txt",
    "/a/../../secret.txt",
    "/%2e%2e/%2e%2e/etc/passwd",
    "/%2E%2E/secret.txt",
    "/%2e%2e/",
    "/..%2f..%2fetc%2fpasswd",
    "/..%2fsecret.txt",
    "/a/..%2f..%2fsecret.txt",
    "/%252e%252e/%252e%252e/etc/passwd",
    "/%252e%252e/secret.txt",
    "/..\\..\\secret.txt",
    "/..%5c..%5csecret.txt",
    "/a%5c..%5c..%5csecret.txt",
    "/.%2e/secret.txt",
    "/.%2e/",
    "/%2e/index.html",
    "/./index.html",
    "/a/./index.html",
    "/%2fetc%2fpasswd",
    "//etc/passwd",
    "/outside",
    "/../outside/data.txt",
]


@pytest.mark.parametrize("target", TRAVERSALS)
def test_traversal_never_leaves_the_folder(app: PreviewApp, target: str) -> None:  # P-05
    for method in ("GET", "HEAD"):
        reply = call(app, target, method=method)
        assert reply.status in (400, 404), target
        assert SECRET not in reply.body
        assert b"root:" not in reply.body


def test_a_double_encoded_name_is_decoded_once(app: PreviewApp) -> None:
    reply = call(app, "/%252e%252e/literal.txt")
    assert reply.status == 200
    assert reply.body == b"a file whose folder is really named %2e%2e"


@pytest.mark.parametrize(
    "target",
    ["/../site-leak/secret.txt", "/..%2fsite-leak%2fsecret.txt", "/leak/secret.txt", "/leak/"],
)
def test_a_sibling_folder_sharing_the_name_prefix_is_outside(  # P-06
    app: PreviewApp, target: str
) -> None:
    reply = call(app, target)
    assert reply.status == 404
    assert SECRET not in reply.body


@pytest.mark.parametrize(
    "target",
    [
        "/outside-file.txt",
        "/outside-dir/",
        "/outside-dir",
        "/outside-dir/index.html",
        "/outside-dir/data.txt",
    ],
)
def test_symlinks_out_of_the_folder_are_not_followed(app: PreviewApp, target: str) -> None:
    reply = call(app, target)  # P-07
    assert reply.status == 404
    assert reply.header("Location") is None
    assert SECRET not in reply.body


def test_a_symlink_to_etc_is_not_followed(app: PreviewApp, site: Path) -> None:
    (site / "etc").symlink_to("/etc", target_is_directory=True)
    for target in ("/etc/passwd", "/etc/hostname", "/etc/", "/etc"):
        reply = call(app, target)
        assert reply.status == 404, target
        assert b"root:" not in reply.body


def test_symlinks_inside_the_folder_are_served(app: PreviewApp) -> None:
    assert call(app, "/alias.txt").body == NOTES
    reply = call(app, "/alias-dir/")
    assert reply.status == 200
    assert b"page a" in reply.body


@pytest.mark.parametrize("target", ["/%00", "/index.html%00.txt", "/a/%00/", "/%00/../secret.txt"])
def test_nul_in_the_path_is_a_bad_request(app: PreviewApp, target: str) -> None:  # P-08
    reply = call(app, target)
    assert reply.status == 400
    assert SECRET not in reply.body


def test_a_raw_nul_in_path_info_is_a_bad_request(app: PreviewApp) -> None:
    env = environ("/")
    env["PATH_INFO"] = "/index.html\x00.txt"
    statuses: list[str] = []
    body = b"".join(app(env, lambda status, headers, exc_info=None: statuses.append(status)))
    assert statuses[0].startswith("400")
    assert INDEX not in body


@pytest.mark.parametrize(
    "path_info",
    ["http://evil.example/", "https://evil.example/index.html", "*", "", "evil.example:443"],
)
def test_a_target_that_is_not_an_origin_path_is_a_bad_request(  # P-10
    app: PreviewApp, path_info: str
) -> None:
    env = environ("/")
    env["PATH_INFO"] = path_info
    statuses: list[str] = []
    body = b"".join(app(env, lambda status, headers, exc_info=None: statuses.append(status)))
    assert statuses[0].startswith("400")
    assert b"<h1>Home</h1>" not in body


def test_a_path_that_is_not_utf8_is_a_bad_request(app: PreviewApp) -> None:
    assert call(app, "/%ff%fe").status == 400


@pytest.mark.parametrize("method", ["CONNECT", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"])
def test_other_methods_are_not_allowed(app: PreviewApp, site: Path, method: str) -> None:
    before = snapshot(site)
    reply = call(app, "/index.html", method=method, body=MustNotRead())
    assert reply.status == 405
    assert reply.header("Allow") == "GET, HEAD"
    assert snapshot(site) == before


@pytest.mark.parametrize("target", ["/", "/index.html", "/style.css", "/missing"])
def test_a_post_to_a_file_is_refused_without_reading_the_body(  # P-12
    app: PreviewApp, target: str
) -> None:
    headers = {"Content-Length": str(1 << 30), "Content-Type": "application/octet-stream"}
    reply = call(app, target, method="POST", headers=headers, body=MustNotRead())
    assert reply.status == 405
    assert reply.header("Allow") == "GET, HEAD"


@pytest.mark.parametrize("target", ["/" + "a" * 300, "/" + "a/" * 2100, "/a/" + "b" * 5000 + "/"])
def test_names_too_long_for_the_file_system_are_not_found(app: PreviewApp, target: str) -> None:
    reply = call(app, target)
    assert reply.status == 404
    assert b"Custom 404" in reply.body


# -- listings, dotfiles, the 404 page ---------------------------------------------------------


def test_a_folder_without_an_index_is_not_listed(app: PreviewApp) -> None:  # P-15
    reply = call(app, "/empty/")
    assert reply.status == 404
    assert b"other.txt" not in reply.body
    assert call(app, "/empty/other.txt").body == b"other"


@pytest.mark.parametrize(
    "target",
    [
        "/.git/config",
        "/.git/",
        "/.git",
        "/.env",
        "/.cssblog-output",
        "/a/.hidden",
        "/%2egit/config",
        "/%2Eenv",
    ],
)
def test_dotfiles_are_not_served(app: PreviewApp, target: str) -> None:  # P-16
    reply = call(app, target)
    assert reply.status == 404
    assert reply.header("Location") is None
    assert SECRET not in reply.body


def test_missing_pages_get_the_sites_own_404_page_with_the_script(app: PreviewApp) -> None:
    reply = call(app, "/no/such/page/")
    assert reply.status == 404
    assert reply.body == NOT_FOUND.replace(b"</head>", tag() + b"</head>")
    assert reply.header("Content-Type") == "text/html; charset=utf-8"
    assert reply.header("Content-Length") == str(len(reply.body))


def test_without_a_404_page_a_plain_one_is_sent(site: Path, hub: ReloadHub) -> None:
    (site / "404.html").unlink()
    reply = call(PreviewApp(site, hub), "/missing")
    assert reply.status == 404
    assert b"Not found" in reply.body
    assert reply.body.count(b"/_cssblog/reload.js") == 1


def test_a_404_page_that_links_outside_is_not_used(site: Path, hub: ReloadHub) -> None:
    (site / "404.html").unlink()
    (site / "404.html").symlink_to(site.parent / "secret.txt")
    reply = call(PreviewApp(site, hub), "/missing")
    assert reply.status == 404
    assert SECRET not in reply.body


# -- who may ask: Host (P-03), Origin (P-04), remote address (P-02) ---------------------------


@pytest.mark.parametrize(
    "host",
    [
        None,
        "localhost",
        "localhost:8000",
        "LOCALHOST:8000",
        "127.0.0.1",
        "127.0.0.1:8000",
        "[::1]",
        "[::1]:8000",
    ],
)
def test_local_host_names_are_answered(host: str | None) -> None:
    assert HostPolicy().allows(host)


@pytest.mark.parametrize(
    "host",
    [
        "evil.example",
        "evil.example:8000",
        "localhost.evil.example",
        "127.0.0.1.nip.io",
        "192.168.1.5:8000",
        "10.0.0.1",
        "[fe80::1]:8000",
        "localhost:",
        "localhost:80x",
        "[::1]x",
        "[::1]:x",
    ],
)
def test_other_host_names_are_refused(host: str) -> None:
    assert not HostPolicy().allows(host)


@pytest.mark.parametrize(
    ("host", "allowed"),
    [
        ("192.168.1.5:8000", True),
        ("10.0.0.1", True),
        ("[fe80::1]:8000", True),
        ("localhost:8000", True),
        ("evil.example", False),
        ("evil.example:8000", False),
        ("192.168.1.5.nip.io", False),
    ],
)
def test_bound_to_all_addresses_ip_literals_are_answered(host: str, allowed: bool) -> None:
    assert HostPolicy(any_address=True).allows(host) is allowed


@pytest.mark.parametrize("target", ["/", "/style.css", "/_cssblog/reload.js", "/missing"])
def test_a_foreign_host_header_is_misdirected(app: PreviewApp, target: str) -> None:
    reply = call(app, target, headers={"Host": "evil.example"})
    assert reply.status == 421
    assert b"<h1>Home</h1>" not in reply.body
    assert b"body { color" not in reply.body


@pytest.mark.parametrize("host", ["localhost:8000", "127.0.0.1", "[::1]:8000"])
def test_local_host_headers_get_the_page(app: PreviewApp, host: str) -> None:
    reply = call(app, "/", headers={"Host": host})
    assert reply.status == 200
    assert b"<h1>Home</h1>" in reply.body


def test_the_host_policy_is_applied_by_the_app(site: Path, hub: ReloadHub) -> None:
    lan = PreviewApp(site, hub, hosts=HostPolicy(any_address=True))
    assert call(lan, "/", headers={"Host": "192.168.1.5:8000"}, remote="192.168.1.9").status == 200
    assert call(lan, "/", headers={"Host": "evil.example"}).status == 421


def test_the_event_stream_refuses_other_origins(app: PreviewApp, hub: ReloadHub) -> None:
    hub.stop()  # so a stream that is answered ends at once
    headers = {"Host": "127.0.0.1:8000", "Origin": "https://evil.example"}
    reply = call(app, "/_cssblog/events?since=0", headers=headers)
    assert reply.status == 403
    assert b"retry" not in reply.body
    for origin in ("http://127.0.0.1:8000.evil.example", "null", "http://127.0.0.1"):
        assert call(app, "/_cssblog/events", headers={**headers, "Origin": origin}).status == 403


@pytest.mark.parametrize(
    ("host", "origin"),
    [("127.0.0.1:8000", "http://127.0.0.1:8000"), ("localhost:8000", "http://LOCALHOST:8000")],
)
def test_the_event_stream_answers_its_own_origin(
    app: PreviewApp, hub: ReloadHub, host: str, origin: str
) -> None:
    hub.stop()
    reply = call(app, "/_cssblog/events?since=0", headers={"Host": host, "Origin": origin})
    assert reply.status == 200
    assert reply.header("Content-Type") == "text/event-stream; charset=utf-8"
    assert reply.body.startswith(b"retry:")


@pytest.mark.parametrize("remote", ["192.168.1.9", "10.0.0.2", "fe80::1", "", "not-an-address"])
@pytest.mark.parametrize("target", ["/_cssblog/reload.js", "/_cssblog/events", INTAKE_PATH])
def test_the_servers_own_routes_answer_this_machine_only(  # P-02
    app: PreviewApp, hub: ReloadHub, remote: str, target: str
) -> None:
    hub.stop()
    method = "POST" if target == INTAKE_PATH else "GET"
    reply = call(app, target, method=method, remote=remote, body=MustNotRead())
    assert reply.status == 403


@pytest.mark.parametrize("remote", ["127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1"])
def test_loopback_clients_get_the_reload_script(app: PreviewApp, remote: str) -> None:
    reply = call(app, "/_cssblog/reload.js", remote=remote)
    assert reply.status == 200
    assert reply.header("Content-Type") == "text/javascript; charset=utf-8"
    assert b"EventSource" in reply.body
    style = call(app, "/_cssblog/reload.css", remote=remote)
    assert style.status == 200
    assert style.header("Content-Type") == "text/css; charset=utf-8"


def test_unknown_own_routes_are_not_found(app: PreviewApp) -> None:
    assert call(app, "/_cssblog/nothing").status == 404
    assert call(app, "/_cssblog/reload.js", method="POST", body=MustNotRead()).status == 405


# -- the event stream -------------------------------------------------------------------------


def outcome(generation: int, *changed: str, problems: tuple[Problem, ...] = ()) -> Outcome:
    return Outcome(generation, frozenset(changed), problems, (), 0.01)


def listen(app: PreviewApp, since: int = 0, page: str = "/") -> Iterator[bytes]:
    """An event stream, as ``reload.js`` opens it (``path`` is ``encodeURIComponent``-ed)."""
    status, headers, body = start(
        app, f"/_cssblog/events?since={since}&path={quote(page, safe='')}"
    )
    assert status == 200
    assert headers["Cache-Control"] == "no-store"
    stream = iter(body)
    assert next(stream).startswith(b"retry: ")
    return stream


def event(chunk: bytes) -> dict[str, Any]:
    assert chunk.startswith(b"event: build\ndata: "), chunk
    assert chunk.endswith(b"\n\n")
    assert chunk.count(b"\n") == 3  # one event, one data line
    data: dict[str, Any] = json.loads(chunk.removeprefix(b"event: build\ndata: "))
    return data


def test_a_new_listener_first_hears_the_current_build(app: PreviewApp) -> None:
    stream = listen(app)
    assert event(next(stream)) == {"generation": 0, "action": "none", "problems": []}


def test_a_quiet_stream_sends_heartbeats(app: PreviewApp) -> None:
    stream = listen(app)
    next(stream)
    assert next(stream) == b": still here\n\n"


@pytest.mark.parametrize(
    ("changed", "page", "action"),
    [
        (("/a/",), "/a/", "reload"),
        (("/a/",), "/a/index.html", "reload"),
        (("/a/",), "/b/", "none"),
        (("/a/", "/feed.xml", "/sitemap.xml"), "/b/", "none"),
        (("/style.css",), "/a/", "css"),
        (("/style.css", "/a/"), "/b/", "css"),
        (("/style.css", "/b/"), "/b/", "reload"),
        (("/images/photo.jpg",), "/a/", "reload"),
        (("/images/dot.png", "/style.css"), "/b/", "reload"),
        (("/app.js",), "/b/", "reload"),
        (("/",), "/", "reload"),
        (("/",), "/a/", "none"),
        (("/caf\u00e9/",), "/caf%C3%A9/", "reload"),  # location.pathname is percent-encoded
        (("/my notes/",), "/my%20notes/", "reload"),
    ],
)
def test_each_listener_hears_what_to_do_about_its_page(
    app: PreviewApp, hub: ReloadHub, changed: tuple[str, ...], page: str, action: str
) -> None:
    stream = listen(app, 0, page)
    assert event(next(stream))["action"] == "none"
    hub.publish(outcome(1, *changed))
    assert event(next(stream)) == {"generation": 1, "action": action, "problems": []}


def test_two_listeners_on_different_pages_hear_different_actions(
    app: PreviewApp, hub: ReloadHub
) -> None:
    on_a, on_b = listen(app, 0, "/a/"), listen(app, 0, "/b/")
    next(on_a), next(on_b)
    hub.publish(outcome(1, "/a/"))
    assert event(next(on_a))["action"] == "reload"
    assert event(next(on_b))["action"] == "none"
    hub.publish(outcome(2, "/style.css"))
    assert event(next(on_a))["action"] == "css"
    assert event(next(on_b))["action"] == "css"


def test_a_listener_behind_by_several_builds_hears_all_their_changes(
    app: PreviewApp, hub: ReloadHub
) -> None:
    hub.publish(outcome(1, "/a/"))
    hub.publish(outcome(2, "/style.css"))
    hub.publish(outcome(3, "/b/"))
    assert event(next(listen(app, 0, "/a/"))) == {
        "generation": 3,
        "action": "reload",
        "problems": [],
    }
    assert event(next(listen(app, 1, "/a/")))["action"] == "css"
    assert event(next(listen(app, 2, "/b/")))["action"] == "reload"
    assert event(next(listen(app, 3, "/b/")))["action"] == "none"


def test_a_generation_out_of_the_history_means_reload(site: Path) -> None:
    hub = ReloadHub(history=4)
    app = PreviewApp(site, hub, heartbeat=0.05)
    for generation in range(1, 11):
        hub.publish(outcome(generation, "/other/"))
    assert event(next(listen(app, 2, "/b/"))) == {
        "generation": 10,
        "action": "reload",
        "problems": [],
    }
    assert event(next(listen(app, 8, "/b/")))["action"] == "none"
    assert event(next(listen(app, 10, "/b/")))["action"] == "none"
    newer = event(next(listen(app, 50, "/b/")))  # a page from before the server restarted
    assert newer == {"generation": 10, "action": "reload", "problems": []}


def test_problems_are_carried_in_the_event(app: PreviewApp, hub: ReloadHub) -> None:
    problem = Problem(
        message="invalid date 'tomorow'",
        location="content/posts/a.md:3",
        hint="use YYYY-MM-DD",
        line=3,
        excerpt=((2, "title: A"), (3, "date: tomorow <script>")),
    )
    stream = listen(app, 0, "/a/")
    next(stream)
    hub.publish(outcome(1, problems=(problem,)))
    assert event(next(stream)) == {
        "generation": 1,
        "action": "none",
        "problems": [
            {
                "message": "invalid date 'tomorow'",
                "location": "content/posts/a.md:3",
                "hint": "use YYYY-MM-DD",
                "line": 3,
                "excerpt": [[2, "title: A"], [3, "date: tomorow <script>"]],
            }
        ],
    }
    hub.publish(outcome(2, "/a/"))  # fixed: the overlay goes away
    assert event(next(stream)) == {"generation": 2, "action": "reload", "problems": []}


def test_stopping_the_hub_ends_every_stream(app: PreviewApp, hub: ReloadHub) -> None:
    stream = listen(app)
    next(stream)
    hub.stop()
    assert list(stream) == []


def test_stopping_the_hub_releases_a_waiting_listener_at_once(site: Path, hub: ReloadHub) -> None:
    app = PreviewApp(site, hub, heartbeat=30.0)
    stream = listen(app)
    next(stream)
    rest: list[bytes] = []
    reader = threading.Thread(target=lambda: rest.extend(stream), daemon=True)
    reader.start()
    time.sleep(0.05)
    started = time.monotonic()
    hub.stop()
    reader.join(2.0)
    assert not reader.is_alive()
    assert time.monotonic() - started < 1.0
    assert rest == []


def test_a_waiting_listener_hears_a_build_published_from_another_thread(
    app: PreviewApp, hub: ReloadHub
) -> None:
    stream = listen(app, 0, "/a/")
    next(stream)
    timer = threading.Timer(0.02, hub.publish, args=(outcome(1, "/a/"),))
    timer.start()
    try:
        for _ in range(100):  # heartbeats every 0.05 s until the build is heard
            chunk = next(stream)
            if chunk != b": still here\n\n":
                break
    finally:
        timer.join()
    assert event(chunk) == {"generation": 1, "action": "reload", "problems": []}


@pytest.mark.parametrize(
    "query", ["since=abc", "since=1&path=/&a=1&b=2&c=3&d=4", "since=" + "9" * 5000 + "x"]
)
def test_a_malformed_event_query_is_a_bad_request(app: PreviewApp, query: str) -> None:
    reply = call(app, f"/_cssblog/events?{query}")
    assert reply.status == 400


def test_head_on_the_event_stream_does_not_wait(app: PreviewApp) -> None:
    reply = call(app, "/_cssblog/events?since=0", method="HEAD")
    assert reply.status == 200
    assert reply.body == b""


# -- the comment intake -----------------------------------------------------------------------

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


class Desk:
    """A comment desk that answers with a fixed :class:`Received`."""

    def __init__(self, received: Received, urls: Mapping[str, str] | None = None) -> None:
        self.received = received
        self.urls = dict(urls if urls is not None else {"hello": "/posts/hello/"})
        self.calls: list[dict[str, str]] = []

    def receive(self, fields: dict[str, str]) -> Received:
        self.calls.append(fields)
        return self.received

    def post_url(self, slug: str) -> str | None:
        return self.urls.get(slug)


def form(**fields: str) -> bytes:
    return urlencode(fields).encode()


def comment_app(site: Path, hub: ReloadHub, received: Received) -> tuple[PreviewApp, Desk]:
    desk = Desk(received)
    return PreviewApp(site, hub, comments=desk), desk


@pytest.mark.parametrize(
    ("outcome_", "anchor"),
    [
        ("published", "comment-published"),
        ("pending", "comment-pending"),
        ("trap", "comment-pending"),  # a robot is not told it was caught
    ],
)
def test_an_accepted_comment_redirects_to_its_post(
    site: Path, hub: ReloadHub, outcome_: Any, anchor: str
) -> None:
    app, desk = comment_app(site, hub, Received(outcome_, "hello"))
    body = form(post="hello", author="Ann", body="Hi\r\nthere & <b>you</b>", homepage="")
    reply = call(app, INTAKE_PATH, method="POST", headers=FORM, body=body)
    assert reply.status == 303
    assert reply.header("Location") == f"/posts/hello/#{anchor}"
    assert reply.body == b""
    assert desk.calls == [
        {"post": "hello", "author": "Ann", "body": "Hi\nthere & <b>you</b>", "homepage": ""}
    ]


def test_a_same_origin_post_is_taken(site: Path, hub: ReloadHub) -> None:
    app, desk = comment_app(site, hub, Received("published", "hello"))
    headers = {**FORM, "Host": "localhost:8000", "Origin": "http://localhost:8000"}
    reply = call(app, INTAKE_PATH, method="POST", headers=headers, body=form(post="hello"))
    assert reply.status == 303
    assert len(desk.calls) == 1


def test_a_cross_origin_post_is_refused_unread(site: Path, hub: ReloadHub) -> None:
    app, desk = comment_app(site, hub, Received("published", "hello"))
    headers = {**FORM, "Origin": "https://evil.example", "Content-Length": "20"}
    reply = call(app, INTAKE_PATH, method="POST", headers=headers, body=MustNotRead())
    assert reply.status == 403
    assert desk.calls == []


def test_a_refused_comment_shows_its_problems_escaped(site: Path, hub: ReloadHub) -> None:
    problems = ("missing your name", "<script>alert(1)</script> & \"quoted\" 'too'")
    app, _ = comment_app(site, hub, Received("refused", "hello", problems=problems))
    reply = call(app, INTAKE_PATH, method="POST", headers=FORM, body=form(post="hello"))
    assert reply.status == 400
    assert reply.header("Content-Type") == "text/html; charset=utf-8"
    assert b"<li>missing your name</li>" in reply.body
    escaped = b"&lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;quoted&#34; &#39;too&#39;"
    assert escaped in reply.body
    assert b"<script>alert" not in reply.body
    assert b'<a href="/posts/hello/#comments">' in reply.body
    assert reply.body.count(b"<script") == 1  # only the reload script


def test_a_comment_on_an_unknown_post_is_refused(site: Path, hub: ReloadHub) -> None:
    app, _ = comment_app(site, hub, Received("refused", "<img src=x onerror=alert(1)>"))
    reply = call(app, INTAKE_PATH, method="POST", headers=FORM, body=form(post="nope"))
    assert reply.status == 400
    assert b"there is no such post" in reply.body
    assert b"<img" not in reply.body
    assert b"Back to the post" not in reply.body


@pytest.mark.parametrize(
    "content_type", ["text/plain", "multipart/form-data; boundary=x", "application/json", ""]
)
def test_a_comment_of_the_wrong_content_type_is_a_bad_request(
    site: Path, hub: ReloadHub, content_type: str
) -> None:
    app, desk = comment_app(site, hub, Received("published", "hello"))
    headers = {"Content-Type": content_type}
    reply = call(app, INTAKE_PATH, method="POST", headers=headers, body=form(post="hello"))
    assert reply.status == 400
    assert desk.calls == []


@pytest.mark.parametrize("body", [b"post=a&post=b", b"post=%ff%fe", b"&".join([b"post=a"] * 20)])
def test_a_malformed_form_is_a_bad_request(site: Path, hub: ReloadHub, body: bytes) -> None:
    app, desk = comment_app(site, hub, Received("published", "hello"))
    reply = call(app, INTAKE_PATH, method="POST", headers=FORM, body=body)
    assert reply.status == 400
    assert desk.calls == []


@pytest.mark.parametrize("length", [MAX_FORM_BYTES + 1, 1 << 40])
def test_a_comment_too_long_is_refused_unread(site: Path, hub: ReloadHub, length: int) -> None:
    app, desk = comment_app(site, hub, Received("published", "hello"))
    headers = {**FORM, "Content-Length": str(length)}
    reply = call(app, INTAKE_PATH, method="POST", headers=headers, body=MustNotRead())
    assert reply.status == 413
    assert desk.calls == []


def test_a_comment_of_the_largest_size_is_read(site: Path, hub: ReloadHub) -> None:
    app, desk = comment_app(site, hub, Received("pending", "hello"))
    body = form(post="hello", body="x" * (MAX_FORM_BYTES - 20))
    assert len(body) <= MAX_FORM_BYTES
    reply = call(app, INTAKE_PATH, method="POST", headers=FORM, body=body)
    assert reply.status == 303
    assert desk.calls[0]["body"] == "x" * (MAX_FORM_BYTES - 20)


def test_a_bad_content_length_is_a_bad_request(site: Path, hub: ReloadHub) -> None:
    app, desk = comment_app(site, hub, Received("published", "hello"))
    headers = {**FORM, "Content-Length": "lots"}
    reply = call(app, INTAKE_PATH, method="POST", headers=headers, body=MustNotRead())
    assert reply.status == 400
    assert desk.calls == []


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT"])
def test_the_intake_takes_only_post(site: Path, hub: ReloadHub, method: str) -> None:
    app, desk = comment_app(site, hub, Received("published", "hello"))
    reply = call(app, INTAKE_PATH, method=method, body=MustNotRead())
    assert reply.status == 405
    assert reply.header("Allow") == "POST"
    assert desk.calls == []


def test_without_a_desk_comments_are_not_taken(app: PreviewApp) -> None:
    reply = call(app, INTAKE_PATH, method="POST", headers=FORM, body=form(post="hello"))
    assert reply.status == 404


# -- end to end over loopback sockets ---------------------------------------------------------


@dataclass
class Live:
    server: PreviewHTTPServer
    thread: threading.Thread
    log: list[str]

    @property
    def port(self) -> int:
        return self.server.port

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(5.0)
        assert not self.thread.is_alive()
        self.server.server_close()


ServeFactory = Callable[..., Live]


@pytest.fixture
def serve(app: PreviewApp, hub: ReloadHub) -> Iterator[ServeFactory]:
    """``serve()`` starts a server on 127.0.0.1 and a free port; all are stopped afterwards."""
    running: list[Live] = []

    def start_server(**kwargs: Any) -> Live:
        log: list[str] = []
        server = PreviewHTTPServer(("127.0.0.1", 0), app, log=log.append, **kwargs)
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        live = Live(server, thread, log)
        running.append(live)
        return live

    yield start_server
    hub.stop()
    for live in running:
        live.stop()


@pytest.fixture
def live(serve: ServeFactory) -> Live:
    return serve()


def fetch(
    port: int, target: str = "/", *, method: str = "GET", headers: Mapping[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(method, target, headers=dict(headers or {}))
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def raw(port: int, data: bytes, *, timeout: float = 5.0) -> bytes:
    """Send ``data`` as is; everything the server answers before closing."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(data)  # the server may answer and close before reading it all
        chunks: list[bytes] = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    return b"".join(chunks)


def status_of(response: bytes) -> int:
    assert response.startswith(b"HTTP/1."), response[:100]
    return int(response.split(b" ", 2)[1])


def still_serving(port: int) -> None:
    status, _, body = fetch(port, "/")
    assert status == 200
    assert b"<h1>Home</h1>" in body


def test_make_server_binds_loopback_only(app: PreviewApp) -> None:  # P-01
    server = make_server("127.0.0.1", 0, app)
    try:
        assert server.socket.family == socket.AF_INET
        assert server.socket.getsockname() == ("127.0.0.1", server.port)
        assert server.port != 0
        with pytest.raises(OSError):  # refused: another loopback address is not bound
            socket.create_connection(("127.0.0.2", server.port), timeout=2).close()
    finally:
        server.server_close()


def test_a_page_over_a_socket(live: Live) -> None:
    status, headers, body = fetch(live.port, "/a/")
    assert status == 200
    assert body == PAGE_A.replace(b"</HEAD>", tag() + b"</HEAD>")
    assert headers["Content-Length"] == str(len(body))
    status, headers, body = fetch(live.port, "/a/", method="HEAD")
    assert (status, body) == (200, b"")


@pytest.mark.parametrize(
    "request_line",
    [
        b"GET /../../etc/passwd HTTP/1.1",
        b"GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1",
        b"GET /..%2f..%2fetc%2fpasswd HTTP/1.1",
        b"GET /%252e%252e/%252e%252e/etc/passwd HTTP/1.1",
        b"GET /..\\..\\secret.txt HTTP/1.1",
        b"GET /.%2e/secret.txt HTTP/1.1",
        b"GET /outside-file.txt HTTP/1.1",
        b"GET /leak/secret.txt HTTP/1.1",
        b"GET /%00 HTTP/1.1",
        b"GET /index.html%00.txt HTTP/1.1",
        b"GET /\x00 HTTP/1.1",
        b"GET http://evil.example/ HTTP/1.1",
        b"GET * HTTP/1.1",
        b"OPTIONS * HTTP/1.1",
        b"CONNECT evil.example:443 HTTP/1.1",
        b"CONNECT / HTTP/1.1",
        b"GET /.git/config HTTP/1.1",
    ],
)
def test_hostile_request_lines_over_a_socket(live: Live, request_line: bytes) -> None:
    response = raw(live.port, request_line + b"\r\nHost: 127.0.0.1\r\n\r\n")
    assert status_of(response) in (400, 404, 405)
    assert b"root:" not in response
    assert SECRET not in response
    still_serving(live.port)


def test_a_scheme_relative_path_redirects_locally_over_a_socket(live: Live) -> None:  # P-09
    response = raw(live.port, b"GET //evil.example/x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert status_of(response) == 301
    assert b"\r\nLocation: /evil.example/x/\r\n" in response


def test_a_unicode_folder_redirects_over_a_socket(live: Live) -> None:
    response = raw(live.port, b"GET /%E6%97%A5%E6%9C%AC HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert status_of(response) == 301
    assert b"\r\nLocation: /%E6%97%A5%E6%9C%AC/\r\n" in response
    status, _, body = fetch(live.port, "/%E6%97%A5%E6%9C%AC/")
    assert (status, b"nihon" in body) == (200, True)


def test_a_foreign_host_over_a_socket_is_misdirected(live: Live) -> None:  # P-03
    status, _, body = fetch(live.port, "/", headers={"Host": "evil.example"})
    assert status == 421
    assert b"Home" not in body


def test_a_long_request_line_is_refused(live: Live) -> None:  # P-11
    target = b"/" + b"a" * (MAX_REQUEST_LINE + 100)
    response = raw(live.port, b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert status_of(response) == 414
    longest = b"/" + b"a" * (MAX_REQUEST_LINE - 100)  # under the limit: an ordinary 404
    response = raw(live.port, b"GET " + longest + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert status_of(response) == 404
    still_serving(live.port)


def test_too_many_headers_are_refused(live: Live) -> None:
    headers = b"".join(b"X-Header-%d: value\r\n" % n for n in range(200))
    response = raw(live.port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers + b"\r\n")
    assert status_of(response) == 431
    still_serving(live.port)


def test_a_huge_header_is_refused(live: Live) -> None:
    header = b"X-Big: " + b"a" * 100_000 + b"\r\n"
    response = raw(live.port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + header + b"\r\n")
    assert status_of(response) == 431
    still_serving(live.port)


def test_a_post_to_a_file_is_refused_over_a_socket(live: Live) -> None:
    head = b"POST /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1073741824\r\n\r\n"
    response = raw(live.port, head + b"x" * 1000)
    assert status_of(response) == 405
    still_serving(live.port)


def live_threads(baseline: set[threading.Thread]) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t not in baseline and t.is_alive()]


def test_idle_and_trickling_clients_do_not_block_others(live: Live) -> None:  # P-13, F-12
    baseline = set(threading.enumerate())
    started = time.monotonic()
    idle = [socket.create_connection(("127.0.0.1", live.port), timeout=5) for _ in range(25)]
    trickling = [socket.create_connection(("127.0.0.1", live.port), timeout=5) for _ in range(25)]
    try:
        assert time.monotonic() - started < 1.5  # a burst of connections is queued, not dropped
        for sock in trickling:
            sock.sendall(b"GET /")
        for _ in range(5):
            for sock in trickling:
                sock.sendall(b"a")
            started = time.monotonic()
            still_serving(live.port)
            assert time.monotonic() - started < 2.0
        assert len(live_threads(baseline)) >= 50  # the idle clients are really connected
        live.server.shutdown()
        live.thread.join(5.0)
        started = time.monotonic()
        live.server.server_close()
        assert time.monotonic() - started < 2.0  # open connections are ended, not waited out
        assert live_threads(baseline) == []  # and their threads are gone when it returns
        for sock in idle + trickling:
            sock.settimeout(2.0)
            with contextlib.suppress(ConnectionResetError):
                assert sock.recv(1024) == b""
    finally:
        for sock in idle + trickling:
            sock.close()


def closed_by_server(sock: socket.socket) -> bool:
    readable, _, _ = select.select([sock], [], [], 0)
    if not readable:
        return False
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True


def test_a_trickled_request_line_is_cut_off_at_the_timeout(serve: ServeFactory) -> None:
    live = serve(request_timeout=0.5)
    idle = socket.create_connection(("127.0.0.1", live.port), timeout=5)
    trickle = socket.create_connection(("127.0.0.1", live.port), timeout=5)
    try:
        trickle.sendall(b"GET /")
        started = time.monotonic()
        while time.monotonic() - started < 3.0 and not closed_by_server(trickle):
            try:
                trickle.sendall(b"a")  # one byte every 0.1 s: each read is quick, the whole is not
            except (BrokenPipeError, ConnectionResetError):
                break
            time.sleep(0.1)
        assert time.monotonic() - started < 1.5
        idle.settimeout(2.0)
        assert idle.recv(1024) == b""  # a silent client is dropped too
        still_serving(live.port)
    finally:
        idle.close()
        trickle.close()


def test_headers_sent_in_pieces_within_the_deadline_are_read(serve: ServeFactory) -> None:
    live = serve(request_timeout=2.0)
    head = b"GET /notes.txt HTTP/1.1\r\n"
    with socket.create_connection(("127.0.0.1", live.port), timeout=5) as sock:
        for piece in (head, b"Host: 127.0.0.1\r\n", b"\r\n"):
            sock.sendall(piece)
            time.sleep(0.1)
        response = b""
        while chunk := sock.recv(65536):
            response += chunk
    assert status_of(response) == 200
    assert response.endswith(NOTES)


def test_clients_leaving_mid_response_do_not_hurt_the_server(
    live: Live, site: Path, capfd: pytest.CaptureFixture[str]
) -> None:  # P-14
    (site / "big.bin").write_bytes(os.urandom(1024) * (BIG_SIZE // 1024))
    for _ in range(5):
        sock = socket.create_connection(("127.0.0.1", live.port), timeout=5)
        sock.sendall(b"GET /big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        sock.recv(100)  # the response has started
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()  # with a reset
    for _ in range(5):
        with socket.create_connection(("127.0.0.1", live.port), timeout=5) as sock:
            sock.sendall(b"GET /big.bin HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    still_serving(live.port)
    status, _, body = fetch(live.port, "/big.bin")
    assert (status, len(body)) == (200, BIG_SIZE)
    live.stop()
    assert "Traceback" not in capfd.readouterr().err


def test_many_requests_leave_no_threads_or_files_behind(live: Live) -> None:  # F-12
    still_serving(live.port)
    baseline = set(threading.enumerate())
    proc_fds = Path("/proc/self/fd")
    fds = len(list(proc_fds.iterdir())) if proc_fds.is_dir() else None
    for n in range(300):
        target = ("/", "/style.css", "/missing", "/a")[n % 4]
        status, _, _ = fetch(live.port, target)
        assert status in (200, 301, 404)
    deadline = time.monotonic() + 2.0
    while live_threads(baseline) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert live_threads(baseline) == []
    if fds is not None:
        assert len(list(proc_fds.iterdir())) <= fds + 2


def test_the_event_stream_over_a_socket(live: Live, hub: ReloadHub) -> None:
    with socket.create_connection(("127.0.0.1", live.port), timeout=5) as sock:
        sock.sendall(
            b"GET /_cssblog/events?since=0 HTTP/1.1\r\n"
            b"Host: 127.0.0.1:%d\r\nOrigin: https://evil.example\r\n\r\n" % live.port
        )
        assert sock.makefile("rb").readline().startswith(b"HTTP/1.0 403")

    request = (
        f"GET /_cssblog/events?since=0&path=%2Fa%2F HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{live.port}\r\nOrigin: http://127.0.0.1:{live.port}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", live.port), timeout=5) as sock:
        sock.sendall(request)
        stream = sock.makefile("rb")
        assert stream.readline().startswith(b"HTTP/1.0 200")
        while stream.readline() != b"\r\n":
            pass
        assert stream.readline().startswith(b"retry: ")
        assert stream.readline() == b"\n"

        def next_event() -> dict[str, Any]:
            while (line := stream.readline()) != b"event: build\n":
                assert line in (b": still here\n", b"\n"), line
            data = stream.readline()
            assert stream.readline() == b"\n"
            return event(b"event: build\n" + data + b"\n")

        assert next_event()["action"] == "none"
        hub.publish(outcome(1, "/a/"))
        assert next_event() == {"generation": 1, "action": "reload", "problems": []}
        hub.stop()
        assert stream.read() == b""  # the stream ends and the connection closes
