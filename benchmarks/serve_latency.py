"""Time `cssblog serve` from saving one post to the open page showing the edit.

For each site (the repository's sample site, and generated corpora of N posts) it starts a
preview session on 127.0.0.1, saves an edit of one post the way editors do (write a temp file,
rename it over the post), and measures:

- reload-ready: from the save to the server's live-reload event telling that post's page to
  reload (the watcher's debounce and the writing of the page included: when only the post's
  body changed, its page is written and announced before the rest of the rebuild);
- rebuild: the whole warm rebuild that follows, as the preview reports it (the listings and
  feeds that show the post are written by its end);
- in the browser: from the save to headless Chromium showing the new text on the open page
  (reload-ready plus the page's own reload), when Playwright and Chromium are available.

Usage: python benchmarks/serve_latency.py [--posts 1000] [--runs 7] [--no-browser]
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

from corpus import write_corpus  # noqa: E402

from cssblog.serve import PreviewSession  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")


def _listen(port: int, since: int, path: str, arrived: list[float]) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    connection.request("GET", f"/_cssblog/events?since={since}&path={path}")
    response = connection.getresponse()
    while True:
        line = response.fp.readline()
        if not line:
            return
        if line.startswith(b"data: "):
            event = json.loads(line[6:])
            if event["generation"] > since and event["action"] == "reload":
                arrived.append(time.perf_counter())
                connection.close()
                return


def _save(path: Path, marker: str) -> float:
    text = path.read_text()
    head, _, body = text.partition("\n---\n")
    temp = path.with_name(path.name + ".saving")
    temp.write_text(f"{head}\n---\n{marker}\n\n{body}")
    started = time.perf_counter()
    temp.replace(path)
    return started


def _post_to_edit(session: PreviewSession) -> tuple[Path, str]:
    posts = sorted((session.root / "content/posts").glob("*.md"))
    source = posts[len(posts) // 2]
    urls = session.preview.post_urls
    for slug, url in urls.items():
        if source.stem.endswith(slug):
            return source, url
    raise SystemExit(f"cannot find the URL of {source}")


def measure(site: Path, runs: int, browser: bool) -> dict[str, object]:
    started = time.perf_counter()
    session = PreviewSession(site, clock=lambda: datetime.now(UTC), port=0)
    first = session.start()
    startup = time.perf_counter() - started
    if not first.ok:
        raise SystemExit(f"the site did not build: {first.problems}")
    source, url = _post_to_edit(session)
    ready: list[float] = []
    rebuild: list[float] = []
    shown: list[float] = []
    try:
        for run in range(runs):
            arrived: list[float] = []
            since = session.hub.generation
            listener = threading.Thread(
                target=_listen, args=(session.server.port, since, url, arrived)
            )
            listener.start()
            time.sleep(0.3)  # the listener is connected
            begun = time.monotonic()
            saved = _save(source, f"Edit number {run} for timing.")
            listener.join(timeout=60)
            if not arrived:
                raise SystemExit("no reload event arrived")
            ready.append(arrived[0] - saved)
            # The page may be announced before the rebuild ends: wait for the rebuild.
            if not session.wait_for_rebuild(begun, 60):
                raise SystemExit("the rebuild did not finish")
            if session.preview.last is not None:
                rebuild.append(session.preview.last.seconds)
            time.sleep(0.3)
        if browser and CHROMIUM.exists():
            shown = _browser_runs(session, source, url, runs)
    finally:
        session.stop()
    return {
        "posts": first.pages,
        "startup_s": round(startup, 2),
        "reload_ready_ms": _summary(ready),
        "rebuild_ms": _summary(rebuild),
        "browser_shows_ms": _summary(shown) if shown else None,
    }


def _browser_runs(session: PreviewSession, source: Path, url: str, runs: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    shown = []
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-background-networking", "--disable-gpu"],
        )
        page = chromium.new_page()
        page.goto(session.url.rstrip("/") + url)
        for run in range(runs):
            page.wait_for_function(
                "() => document.documentElement.dataset.cssblogGeneration !== undefined"
            )
            marker = f"Browser edit {run} shown."
            saved = _save(source, marker)
            page.wait_for_selector(f"text={marker}", timeout=60_000)
            shown.append(time.perf_counter() - saved)
            time.sleep(0.3)
        chromium.close()
    return shown


def _summary(values: list[float]) -> dict[str, float]:
    ms = sorted(v * 1000 for v in values)
    return {
        "median": round(statistics.median(ms), 1),
        "min": round(ms[0], 1),
        "max": round(ms[-1], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, nargs="*", default=[1000])
    parser.add_argument("--comments", type=int, default=3)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="cssblog-serve-") as work:
        sample = Path(work) / "sample"
        shutil.copytree(REPO / "content", sample / "content")
        shutil.copy(REPO / "cssblog.toml", sample / "cssblog.toml")
        results["sample site"] = measure(sample, args.runs, not args.no_browser)
        print(json.dumps({"sample site": results["sample site"]}), flush=True)
        for count in args.posts:
            site = Path(work) / f"posts-{count}"
            write_corpus(site, count, args.comments)
            results[f"{count} posts"] = measure(site, args.runs, not args.no_browser)
            print(json.dumps({f"{count} posts": results[f"{count} posts"]}), flush=True)
    print("| site | pages | reload-ready (median, min–max) | rebuild | browser shows edit |")
    print("|---|---|---|---|---|")
    for name, result in results.items():
        ready = result["reload_ready_ms"]
        rebuild = result["rebuild_ms"]
        shown = result["browser_shows_ms"]
        assert isinstance(ready, dict) and isinstance(rebuild, dict)
        print(
            f"| {name} | {result['posts']} | {ready['median']} ms ({ready['min']}–{ready['max']}) "
            f"| {rebuild['median']} ms | "
            + (f"{shown['median']} ms" if isinstance(shown, dict) else "—")
            + " |"
        )


if __name__ == "__main__":
    main()
