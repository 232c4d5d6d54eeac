"""Find comments that are the same comment submitted more than once."""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, MutableMapping, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from cssblog.comments.model import Comment, identity

_NOT_WORD = re.compile(r"[\W_]+")


@dataclass(frozen=True, slots=True)
class DuplicateGroup:
    """Copies of one comment: ``keep`` is the earliest (approved first), ``copies`` the rest."""

    keep: Comment
    copies: tuple[Comment, ...]


def normalise_body(body: str) -> str:
    """Text as compared: NFKC, case-folded, punctuation and Markdown syntax out, spaces folded."""
    text = unicodedata.normalize("NFKC", body).casefold()
    return " ".join(_NOT_WORD.sub(" ", text).split())


def same_person(a: Comment, b: Comment) -> bool:
    """Same name (case-folded), or the same email."""
    if a.email and b.email and a.email.strip().casefold() == b.email.strip().casefold():
        return True
    return bool(identity(a.author)) and identity(a.author) == identity(b.author)


def is_duplicate(a: Comment, b: Comment, threshold: float) -> bool:
    """Same post, same person, same or nearly the same text."""
    if a.post_slug != b.post_slug or not same_person(a, b):
        return False
    return similar(normalise_body(a.body), normalise_body(b.body), threshold)


def similar(x: str, y: str, threshold: float) -> bool:
    """Two normalised texts are equal, or at least ``threshold`` alike."""
    if x == y:
        return True
    matcher = SequenceMatcher(None, x, y, autojunk=False)
    return matcher.real_quick_ratio() >= threshold and matcher.ratio() >= threshold


def find_duplicates(
    comments: Iterable[Comment],
    threshold: float,
    memo: MutableMapping[str, Any] | None = None,
) -> tuple[DuplicateGroup, ...]:
    """Groups of duplicates among ``comments`` (already-marked duplicates and spam left out).

    ``memo`` (the build cache) keeps each post's groups from the last build, reused while the
    post's comments are the very same objects (as the cache gives them back).
    """
    by_post: dict[str, list[Comment]] = defaultdict(list)
    for comment in comments:
        if comment.status not in ("duplicate", "spam", "rejected"):
            by_post[comment.post_slug].append(comment)
    groups: list[DuplicateGroup] = []
    used: dict[str, Any] = {}
    for slug, post_comments in by_post.items():
        ordered = tuple(sorted(post_comments, key=lambda c: (c.date, c.id)))
        found = memo.get(slug) if memo is not None else None
        if found is None or found[0] != threshold or not same_objects(found[1], ordered):
            found = (threshold, ordered, _groups(ordered, threshold))
        used[slug] = found
        groups.extend(found[2])
    if memo is not None:
        memo.clear()
        memo.update(used)
    return tuple(groups)


def same_objects(these: Sequence[Any], those: Sequence[Any]) -> bool:
    """The two sequences hold the very same objects, in order (cheaper than comparing values)."""
    return len(these) == len(those) and all(a is b for a, b in zip(these, those, strict=True))


def _groups(ordered: Sequence[Comment], threshold: float) -> list[DuplicateGroup]:
    taken: set[str] = set()
    groups = []
    texts = [normalise_body(c.body) for c in ordered]
    names = [identity(c.author) for c in ordered]
    emails = [c.email.strip().casefold() for c in ordered]
    for i, first in enumerate(ordered):
        if first.id in taken:
            continue
        members = [first] + [
            c
            for j, c in enumerate(ordered[i + 1 :], start=i + 1)
            if c.id not in taken
            and ((emails[i] and emails[i] == emails[j]) or (names[i] and names[i] == names[j]))
            and similar(texts[i], texts[j], threshold)
        ]
        if len(members) > 1:
            taken.update(c.id for c in members)
            keep = next((c for c in members if c.status == "approved"), members[0])
            groups.append(DuplicateGroup(keep, tuple(c for c in members if c is not keep)))
    return groups
