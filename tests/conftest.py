"""Shared fixtures: small ad-hoc sites in ``tmp_path`` and a fixed clock."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

import pytest

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

BASE_CONFIG = """\
[site]
title = "Test Blog"
url = "https://blog.example.org"
description = "A blog for tests."
author = "Jane Writer"
timezone = "UTC"
posts_per_page = 2

[customer_service]
category = "Customer Service"
description = "Posts about *answering* people."

[[authors]]
name = "Jane Writer"
email = "jane@example.org"
bio = "Jane runs a **support** team."
"""

MakeSite = Callable[..., Path]


def post(title: str, date: str, body: str = "Body text.", **meta: object) -> str:
    """A post file's text with the given front matter."""
    lines = [f'title: "{title}"', f"date: {date}"]
    for key, value in meta.items():
        if isinstance(value, list | tuple):
            items = ", ".join(f'"{v}"' for v in value)
            lines.append(f"{key}: [{items}]")
        elif isinstance(value, bool):
            lines.append(f"{key}: {str(value).lower()}")
        else:
            lines.append(f'{key}: "{value}"')
    return "---\n" + "\n".join(lines) + "\n---\n" + textwrap.dedent(body)


@pytest.fixture
def make_site(tmp_path: Path) -> MakeSite:
    """``make_site({"content/posts/a.md": "..."})`` writes a site and returns its root."""

    def make(
        files: Mapping[str, str | bytes] | None = None,
        *,
        config: str = BASE_CONFIG,
        name: str = "site",
    ) -> Path:
        root = tmp_path / name
        root.mkdir()
        (root / "cssblog.toml").write_text(config, encoding="utf-8")
        for relative, content in (files or {}).items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
        return root

    return make


def tree(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` with its bytes (for before/after comparisons)."""
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def wait_for(flag: Path, seconds: float = 20) -> None:
    """Wait until another process has made ``flag`` (so that tests of forked copies order
    their processes by what they did, not by sleeping)."""
    deadline = time.monotonic() + seconds
    while not flag.exists():
        assert time.monotonic() < deadline, f"{flag.name} never came"
        time.sleep(0.002)
