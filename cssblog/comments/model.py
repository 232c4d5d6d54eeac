"""A reader's comment as stored in ``content/comments/<post-slug>/<id>.md``."""

from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal

from cssblog.pickling import CachedValue

Status = Literal["pending", "approved", "rejected", "spam", "duplicate"]
STATUSES: tuple[Status, ...] = ("pending", "approved", "rejected", "spam", "duplicate")
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,79}")
# Bidi controls, zero-width and other invisible format characters (Trojan Source).
_INVISIBLE = re.compile("[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\u00ad]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class Comment(CachedValue):
    """One comment file, checked and typed. ``email`` is never published."""

    post_slug: str
    id: str
    author: str
    email: str
    url: str
    date: datetime
    parent: str | None
    status: Status
    moderation_note: str
    duplicate_of: str | None
    body: str
    path: Path

    @property
    def key(self) -> str:
        """``<post-slug>/<comment-id>``, how the command line names a comment."""
        return f"{self.post_slug}/{self.id}"


def new_comment_id(now: datetime) -> str:
    """An id that sorts by time and cannot be guessed: ``20261123T120000-9f1c2a7b3d4e``."""
    return f"{now:%Y%m%dT%H%M%S}-{secrets.token_hex(6)}"


def clean_name(name: str) -> str:
    """A display name with invisible, bidi and control characters removed and spaces folded."""
    name = _CONTROL.sub("", _INVISIBLE.sub("", unicodedata.normalize("NFC", name)))
    return " ".join(name.split())


@lru_cache(maxsize=4096)  # asked of every stored comment's author for each new comment
def identity(name: str) -> str:
    """A name as compared for blocking and de-duplication (NFKC, case-folded, invisibles out)."""
    return clean_name(unicodedata.normalize("NFKC", name)).casefold()
