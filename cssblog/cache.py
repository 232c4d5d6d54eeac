"""A persistent memo of parsed sources, rendered Markdown and page fingerprints.

Entries are keyed by content hash (never mtime). The whole cache is ignored and rebuilt when it
is missing, unreadable, written by another cssblog version, or made with other settings: it is
never trusted over the sources.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import secrets
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

from cssblog import __version__, collector

_FORMAT = 4  # raise when CacheData changes shape


@dataclass(slots=True)
class CacheData:
    """What one build leaves for the next (mutable: filled in during a build)."""

    key: str
    sources: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    markdown: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    comment_html: dict[str, str] = field(default_factory=dict)
    pages: dict[str, tuple[bytes, frozenset[str]]] = field(default_factory=dict)
    comment_threads: dict[Any, Any] = field(default_factory=dict)
    """Each post's comment threads, by its comment files (see ``publish_comments``)."""
    duplicate_groups: dict[Any, Any] = field(default_factory=dict)
    """Each post's duplicate comments, by its comment files (see ``find_duplicates``)."""
    manifest: frozenset[str] | None = None
    """The files the last build left in its output folder."""


class Carried(dict[Any, Any]):
    """This build's entries; a lookup that finds an entry of the last build carries it over.

    Only what a build used is saved for the next one, so the cache does not grow with every
    edit.
    """

    def __init__(self, previous: dict[Any, Any]) -> None:
        super().__init__()
        self._previous = previous
        self.fresh = False

    def __setitem__(self, key: Any, value: Any) -> None:
        self.fresh = self.fresh or key not in self._previous
        super().__setitem__(key, value)

    @property
    def same_as_before(self) -> bool:
        """Nothing new was added, and everything of the last build was used."""
        return not self.fresh and len(self) == len(self._previous)

    def get(self, key: Any, default: Any = None) -> Any:
        if key in self:
            return self[key]
        if key in self._previous:
            value = self[key] = self._previous[key]
            return value
        return default


def unchanged(data: CacheData, previous: CacheData) -> bool:
    """True when saving ``data`` would write what ``previous`` already holds."""
    carried = (data.sources, data.markdown, data.comment_html)
    return (
        all(isinstance(c, Carried) and c.same_as_before for c in carried)
        and data.pages == previous.pages
        and data.comment_threads == previous.comment_threads
        and data.duplicate_groups == previous.duplicate_groups
        and data.manifest == previous.manifest
    )


def carry_over(previous: CacheData) -> CacheData:
    """A cache for this build that reuses what it needs of ``previous``."""
    return CacheData(
        key=previous.key,
        sources=Carried(previous.sources),
        markdown=Carried(previous.markdown),
        comment_html=Carried(previous.comment_html),
        pages=previous.pages,
        comment_threads=dict(previous.comment_threads),
        duplicate_groups=dict(previous.duplicate_groups),
        manifest=previous.manifest,
    )


def cache_key(*parts: object) -> str:
    """A key for everything that changes what a build produces: version and settings."""
    digest = hashlib.blake2b(digest_size=16)
    for part in (_FORMAT, __version__, *parts):
        digest.update(repr(part).encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()


def cache_file(cache_dir: Path, output: Path) -> Path:
    """The cache of builds into ``output`` (each output folder has its own)."""
    name = hashlib.blake2b(str(output).encode(), digest_size=8).hexdigest()
    return cache_dir / f"build-{name}.pickle"


def load_cache(path: Path, key: str) -> CacheData:
    """The cache at ``path`` if it was made with ``key``; an empty one otherwise."""
    try:
        with path.open("rb") as handle, collector.paused():
            data = pickle.load(handle)
    except (
        OSError,
        EOFError,
        pickle.UnpicklingError,
        AttributeError,
        ImportError,
        IndexError,
        TypeError,
        ValueError,
    ):
        return CacheData(key)
    if not isinstance(data, CacheData) or not _complete(data) or data.key != key:
        return CacheData(key)
    return data


def _complete(data: CacheData) -> bool:
    """Every field is there (a cache written by an older shape may lack some)."""
    try:
        return all(getattr(data, f.name) is not MISSING for f in fields(data))
    except AttributeError:
        return False


def detached(data: CacheData) -> CacheData:
    """``data`` with plain dicts: a carried-over dict keeps the last build's alive."""
    return CacheData(
        **{f.name: _plain(getattr(data, f.name)) for f in fields(data)},
    )


def _plain(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else value


def save_cache(path: Path, data: CacheData) -> None:
    """Write the cache atomically (a killed build leaves the old cache or none)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}")
    with temp.open("wb") as handle, collector.paused():
        pickle.dump(detached(data), handle, protocol=pickle.HIGHEST_PROTOCOL)
    temp.replace(path)
