"""Helpers to write comment files for tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import yaml

from cssblog.comments.model import Comment


def comment_file(
    author: str = "Dana Reader",
    body: str = "A thoughtful comment.",
    *,
    date: str = "2026-01-10 10:00",
    email: str = "dana@example.com",
    status: str | None = "approved",
    **extra: object,
) -> str:
    """The text of a comment file."""
    meta: dict[str, object] = {"author": author, "email": email, "date": date}
    if status is not None:
        meta["status"] = status
    meta.update(extra)
    return "---\n" + yaml.safe_dump(meta, sort_keys=False) + "---\n" + body + "\n"


def make_comment(
    cid: str, *, parent: str | None = None, minute: int = 0, **fields: object
) -> Comment:
    """An in-memory comment for unit tests."""
    values: dict[str, object] = {
        "post_slug": "p",
        "id": cid,
        "author": "Dana",
        "email": "dana@example.com",
        "url": "",
        "date": datetime(2026, 1, 1, 10, minute, tzinfo=UTC),
        "parent": parent,
        "status": "approved",
        "moderation_note": "",
        "duplicate_of": None,
        "body": f"Comment {cid}",
        "path": Path(f"/tmp/{cid}.md"),
    }
    values.update(fields)
    return Comment(**values)  # type: ignore[arg-type]
