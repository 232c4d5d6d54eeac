"""Done means: a reader comments on the deployed site in a real browser, and the author finds the
comment in the inbox, approves it and publishes it. The built site and the intake share one
origin on 127.0.0.1, as they do behind nginx or Caddy."""

from __future__ import annotations

import json
import mimetypes
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cssblog.build import build_site
from cssblog.cli import main
from cssblog.httpd import PreviewHTTPServer, make_server
from cssblog.intake_app import ROUTE, create_app
from tests.browsing import browser
from tests.conftest import BASE_CONFIG, NOW, MakeSite, post

pytestmark = pytest.mark.browser
__all__ = ["browser"]  # the shared fixture


class _Deployed:
    """The built site's files, and the intake at /comments: what the web server does."""

    def __init__(self, output: Path) -> None:
        self.output = output
        self.intake: Callable[..., Iterable[bytes]] | None = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ["PATH_INFO"]
        if path == ROUTE and self.intake is not None:
            return self.intake(environ, start_response)
        target = self.output / path.lstrip("/")
        if target.is_dir():
            target = target / "index.html"
        if ".." in path or not target.is_file():
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Not found"]
        kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        start_response("200 OK", [("Content-Type", kind)])
        return [target.read_bytes()]


@pytest.fixture
def deployed(make_site: MakeSite) -> Iterator[tuple[Path, str, _Deployed]]:
    root = make_site({"content/posts/2026-01-05-hello.md": post("Hello", "2026-01-05 10:00")})
    app = _Deployed(root / "output")
    server: PreviewHTTPServer = make_server("127.0.0.1", 0, app)
    base = f"http://127.0.0.1:{server.port}"
    config = BASE_CONFIG.replace("https://blog.example.org", base)
    (root / "cssblog.toml").write_text(config + f'\n[comments]\nintake_url = "{base}/comments"\n')
    build_site(root, now=NOW)
    app.intake = create_app(root)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield root, base, app
    finally:
        server.shutdown()
        thread.join(10)
        server.server_close()


def test_a_reader_comments_and_the_author_finds_approves_and_publishes_it(
    deployed: tuple[Path, str, _Deployed], browser: Any
) -> None:
    root, base, _ = deployed
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(f"{base}/2026/01/hello/")
        page.fill("#comment-name", "Riley Reader")
        page.fill("#comment-email", "riley@example.net")
        page.fill("#comment-body", "How do you answer **the angry ones**?")
        page.click(".comment-form button[type=submit]")
        page.wait_for_url(f"{base}/2026/01/hello/#comment-pending", timeout=10_000)
        assert page.is_visible("#comment-pending")
        assert not page.is_visible("#comment-published")
    finally:
        context.close()

    runner = CliRunner()
    inbox = runner.invoke(main, ["comments", "inbox", "--site", str(root), "--json"])
    (item,) = json.loads(inbox.output)
    assert (item["kind"], item["author"]) == ("pending", "Riley Reader")
    approved = runner.invoke(main, ["comments", "approve", item["id"], "--site", str(root)])
    assert approved.exit_code == 0, approved.output
    build_site(root, now=NOW)
    page_html = (root / "output/2026/01/hello/index.html").read_text()
    assert "How do you answer <strong>the angry ones</strong>?" in page_html
    assert "riley@example.net" not in page_html
