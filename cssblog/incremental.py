"""Decide which outputs must be produced again: per-output dependency fingerprints.

A page's fingerprint covers its template set, its recipe (the values its context is made of:
the post, its neighbours, its comments, ...) and every attribute of ``site`` that its templates
read while it was last rendered (recorded through :class:`SiteRecorder`). When none of them
changed and the file is still in the output folder, the page is not rendered again and the
writer keeps the old file.

A long-running process (the preview server) also keeps the last build's recipes in memory
(:class:`LastRecipes`). A recipe made of the very same model objects as the last one, or of
values equal in a way that renders alike (see :func:`same_value`), is unchanged without being
digested: the model reuses the objects of whatever did not change.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from cssblog import urls
from cssblog.fingerprint import Fingerprints

# Methods of the site model and the data they read; any other method counts as reading it all.
_METHOD_SOURCES = {"posts_of": "posts_by_term"}
_EXACT = frozenset({str, int, bool, bytes, type(None)})
"""Types whose equal values are alike in every way a template can show them (not floats:
``0.0 == -0.0``; not datetimes: equal instants in other time zones print differently)."""


def same_value(a: Any, b: Any, fields: dict[type, tuple[str, ...]] | None = None) -> bool:
    """``a`` and ``b`` render alike: the same object, or equal plain values, or tuples and
    frozen dataclasses of such, field by field. Anything else counts as changed.

    The model's values are immutable (frozen dataclasses holding tuples), so the same object
    is the same value.
    """
    if a is b:
        return True
    kind = type(a)
    if kind is not type(b):
        return False
    if kind in _EXACT:
        return bool(a == b)
    if kind is tuple:
        if len(a) != len(b):
            return False
        for x, y in zip(a, b, strict=True):
            if x is not y and not same_value(x, y, fields):
                return False
        return True
    names = fields.get(kind) if fields is not None else None
    if names is None:
        names = _frozen_fields(kind)
        if fields is not None:
            fields[kind] = names
    if not names:
        return False
    for name in names:
        x, y = getattr(a, name), getattr(b, name)
        if x is not y and not same_value(x, y, fields):
            return False
    return True


def _frozen_fields(kind: type) -> tuple[str, ...]:
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
    ) -> None:
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
        self.reused += 1
        return True

    def record(self, key: str, context: Any, used: set[str]) -> None:
        """Remember what output ``key`` was made from."""
        frozen = frozenset(used)
        self.current[key] = (self.fingerprint(key, context, frozen), frozen)
        self._recipes[key] = context

    def last_recipes(self) -> LastRecipes:
        """This build's recipes, for the next build of the same process."""
        return LastRecipes(self.salt, self._recipes, dict(self._site_parts), self._paths)

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
        if not same_value(before, context, self._fields):
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
