"""O6: hostile comments on a real page in headless Chromium never run script (RELIABILITY.md §2a).

One post carries an approved comment for every body payload X-01...X-44 and every author URL
payload U-01...U-05 (``J`` is ``window.__x=1``). The built site is served on 127.0.0.1; every
link in the comments section is hovered and clicked, then ``window.__x`` must still be
undefined and no dialog or popup may have opened. Requests for any host but 127.0.0.1 are
aborted and recorded: the only ones allowed are top-level navigations to the exact href of a
link that was clicked (two body links point at https://x.example).

It runs twice: with the theme's Content-Security-Policy, and with CSP bypassed so that the
sanitiser alone is under test. A planted page proves the harness notices script running.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from cssblog.build import build_site
from tests.browsing import browser, serve_folder
from tests.conftest import BASE_CONFIG, NOW, post
from tests.test_comment_safety import U_ROWS, X_BODIES, comment_text

POST_PATH = "/2026/01/p/"
pytestmark = pytest.mark.browser
__all__ = ["browser"]  # the shared fixture

BODIES = {k: v for k, v in X_BODIES.items() if k.startswith("X-") and k <= "X-44"}
URLS = {
    k: url for k, (url, _) in U_ROWS.items() if k[:4] in ("U-01", "U-02", "U-03", "U-04", "U-05")
}
HOSTILE_NAMES = [
    "<img src=x onerror=window.__x=1>",
    X_BODIES["X-28"],
    "{{ 7*7 }}<script>window.__x=1</script>",
    '" onmouseover="window.__x=1',
]
CANARY = """<!doctype html>
<html><head><title>canary</title></head><body>
<section id="comments"><article class="comment">
<p><a href="javascript:window.__x=1">script link</a></p>
<p><a href="#" onmouseover="window.__x=2">hover me</a></p>
<p><a href="#" onclick="alert('canary')">dialog</a></p>
<img src="https://evil.example/pixel.gif" alt="">
</article></section>
</body></html>
"""


def _write_site(root: Path) -> int:
    """The post and its comments; returns how many comments are approved."""
    root.mkdir(parents=True)
    (root / "cssblog.toml").write_text(BASE_CONFIG, encoding="utf-8")
    (root / "content/posts").mkdir(parents=True)
    (root / "content/posts/p.md").write_text(post("P", "2026-01-05", "Post body."), "utf-8")
    folder = root / "content/comments/p"
    folder.mkdir(parents=True)
    urls = list(URLS.values())
    for i, (row, body) in enumerate(BODIES.items()):
        name = HOSTILE_NAMES[i] if i < len(HOSTILE_NAMES) else f"Reader {row}"
        text = comment_text(
            author=f"{name} {i:02d}",
            email=f"r{i}@readers.example",
            url=urls[i] if i < len(urls) else None,
            date=f"2026-01-06 {10 + i // 60:02d}:{i % 60:02d}",
            body=body,
        )
        (folder / f"c{i:02d}.md").write_text(text, encoding="utf-8")
    return len(BODIES)


@dataclass
class Site:
    base: str
    approved: int


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("comment-browser") / "site"
    approved = _write_site(root)
    build_site(root, now=NOW)
    (root / "output/canary.html").write_text(CANARY, encoding="utf-8")
    with serve_folder(root / "output") as url:
        yield Site(url, approved)


@dataclass(frozen=True)
class OffHost:
    url: str
    resource_type: str
    navigation: bool


@dataclass
class Findings:
    x_values: list[object] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    popups: list[str] = field(default_factory=list)
    off_host: list[OffHost] = field(default_factory=list)
    csp_reports: list[str] = field(default_factory=list)
    clicked: list[str] = field(default_factory=list)
    comments: int = 0
    links: int = 0


def _without_fragment(url: str) -> str:
    return url.split("#", 1)[0]


def exercise(context: Any, url: str) -> Findings:
    """Load ``url``, hover and click every link in ``#comments``, and record what happened."""
    found = Findings()

    def route(handle: Any) -> None:
        request = handle.request
        if urlsplit(request.url).hostname == "127.0.0.1":
            handle.continue_()
            return
        found.off_host.append(
            OffHost(request.url, request.resource_type, request.is_navigation_request())
        )
        handle.abort()

    def on_dialog(dialog: Any) -> None:
        found.dialogs.append(dialog.message)
        dialog.dismiss()

    def on_console(message: Any) -> None:
        if "Content Security Policy" in message.text:
            found.csp_reports.append(message.text)

    def check(page: Any) -> None:
        try:
            found.x_values.append(page.evaluate("window.__x"))
        except Exception:  # the page navigated while evaluating: check the new one
            page.wait_for_load_state()
            found.x_values.append(page.evaluate("window.__x"))

    context.route("**/*", route)
    page = context.new_page()
    context.on("page", lambda p: found.popups.append(p.url))
    page.on("dialog", on_dialog)
    page.on("console", on_console)
    page.goto(url)
    found.comments = page.locator("#comments article.comment").count()
    found.links = page.locator("#comments a").count()
    check(page)
    for i in range(found.links):
        if _without_fragment(page.url) != url:
            page.goto(url)
        link = page.locator("#comments a").nth(i)
        found.clicked.append(link.evaluate("a => a.href"))
        if link.is_visible():
            link.scroll_into_view_if_needed(timeout=5_000)
            link.hover(timeout=5_000)
            check(page)
            link.click(timeout=5_000)
        else:  # a link hidden by markup (inside <svg>, say) still gets the events
            link.dispatch_event("mouseover")
            check(page)
            link.dispatch_event("click")
        page.wait_for_timeout(100)
        check(page)
    page.goto(url)
    page.wait_for_timeout(500)
    check(page)
    page.close()
    return found


def unexpected_off_host(found: Findings) -> list[OffHost]:
    """Off-host requests other than a top-level navigation to the very link that was clicked."""
    clicked = set(found.clicked)
    return [r for r in found.off_host if not (r.navigation and r.url in clicked)]


@pytest.mark.parametrize("bypass_csp", [False, True], ids=["theme-csp", "csp-bypassed"])
def test_hostile_comments_run_no_script_in_chromium(
    browser: Any, site: Site, bypass_csp: bool
) -> None:
    context = browser.new_context(bypass_csp=bypass_csp)
    try:
        found = exercise(context, site.base + POST_PATH)
    finally:
        context.close()
    assert found.comments == site.approved
    assert found.links >= site.approved  # at least every comment's permalink was clicked
    assert [x for x in found.x_values if x is not None] == []
    assert found.dialogs == []
    assert found.popups == []
    assert found.csp_reports == []  # nothing even tried to run and was blocked
    assert unexpected_off_host(found) == []
    assert {urlsplit(u).hostname for u in found.clicked if u} <= {"127.0.0.1", "x.example"}


def test_harness_notices_script_dialogs_and_off_host_loads(browser: Any, site: Site) -> None:
    context = browser.new_context()
    try:
        found = exercise(context, site.base + "/canary.html")
    finally:
        context.close()
    assert {1, 2} <= {x for x in found.x_values if x is not None}
    assert found.dialogs == ["canary"]
    assert {r.url for r in unexpected_off_host(found)} == {"https://evil.example/pixel.gif"}
