"""A persistent memo of parsed sources, rendered Markdown and page fingerprints.

Entries are keyed by content hash (never mtime). The cache is kept in three files (shards): the
posts and pages with their rendered bodies, the comments with their threads, and the pages'
fingerprints with the list of output files. A build rewrites only the shards it changed, so
editing a post does not write the comments again, nor approving a comment the posts. A shard is
ignored and rebuilt when it is missing, unreadable, written by another cssblog version, or made
with other settings: it is never trusted over the sources.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from cssblog import __version__, collector

_FORMAT = 8  # raise when CacheData changes shape

SHARDS: dict[str, tuple[str, ...]] = {
    "posts": ("sources", "markdown", "articles", "article_digests", "interned"),
    "comments": ("comment_sources", "comment_threads", "duplicate_groups", "comment_digests"),
    "pages": ("pages", "manifest"),
}
"""Each file of the cache and the fields of :class:`CacheData` it holds."""


@dataclass(slots=True)
class CacheData:
    """What one build leaves for the next (mutable: filled in during a build)."""

    key: str
    sources: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    """Parsed posts and pages, by file and content."""
    comment_sources: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    """Parsed comments, by file and content."""
    markdown: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    pages: dict[str, tuple[bytes, frozenset[str]]] = field(default_factory=dict)
    comment_threads: dict[str, Any] = field(default_factory=dict)
    """Each post's comment threads with its comments, by post (see ``publish_comments``)."""
    duplicate_groups: dict[str, Any] = field(default_factory=dict)
    """Each post's duplicate comments with its comments, by post (see ``find_duplicates``)."""
    articles: dict[str, Any] = field(default_factory=dict)
    """Each post's article as the theme sees it, by source file (see ``build_model``)."""
    article_digests: tuple[tuple[Any, bytes], ...] = ()
    """The articles' digests (see ``Fingerprints.known``)."""
    interned: dict[Any, Any] = field(default_factory=dict)
    """The terms and authors the articles hold, by themselves (see ``build_model``)."""
    comment_digests: tuple[tuple[Any, bytes], ...] = ()
    """The published comments' digests."""
    manifest: frozenset[str] | None = None
    """The files the last build left in its output folder."""
    recipes: Any = None
    """What the last build's pages were made from (``LastRecipes``): kept in memory by a
    long-running process, never saved."""
    bodies: dict[Any, Any] = field(default_factory=dict)
    """Each post's and page's body and URL, by source: kept in memory, never saved."""


_MISSING = object()


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
        value = dict.get(self, key, _MISSING)
        if value is not _MISSING:
            return value
        value = self._previous.get(key, _MISSING)
        if value is _MISSING:
            return default
        dict.__setitem__(self, key, value)  # from the last build: not fresh
        return value


def _changed_shards(data: CacheData, previous: CacheData | None) -> list[str]:
    """The shards whose fields in ``data`` differ from those in ``previous``."""
    if previous is None:
        return list(SHARDS)
    return [
        shard
        for shard, names in SHARDS.items()
        if not all(_same(getattr(data, n), getattr(previous, n)) for n in names)
    ]


def _same(value: Any, before: Any) -> bool:
    if isinstance(value, Carried):
        return value.same_as_before
    return bool(value == before)


def carry_over(previous: CacheData) -> CacheData:
    """A cache for this build that reuses what it needs of ``previous``."""
    return CacheData(
        key=previous.key,
        sources=Carried(previous.sources),
        comment_sources=Carried(previous.comment_sources),
        markdown=Carried(previous.markdown),
        pages=previous.pages,
        comment_threads=dict(previous.comment_threads),
        duplicate_groups=dict(previous.duplicate_groups),
        articles=dict(previous.articles),
        interned=dict(previous.interned),
        article_digests=previous.article_digests,
        comment_digests=previous.comment_digests,
        manifest=previous.manifest,
        recipes=previous.recipes,
        bodies=previous.bodies,
    )


def cache_key(*parts: object) -> str:
    """A key for everything that changes what a build produces: version and settings."""
    digest = hashlib.blake2b(digest_size=16)
    for part in (_FORMAT, __version__, *parts):
        digest.update(repr(part).encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()


def cache_file(cache_dir: Path, output: Path) -> Path:
    """The cache of builds into ``output`` (each output folder has its own).

    The name of its first shard; the others are named after it (see :func:`shard_files`).
    """
    name = hashlib.blake2b(str(output).encode(), digest_size=8).hexdigest()
    return cache_dir / f"build-{name}.pickle"


def shard_files(path: Path) -> dict[str, Path]:
    """Each shard's file, for the cache named ``path``."""
    return {shard: path.with_name(f"{path.stem}.{shard}{path.suffix}") for shard in SHARDS}


def load_cache(path: Path, key: str) -> CacheData:
    """The cache at ``path`` as far as it was made with ``key``; empty where it was not."""
    data = CacheData(key)
    for shard, file in shard_files(path).items():
        for name, value in _load_shard(file, key, SHARDS[shard]).items():
            setattr(data, name, value)
    return data


def _load_shard(path: Path, key: str, names: tuple[str, ...]) -> dict[str, Any]:
    """The fields a shard holds, or none if it is missing, unreadable or for another key."""
    try:
        with path.open("rb") as handle, collector.paused():
            shard = pickle.load(handle)
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
        return {}
    if not (isinstance(shard, tuple) and len(shard) == 3 and shard[:2] == (_FORMAT, key)):
        return {}
    values = shard[2]
    if not isinstance(values, dict) or set(values) != set(names):
        return {}
    return values


def detached(data: CacheData) -> CacheData:
    """``data`` with plain dicts: a carried-over dict keeps the last build's alive."""
    return CacheData(
        **{f.name: _plain(getattr(data, f.name)) for f in fields(data)},
    )


def _plain(value: Any) -> Any:
    return dict(value) if isinstance(value, dict) else value


def save_cache(
    path: Path, data: CacheData, previous: CacheData | None = None, *, workers: int = 1
) -> None:
    """Write the shards of ``data`` that differ from ``previous`` (all without it).

    Each shard is written atomically: a killed build leaves its old file or none, and every
    entry is keyed by content, so old and new shards side by side are still right. With
    ``workers`` above 1, a site of :data:`~cssblog.workers.FORK_MIN` posts and pages or more,
    and no other thread in this process, a forked copy pickles a shard (the posts', as a
    rule) while this process pickles the others.
    """
    import threading  # not imported by a build with nothing to do

    from cssblog.workers import FORK_MIN, forked

    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)  # the cache as one file (format 4 and before)
    files = shard_files(path)
    for target in files.values():
        _remove_dead_leftovers(target)

    def save(shard: str) -> None:
        values = {name: _plain(getattr(data, name)) for name in SHARDS[shard]}
        target = files[shard]
        temp = target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(4)}")
        try:
            with temp.open("wb") as handle, collector.paused():
                pickle.dump((_FORMAT, data.key, values), handle, protocol=pickle.HIGHEST_PROTOCOL)
            temp.replace(target)
        except BaseException:
            temp.unlink(missing_ok=True)  # a full disk or Ctrl-C leaves no half-made shard
            raise

    # A copy pays for itself only with a large posts shard; a process with other threads
    # (an application that builds while it serves) is never forked.
    share = len(data.sources) >= FORK_MIN and threading.active_count() == 1
    try:
        forked(save, _changed_shards(data, previous), workers if share else 1, at_least=2)
    except BaseException:  # the copy was stopped, perhaps mid-shard: it left its file
        for target in files.values():
            _remove_dead_leftovers(target)
        raise


def _remove_dead_leftovers(target: Path) -> None:
    """Remove the new files for ``target`` that a process no longer running left (one killed
    while it saved the cache): those of a live one may be in use (a second preview of the
    site saves its cache without the build lock)."""
    for leftover in target.parent.glob(f".{target.name}.*-*"):
        pid = leftover.name[len(target.name) + 2 :].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not _running(int(pid)):
            leftover.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's
        return True
    return True
