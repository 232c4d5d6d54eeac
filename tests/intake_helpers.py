"""Helpers for tests of the comment intake: a small site, a fake clock, WSGI calls without
sockets, and reading back what was stored."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml

from cssblog.config import load_config
from cssblog.intake_app import IntakeApp
from tests.comment_helpers import comment_file
from tests.conftest import BASE_CONFIG, NOW, MakeSite, post
from tests.wsgi_calls import Reply
from tests.wsgi_calls import call as wsgi_call

SITE = "https://blog.example.org"
FORM = "application/x-www-form-urlencoded"
READER = "203.0.113.7"
INTAKE_CONFIG = (
    BASE_CONFIG
    + f"""
[comments]
moderation = "first-time"
intake_url = "{SITE}/comments"
"""
)
APPROVED = "20260110T100000-aaaaaaaaaaaa"
PENDING = "20260110T110000-bbbbbbbbbbbb"
HELLO_URL = f"{SITE}/2026/01/hello/"


def intake_files() -> dict[str, str]:
    """An open post, posts closed, hidden, old, draft and scheduled, and two comments."""
    return {
        "content/posts/2026-01-05-hello.md": post("Hello", "2026-01-05 10:00"),
        "content/posts/shut.md": post("Shut", "2026-01-06 10:00", comments="closed"),
        "content/posts/quiet.md": post("Quiet", "2026-01-07 10:00", comments="hidden"),
        "content/posts/old.md": post("Old", "2020-01-01 10:00"),
        "content/posts/draft.md": post("Draft", "2026-01-08 10:00", draft=True),
        "content/posts/later.md": post("Later", "2027-06-01 10:00"),
        f"content/comments/hello/{APPROVED}.md": comment_file("Dana", "First!", status="approved"),
        f"content/comments/hello/{PENDING}.md": comment_file(
            "Eve", "Waiting.", email="eve@example.com", status="pending"
        ),
    }


def intake_site(make_site: MakeSite, extra: str = "", *, intake: str = "") -> Path:
    """The intake's test site; ``extra`` goes into ``[comments]``, ``intake`` into ``[intake]``."""
    config = INTAKE_CONFIG + extra + ("\n[intake]\n" + intake if intake else "")
    return make_site(intake_files(), config=config)


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_intake(root: Path, clock: Clock | None = None, **options: Any) -> IntakeApp:
    return IntakeApp(load_config(root), clock=lambda: NOW, monotonic=clock or Clock(), **options)


def call(
    app: Any,
    path: str = "/comments",
    *,
    method: str = "POST",
    remote: str = READER,
    **options: Any,
) -> Reply:
    """Call the intake as ``wsgiref`` would, by default a POST to /comments from a reader."""
    return wsgi_call(app, path, method=method, remote=remote, **options)


def form(**fields: str) -> bytes:
    return urlencode(fields).encode()


def reader(**overrides: str) -> dict[str, str]:
    """The theme's form as a reader fills it in."""
    fields = {
        "post": "hello",
        "parent": "",
        "author": "Riley Reader",
        "email": "riley@example.net",
        "url": "",
        "body": "How do you answer the angry ones?",
        "homepage": "",
    }
    fields.update(overrides)
    return fields


def send(app: Any, fields: Mapping[str, str] | None = None, **options: Any) -> Reply:
    """Post the form from the site's own page."""
    headers = {"Content-Type": FORM, "Origin": SITE, **options.pop("headers", {})}
    return call(app, headers=headers, body=form(**(fields or reader())), **options)


def send_json(app: Any, data: object, **options: Any) -> Reply:
    headers = {"Content-Type": "application/json", "Origin": SITE, **options.pop("headers", {})}
    return call(app, headers=headers, body=json.dumps(data).encode(), **options)


def stored(root: Path, slug: str = "hello") -> list[Path]:
    """The comment files of a post, leaving out the two the site starts with."""
    folder = root / "content/comments" / slug
    found = sorted(folder.glob("*.md")) if folder.is_dir() else []
    return [p for p in found if p.stem not in (APPROVED, PENDING)]


def front_matter(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    _, front, _ = text.split("---\n", 2)
    data = yaml.safe_load(front)
    assert isinstance(data, dict)
    return data


def every_file(root: Path) -> set[str]:
    """Every file of the site but its cache (where the intake's lock file lives)."""
    return {
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and ".cssblog-cache" not in p.parts
    }
