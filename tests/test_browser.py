"""Real headless Chromium on the built sample site, served on 127.0.0.1."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from cssblog.build import build_site
from tests.browsing import browser, serve_folder
from tests.conftest import NOW

__all__ = ["browser"]  # the fixture, shared with the other browser tests

ROOT = Path(__file__).parent.parent
pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def site_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    site = tmp_path_factory.mktemp("browser") / "site"
    shutil.copytree(ROOT / "content", site / "content")
    shutil.copy(ROOT / "cssblog.toml", site)
    build_site(site, now=NOW)
    with serve_folder(site / "output") as url:
        yield url


def test_reader_follows_nav_to_customer_service_and_a_post(browser: object, site_url: str) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    errors: list[str] = []
    hosts: set[str] = set()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: hosts.add(urlsplit(r.url).hostname or r.url))
    page.goto(site_url + "/")
    assert page.title() == "Attention to Service"
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Customer Service").click()
    page.wait_for_url("**/category/customer-service/")
    assert page.locator("h1").first.inner_text() == "Customer Service"
    first = page.locator("main article h2 a, main article h3 a").first
    title = first.inner_text()
    first.click()
    page.wait_for_load_state()
    assert page.locator("h1").first.inner_text() == title
    assert page.locator("section#comments").count() == 1
    assert page.locator(".badge-cs").first.is_visible()
    assert errors == []
    assert hosts == {"127.0.0.1"}
    page.close()


def test_pages_fit_a_360_pixel_screen(browser: object, site_url: str) -> None:
    page = browser.new_page(viewport={"width": 360, "height": 740})  # type: ignore[attr-defined]
    for path in ("/", "/2025/05/measuring-first-response-time/", "/archive/"):
        page.goto(site_url + path)
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= 360, (path, overflow)
    page.close()


def test_skip_link_reaches_main_content(browser: object, site_url: str) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto(site_url + "/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#main"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.close()
