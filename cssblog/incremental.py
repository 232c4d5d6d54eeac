"""Decide which outputs must be produced again: per-output dependency fingerprints.

A page's fingerprint covers its template set, its recipe (the values its context is made of:
the post, its neighbours, its comments, ...) and every attribute of ``site`` that its templates
read while it was last rendered (recorded through :class:`SiteRecorder`). When none of them
changed and the file is still in the output folder, the page is not rendered again and the
writer keeps the old file.

A long-running process (the preview server) also keeps the last build's recipes in memory
(:class:`LastRecipes`). A recipe made of the very same model objects as the last one, or of
values equal in a way that renders alike (see :func:`same_value`), is unchanged without being
digested: the model reuses the objects of whatever did not change. It also keeps which fields
of its articles each page read when it was rendered in this process (see :mod:`cssblog.reads`):
an article that changed only in fields a page did not read leaves that page as it was.
"""

from __future__ import annotations

import dataclasses
import hashlib
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PosixPath, PurePosixPath
from typing import Any

from cssblog import urls
from cssblog.fingerprint import Fingerprints
from cssblog.reads import ALL, Watcher

# Methods of the site model and the data they read; any other method counts as reading it all.
_METHOD_SOURCES = {"posts_of": "posts_by_term"}
_EXACT = frozenset({str, int, bool, bytes, type(None), date, PosixPath, PurePosixPath})
"""Types whose equal values are alike in every way a template can show them (not floats:
``0.0 == -0.0``; datetimes are compared with their time zones, below)."""


def same_value(
    a: Any,
    b: Any,
    fields: dict[type, tuple[str, ...]] | None = None,
    only: tuple[type, frozenset[str]] | None = None,
) -> bool:
    """``a`` and ``b`` render alike: the same object, or equal plain values, or tuples and
    frozen dataclasses of such, field by field. Anything else counts as changed.

    The model's values are immutable (frozen dataclasses holding tuples), so the same object
    is the same value. ``only`` names a type and the fields of it that matter (those a page
    read); its other fields are not compared.
    """
    if a is b:
        return True
    kind = type(a)
    if kind is not type(b):
        return False
    if kind in _EXACT:
        return bool(a == b)
    if kind is datetime:  # equal instants, in the same zone and on the same side of a fold
        return bool(a == b and a.tzinfo == b.tzinfo and a.fold == b.fold)
    if kind is tuple:
        if len(a) != len(b):
            return False
        for x, y in zip(a, b, strict=True):
            if x is not y and not same_value(x, y, fields, only):
                return False
        return True
    names: tuple[str, ...] | frozenset[str]
    if only is not None and kind is only[0]:
        names = only[1]
    else:
        known = fields.get(kind) if fields is not None else None
        if known is None:
            known = frozen_fields(kind)
            if fields is not None:
                fields[kind] = known
        if not known:
            return False
        names = known
    for name in names:
        x, y = getattr(a, name), getattr(b, name)
        if x is not y and not same_value(x, y, fields, only):
            return False
    return True


def frozen_fields(kind: type) -> tuple[str, ...]:
    """The field names of a frozen dataclass; empty for any other type."""
    params = getattr(kind, "__dataclass_params__", None)
    if params is None or not params.frozen:
        return ()
    return tuple(f.name for f in dataclasses.fields(kind))


@dataclass(frozen=True, slots=True)
class LastRecipes:
    """What the last build's outputs were made from, kept in memory for the next build."""

    salt: bytes
    recipes: dict[str, Any]
    site_parts: dict[str, bytes]
    paths: dict[str, PurePosixPath]
    """Each page's file by URL (paths are costly to make, and cheaper to hash once made)."""
    reads: dict[str, frozenset[str]]
    """The fields of its articles each page read, for pages rendered in this process that
    read no article whole."""


class SiteRecorder:
    """Stands in for the site model in templates and notes which attributes they read."""

    __slots__ = ("_site", "_used")

    def __init__(self, site: Any, used: set[str]) -> None:
        self._site = site
        self._used = used

    def __getattr__(self, name: str) -> Any:
        self._used.add(name)
        return getattr(self._site, name)


class OutputMemo:
    """Fingerprints of the last build's outputs, and those of this build."""

    def __init__(
        self,
        site: Any,
        previous: Mapping[str, tuple[bytes, frozenset[str]]],
        exists: Callable[[PurePosixPath], bool],
        salt: bytes,
        shared: tuple[type, ...] = (),
        fingerprints: Fingerprints | None = None,
        last: LastRecipes | None = None,
        watch: tuple[type, frozenset[type]] | None = None,
    ) -> None:
        """``watch`` (the article type, and types known to hold no articles) has the fields
        of articles that pages read noted, for the next build of a long-running process."""
        self.site = site
        self.previous = previous
        self.exists = exists
        self.salt = salt
        self.fingerprints = fingerprints or Fingerprints(shared)
        self.current: dict[str, tuple[bytes, frozenset[str]]] = {}
        self._site_parts: dict[str, bytes] = {}
        self._last = last if last is not None and last.salt == salt else None
        self._recipes: dict[str, Any] = {}
        self._paths: dict[str, PurePosixPath] = {}
        self._parts_checked: dict[frozenset[str], bool] = {}
        self._fields: dict[type, tuple[str, ...]] = {}
        self._watch = watch
        self._reads: dict[str, frozenset[str]] = {}
        self.reused = 0

    def fingerprint(self, key: str, context: Any, used: frozenset[str]) -> bytes:
        """The fingerprint of output ``key`` given its context and the site parts it reads."""
        digest = hashlib.blake2b(self.salt, digest_size=16)
        digest.update(key.encode())
        digest.update(self.fingerprints.of(context))
        for name in sorted(used):
            digest.update(name.encode() + self._site_part(name))
        return digest.digest()

    def unchanged(self, key: str, path: PurePosixPath, context: Any) -> bool:
        """True (and remembered for the next build) when output ``key`` need not be redone."""
        before = self.previous.get(key)
        if before is None:
            return False
        known = self._as_last_time(key, context, before[1])
        if known is False:
            return False
        if known is None and (
            not self.exists(path) or self.fingerprint(key, context, before[1]) != before[0]
        ):
            return False
        self.current[key] = before
        self._recipes[key] = context
        if known and self._last is not None and key in self._last.reads:
            self._reads[key] = self._last.reads[key]
        self.reused += 1
        return True

    def watcher(self) -> Watcher | None:
        """A watcher of the fields a page's articles are read for, when they are noted."""
        return Watcher(*self._watch) if self._watch is not None else None

    def record(
        self,
        key: str,
        context: Any,
        used: set[str],
        watcher: Watcher | None = None,
        fingerprint: bytes | None = None,
    ) -> None:
        """Remember what output ``key`` was made from (and what ``watcher`` saw it read).

        ``fingerprint`` is the output's :meth:`fingerprint` when it was made already (by a
        forked copy, which shares out that work).
        """
        frozen = frozenset(map(sys.intern, used))  # names made in a forked copy are shared too
        if fingerprint is None:
            fingerprint = self.fingerprint(key, context, frozen)
        else:
            for name in frozen:  # the site parts the copy digested, known here as well
                self._site_part(name)
        self.current[key] = (fingerprint, frozen)
        self._recipes[key] = context
        if watcher is not None and ALL not in watcher.reads:
            self._reads[key] = frozenset(watcher.reads)

    def last_recipes(self) -> LastRecipes:
        """This build's recipes, for the next build of the same process."""
        parts = dict(self._site_parts)
        return LastRecipes(self.salt, self._recipes, parts, self._paths, self._reads)

    def path_of(self, url: str) -> PurePosixPath:
        """The file of the page at ``url``, as the last build made it when it can."""
        path = self._last.paths.get(url) if self._last is not None else None
        if path is None:
            path = urls.page_route(url).path
        self._paths[url] = path
        return path

    def _as_last_time(self, key: str, context: Any, used: frozenset[str]) -> bool | None:
        """Whether the output's recipe and site parts are those of the last build in this
        process; None when that build's recipe is not known.

        That build wrote or kept the file, so it is not looked for on disk (like a build whose
        sources did not change, this does not notice a file deleted by hand).
        """
        last = self._last
        before = last.recipes.get(key) if last is not None else None
        if last is None or before is None:
            return None
        read = last.reads.get(key)
        only = (self._watch[0], read) if self._watch is not None and read is not None else None
        if not same_value(before, context, self._fields, only):
            return False
        parts = self._parts_checked.get(used)
        if parts is None:
            parts = self._parts_checked[used] = all(
                last.site_parts.get(name) == self._site_part(name) for name in used
            )
        return parts

    def _site_part(self, name: str) -> bytes:
        if name not in self._site_parts:
            value = getattr(self.site, _METHOD_SOURCES.get(name, name), None)
            if callable(value):  # a method whose data is not known: depend on all of the site
                value = self.site
            self._site_parts[name] = self.fingerprints.of(value)
        return self._site_parts[name]
