"""What the last build was made from, to see at once that a rebuild has nothing to do.

After each build a small file records a digest of every input (each content file's hash, the
theme's files, the settings and the cssblog version), the build's summary, and the next moment
at which the passing of time alone changes the site: a scheduled post going live, or a post's
comments closing after ``close_after_days``. A later build whose inputs hash the same, before
that moment, leaves ``output/`` as it is without loading the cache or the model.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from cssblog.errors import CssblogError
from cssblog.sources import SourceFile
from cssblog.theme import Theme

if TYPE_CHECKING:
    from cssblog.content import Post


@dataclass(frozen=True, slots=True)
class BuildState:
    """The inputs and the outcome of a successful build."""

    inputs: str
    next_change: datetime | None
    posts: int
    pages: int
    files: int
    warnings: tuple[CssblogError, ...]
    pending_comments: int
    unanswered_comments: int

    def still_current(self, inputs: str, now: datetime) -> bool:
        """The same inputs, and time has not yet changed what they publish."""
        return self.inputs == inputs and (self.next_change is None or now < self.next_change)


def state_file(cache_dir: Path, output: Path) -> Path:
    """Where the state of builds into ``output`` is kept."""
    name = hashlib.blake2b(str(output).encode(), digest_size=8).hexdigest()
    return cache_dir / f"state-{name}.json"


def inputs_digest(settings: str, files: Sequence[SourceFile], theme: Theme) -> str:
    """One digest of everything a build reads."""
    digest = hashlib.blake2b(settings.encode(), digest_size=16)
    for source in files:
        digest.update(f"{source.kind}\0{source.location}\0{source.digest}\n".encode())
    for folder in (*theme.template_dirs, *theme.static_dirs):
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            digest.update(str(path).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def next_change(posts: Sequence[Post], now: datetime, *, close_after_days: int) -> datetime | None:
    """The first moment after ``now`` at which the same sources publish differently.

    A scheduled post going live counts whether drafts are shown or not: it appears, or it
    loses its draft badge."""
    moments = [p.date for p in posts if not p.draft and p.date > now]
    if close_after_days:
        closing = timedelta(days=close_after_days)
        moments += [p.date + closing for p in posts if p.comments == "open"]
    return min((m for m in moments if m > now), default=None)


def load_state(path: Path) -> BuildState | None:
    """The recorded state, or ``None`` when there is none or it cannot be read."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return BuildState(
            inputs=data["inputs"],
            next_change=(datetime.fromisoformat(data["next_change"])
                         if data["next_change"] else None),
            posts=data["posts"],
            pages=data["pages"],
            files=data["files"],
            warnings=tuple(
                CssblogError(w["message"], path=w["path"], line=w["line"], hint=w["hint"])
                for w in data["warnings"]
            ),
            pending_comments=data["pending_comments"],
            unanswered_comments=data["unanswered_comments"],
        )  # fmt: skip
    except (OSError, ValueError, KeyError, TypeError):
        return None


def save_state(path: Path, state: BuildState) -> None:
    """Record ``state`` atomically."""
    data = {
        "inputs": state.inputs,
        "next_change": state.next_change.isoformat() if state.next_change else None,
        "posts": state.posts,
        "pages": state.pages,
        "files": state.files,
        "warnings": [
            {
                "message": w.message,
                "path": str(w.path) if w.path else None,
                "line": w.line,
                "hint": w.hint,
            }
            for w in state.warnings
        ],
        "pending_comments": state.pending_comments,
        "unanswered_comments": state.unanswered_comments,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}")
    temp.write_text(json.dumps(data), encoding="utf-8")
    temp.replace(path)


def forget_state(path: Path) -> None:
    """Drop the record (before a build that may fail half-way)."""
    path.unlink(missing_ok=True)
