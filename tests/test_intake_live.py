"""The intake over loopback sockets: parallel copies of one comment (F-13, I-15), two processes
writing at once, a bounded load test, the ``cssblog intake`` command, and the factory a WSGI
server such as gunicorn calls. Everything binds 127.0.0.1, bounds its waits and stops its
servers."""

from __future__ import annotations

import http.client
import select
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC
from pathlib import Path
from urllib.parse import urlencode
from wsgiref.validate import validator

import pytest

from cssblog.comments.store import load_comments
from cssblog.httpd import PreviewHTTPServer, make_server
from cssblog.intake_app import create_app
from tests.conftest import BASE_CONFIG, MakeSite, post
from tests.intake_helpers import (
    FORM,
    HELLO_URL,
    SITE,
    call,
    form,
    intake_site,
    reader,
    send,
    stored,
)

ROOT = Path(__file__).parent.parent
CLIENTS = 20
LOAD = 2000
UNLIMITED = "rate_per_minute = 0\nflood_seconds = 0\nmax_queued = 0\n"


@pytest.fixture
def serving() -> Iterator[Callable[[Path], PreviewHTTPServer]]:
    """Start the intake of a site on a free port of 127.0.0.1; stopped after the test."""
    started: list[tuple[PreviewHTTPServer, threading.Thread]] = []

    def start(root: Path) -> PreviewHTTPServer:
        server = make_server("127.0.0.1", 0, create_app(root))
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.start()
        started.append((server, thread))
        return server

    yield start
    for server, thread in started:
        server.shutdown()
        thread.join(10)
        server.server_close()


def post_form(port: int, fields: dict[str, str]) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(
            "POST",
            "/comments",
            body=urlencode(fields),
            headers={"Content-Type": FORM, "Origin": SITE},
        )
        response = connection.getresponse()
        response.read()
        return response.status, response.getheader("Location") or ""
    finally:
        connection.close()


def test_F13_twenty_identical_posts_at_once_give_one_file(
    make_site: MakeSite, serving: Callable[[Path], PreviewHTTPServer]
) -> None:
    root = intake_site(make_site, intake=UNLIMITED)
    server = serving(root)
    barrier = threading.Barrier(CLIENTS)
    answers: list[tuple[int, str]] = []

    def client() -> None:
        barrier.wait(10)
        answers.append(post_form(server.port, reader()))

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert answers == [(303, f"{HELLO_URL}#comment-pending")] * CLIENTS
    assert len(stored(root)) == 1


WRITER = textwrap.dedent(
    """
    import io, sys, time
    from pathlib import Path
    from urllib.parse import urlencode
    sys.path.insert(0, sys.argv[2])
    from cssblog.intake_app import create_app

    app = create_app(sys.argv[1])
    (Path(sys.argv[1]) / f"ready-{sys.argv[4]}").touch()
    go = Path(sys.argv[1]) / "go"
    while not go.exists():
        time.sleep(0.01)
    for i in range(int(sys.argv[3])):
        body = urlencode({"post": "hello", "author": f"Reader {i}",
                          "email": f"r{i}@example.net", "body": f"Comment {i}."}).encode()
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/comments", "REMOTE_ADDR": "::1",
                   "CONTENT_TYPE": "application/x-www-form-urlencoded",
                   "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
                   "HTTP_ORIGIN": "https://blog.example.org"}
        statuses = []
        b"".join(app(environ, lambda status, headers: statuses.append(status)))
        assert statuses == ["303 See Other"], statuses
    """
)


def test_F13_two_processes_sending_the_same_comments_write_each_once(make_site: MakeSite) -> None:
    root = intake_site(make_site, intake=UNLIMITED)
    count = "30"
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(root), str(ROOT), count, str(n)])
        for n in range(2)
    ]
    deadline = time.monotonic() + 60
    while len(list(root.glob("ready-*"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    (root / "go").touch()  # both have loaded the engine: they start together
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    bodies = Counter(c.body for c in load_comments(root, UTC).comments)
    assert all(bodies[f"Comment {i}."] == 1 for i in range(int(count))), bodies


def load_site(make_site: MakeSite) -> Path:
    files = {
        f"content/posts/p{i}.md": post(f"Post {i}", f"2026-01-{i + 1:02d} 10:00")
        for i in range(CLIENTS)
    }
    config = BASE_CONFIG + f'\n[comments]\nintake_url = "{SITE}/comments"\n[intake]\n' + UNLIMITED
    return make_site(files, config=config)


def test_load_every_accepted_comment_is_on_disk_exactly_once(
    make_site: MakeSite,
    serving: Callable[[Path], PreviewHTTPServer],
    record_property: Callable[[str, object], None],
) -> None:
    root = load_site(make_site)
    server = serving(root)
    accepted: list[str] = []
    failures: list[tuple[int, str]] = []

    def client(number: int) -> None:
        for i in range(LOAD // CLIENTS):
            body = f"Load comment {number}-{i}: the queue moved at a fair pace."
            fields = {"post": f"p{number}", "author": f"Reader {number}-{i}",
                      "email": f"r{number}-{i}@example.net", "body": body}  # fmt: skip
            status, location = post_form(server.port, fields)
            if status == 303:
                accepted.append(body)
            else:
                failures.append((status, location))

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    seconds = time.perf_counter() - started
    rate = len(accepted) / seconds
    record_property("comments_per_second", round(rate, 1))
    sys.stderr.write(f"\nintake load: {len(accepted)} comments, {CLIENTS} clients, {rate:.0f}/s\n")
    assert failures == []
    assert len(accepted) == LOAD
    on_disk = Counter(c.body for c in load_comments(root, UTC).comments)
    assert on_disk == Counter(accepted)
    assert rate > 40  # a floor that catches a regression, not a benchmark


def test_the_factory_is_a_plain_wsgi_app(make_site: MakeSite) -> None:
    root = intake_site(make_site, intake=UNLIMITED)
    app = validator(create_app(str(root)))
    reply = call(app, headers={"Content-Type": FORM, "Origin": SITE}, body=form(**reader()))
    assert reply.status == 303
    assert call(app, "/healthz", method="GET").body == b"ok"
    assert call(app, "/nowhere", method="GET").status == 404


def test_the_factory_reads_the_site_from_the_environment(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = intake_site(make_site, intake=UNLIMITED)
    monkeypatch.setenv("CSSBLOG_SITE", str(root))
    assert send(create_app()).status == 303
    assert len(stored(root)) == 1


def test_the_intake_command_serves_logs_and_stops_on_sigterm(make_site: MakeSite) -> None:
    root = intake_site(make_site)
    process = subprocess.Popen(
        [sys.executable, "-m", "cssblog", "intake", "--site", str(root), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        assert line.startswith(f"Taking comments for {SITE} at http://127.0.0.1:"), line
        port = int(line.split("127.0.0.1:")[1].split("/")[0])
        assert post_form(port, reader()) == (303, f"{HELLO_URL}#comment-pending")
        health = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        health.request("GET", "/healthz")
        assert health.getresponse().read() == b"ok"
        health.close()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0
        log = process.stderr.read() if process.stderr else ""
        assert "method=POST path=/comments status=303" in log
        assert "method=GET path=/healthz status=200" in log
        assert "riley" not in log.lower()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert len(stored(root)) == 1


def test_the_intake_command_refuses_a_bad_configuration(make_site: MakeSite) -> None:
    from click.testing import CliRunner

    from cssblog.cli import main

    root = intake_site(make_site, intake='trusted_proxies = ["nonsense"]\n')
    result = CliRunner().invoke(main, ["intake", "--site", str(root)])
    assert result.exit_code == 1
    assert "trusted_proxies: 'nonsense' is not an address or network" in result.stderr


def test_a_slow_body_is_cut_off(
    make_site: MakeSite,
    serving: Callable[[Path], PreviewHTTPServer],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("cssblog.intake_http.BODY_SECONDS", 0.5)
    root = intake_site(make_site, intake=UNLIMITED)
    server = serving(root)
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    body = form(**reader())
    connection.putrequest("POST", "/comments")
    for name, value in {
        "Content-Type": FORM,
        "Origin": SITE,
        "Content-Length": str(len(body)),
    }.items():
        connection.putheader(name, value)
    connection.endheaders()
    started = time.monotonic()
    assert connection.sock is not None
    for byte in body[:30]:  # a byte every 0.1 s: each read is in time, the whole is not
        if select.select([connection.sock], [], [], 0.1)[0]:
            break  # the answer came
        connection.send(bytes([byte]))
    response = connection.getresponse()
    assert response.status == 408
    assert time.monotonic() - started < 5
    connection.close()
    assert stored(root) == []
