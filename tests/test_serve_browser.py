"""`cssblog serve` in real headless Chromium: live reload, the error overlay, the comment form."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cssblog.serve import PreviewSession
from tests.browsing import browser
from tests.conftest import MakeSite, post
from tests.serving import SITE_CONFIG, running, site_files, wait_until

__all__ = ["browser"]

pytestmark = pytest.mark.browser

THEME_CSS = "body { color: rgb(1, 2, 3); }\n"


@pytest.fixture
def session(make_site: MakeSite) -> Iterator[PreviewSession]:
    files = site_files()
    files["themes/default/static/extra.css"] = THEME_CSS
    root = make_site(files, config=SITE_CONFIG)
    with running(root, heartbeat=0.5) as started:
        yield started


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda exc: errors.append(str(exc)))
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    yield opened
    context.close()
    assert errors == [], errors


def _source(session: PreviewSession, number: int) -> Path:
    return session.root / f"content/posts/2026-01-0{number + 1}-post-{number}.md"


def test_an_open_page_reloads_with_the_saved_text(session: PreviewSession, page: Any) -> None:
    page.goto(f"{session.url}2026/01/post-1/")
    page.wait_for_function("() => document.querySelector('script[src=\"/_cssblog/reload.js\"]')")
    page.evaluate("window.marker = 'before'")
    _wait_listening(page)
    _source(session, 1).write_text(
        post("Post 1", "2026-01-02 10:00", body="Words that arrived live.\n", tags=["t"])
    )
    page.wait_for_selector("text=Words that arrived live.", timeout=10_000)
    assert page.evaluate("window.marker") is None  # the page was reloaded


def test_a_broken_save_shows_the_overlay_and_a_fix_clears_it(
    session: PreviewSession, page: Any
) -> None:
    page.goto(f"{session.url}2026/01/post-0/")
    _wait_listening(page)
    _source(session, 0).write_text('---\ntitle: "Post 0"\ndate: [never\n---\nBroken.\n')
    overlay = page.wait_for_selector(".cssblog-overlay", timeout=10_000)
    text = overlay.inner_text()
    assert "content/posts/2026-01-01-post-0.md:" in text
    assert "date: [never" in text  # the offending lines of the file
    assert "Original text 0." in page.inner_text("main")  # the last good page underneath

    _source(session, 0).write_text(post("Post 0", "2026-01-01 10:00", body="Mended.\n"))
    page.wait_for_selector("text=Mended.", timeout=10_000)
    assert page.query_selector(".cssblog-overlay") is None


def test_a_stylesheet_change_is_swapped_in_without_a_reload(
    session: PreviewSession, page: Any
) -> None:
    page.goto(f"{session.url}2026/01/post-0/")
    _wait_listening(page)
    page.evaluate("window.marker = 'kept'")
    css = session.root / "themes/default/static/style.css"
    bundled = Path(__file__).parents[1] / "cssblog/themes/default/static/style.css"
    css.write_text(bundled.read_text() + "\nbody { background: rgb(10, 20, 30); }\n")
    page.wait_for_function(
        "() => getComputedStyle(document.body).backgroundColor === 'rgb(10, 20, 30)'",
        timeout=10_000,
    )
    assert page.evaluate("window.marker") == "kept"


def test_the_comment_form_stores_a_pending_comment_and_says_so(
    session: PreviewSession, page: Any
) -> None:
    page.goto(f"{session.url}2026/01/post-2/")
    page.fill("#comment-name", "Rosa Reader")
    page.fill("#comment-email", "rosa@example.net")
    page.fill("#comment-body", "Does this work for <b>chat</b> queues too?")
    page.click("button[type=submit]")
    page.wait_for_url("**/2026/01/post-2/#comment-pending", timeout=15_000)
    assert page.is_visible("#comment-pending")
    assert not page.is_visible("#comment-published")
    folder = session.root / "content/comments/post-2"
    assert wait_until(lambda: len(list(folder.glob("*.md"))) == 1)
    stored = next(folder.glob("*.md")).read_text()
    assert "status: pending" in stored
    assert "Does this work for <b>chat</b> queues too?" in stored
    assert "Does this work" not in page.inner_text("#comments")  # not published before approval


def _wait_listening(page: Any) -> None:
    """Wait until the page's event stream has had its first message."""
    page.wait_for_function(
        "() => document.documentElement.dataset.cssblogGeneration !== undefined"
        " || document.querySelector('.cssblog-overlay') !== null",
        timeout=10_000,
    )
