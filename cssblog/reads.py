"""Note which fields of its posts a page reads, so that a change to other fields leaves it be.

A page is rendered with each :class:`Article` of its context wrapped in an
:class:`ArticleView`, which notes every field the templates read. Anything else done with an
article (printing it, comparing or hashing it, asking for a name that is not a field) counts as
reading all of it, as does a context value of a kind not known to hold no articles. The archive
shows each post's title, date and link: with what it read noted, an edit to a post's body does
not render the archive again.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from pathlib import PurePath
from typing import Any

ALL = "*"
"""Noted when a page used an article in a way that may show any of its fields."""
_PLAIN = (str, bytes, int, float, bool, type(None), datetime, date)


class ArticleView:
    """An article as one page's templates see it: each field they read is noted."""

    __slots__ = ("_article", "_reads")

    def __init__(self, article: Any, reads: set[str]) -> None:
        self._article = article
        self._reads = reads

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # a special name (``__html__``, ...): not a field
            self._reads.add(ALL)
            raise AttributeError(name)
        value = getattr(self._article, name)  # a name that is no field raises: nothing to note
        self._reads.add(name)
        return value

    def __eq__(self, other: object) -> bool:
        self._reads.add(ALL)
        return bool(self._article == (other._article if isinstance(other, ArticleView) else other))

    def __hash__(self) -> int:
        self._reads.add(ALL)
        return hash(self._article)

    def __repr__(self) -> str:
        self._reads.add(ALL)
        return repr(self._article)


class Watcher:
    """Wrap the articles of one page's context, one view for each article."""

    def __init__(self, article_type: type, leaves: frozenset[type]) -> None:
        self.reads: set[str] = set()
        self._article_type = article_type
        self._leaves = leaves
        """Types that hold no article: left as they are, unwalked."""
        self._views: dict[int, ArticleView] = {}

    def watched(self, value: Any) -> Any:
        """``value`` with every article in it wrapped."""
        kind = type(value)
        if kind is self._article_type:
            view = self._views.get(id(value))
            if view is None:
                view = self._views[id(value)] = ArticleView(value, self.reads)
            return view
        if kind in _PLAIN or kind in self._leaves or isinstance(value, PurePath):
            return value
        if kind is tuple:
            items = tuple(self.watched(item) for item in value)
            return value if all(a is b for a, b in zip(items, value, strict=True)) else items
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            changes = {
                f.name: new
                for f in dataclasses.fields(value)
                if (new := self.watched(getattr(value, f.name))) is not getattr(value, f.name)
            }
            return dataclasses.replace(value, **changes) if changes else value
        self.reads.add(ALL)  # a kind that may hold articles unseen
        return value
