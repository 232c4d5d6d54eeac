"""Helpers for tests of `cssblog serve`: a small site, a running session, bounded waits."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cssblog.serve import PreviewSession
from tests.conftest import BASE_CONFIG, NOW, post

SITE_CONFIG = BASE_CONFIG + '\n[comments]\nmoderation = "first-time"\n'


def site_files(count: int = 3) -> dict[str, str]:
    """``count`` posts dated January 2026 (``/2026/01/post-N/``) and one draft."""
    files = {
        f"content/posts/2026-01-0{i + 1}-post-{i}.md": post(
            f"Post {i}", f"2026-01-0{i + 1} 10:00", body=f"Original text {i}.\n", tags=["t"]
        )
        for i in range(count)
    }
    files["content/posts/2026-02-01-draft.md"] = post(
        "A draft", "2026-02-01 10:00", body="Draft text.\n", draft=True
    )
    return files


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll ``predicate`` until it holds or ``timeout`` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


@contextmanager
def running(site: Path, **options: Any) -> Iterator[PreviewSession]:
    """A started preview session on a free port of 127.0.0.1, always stopped afterwards."""
    session = PreviewSession(site, clock=lambda: NOW, port=0, **options)
    first = session.start()
    assert first.ok, first.problems
    try:
        yield session
    finally:
        session.stop()
