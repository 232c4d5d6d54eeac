"""Decide which outputs must be produced again: per-output dependency fingerprints.

A page's fingerprint covers its template set, its recipe (the values its context is made of:
the post, its neighbours, its comments, ...) and every attribute of ``site`` that its templates
read while it was last rendered (recorded through :class:`SiteRecorder`). When none of them
changed and the file is still in the output folder, the page is not rendered again and the
writer keeps the old file.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from pathlib import PurePosixPath
from typing import Any

from cssblog.fingerprint import Fingerprints

# Methods of the site model and the data they read; any other method counts as reading it all.
_METHOD_SOURCES = {"posts_of": "posts_by_term"}


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
    ) -> None:
        self.site = site
        self.previous = previous
        self.exists = exists
        self.salt = salt
        self.fingerprints = fingerprints or Fingerprints(shared)
        self.current: dict[str, tuple[bytes, frozenset[str]]] = {}
        self._site_parts: dict[str, bytes] = {}
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
        if before is None or not self.exists(path):
            return False
        if self.fingerprint(key, context, before[1]) != before[0]:
            return False
        self.current[key] = before
        self.reused += 1
        return True

    def record(self, key: str, context: Any, used: set[str]) -> None:
        """Remember what output ``key`` was made from."""
        frozen = frozenset(used)
        self.current[key] = (self.fingerprint(key, context, frozen), frozen)

    def _site_part(self, name: str) -> bytes:
        if name not in self._site_parts:
            value = getattr(self.site, _METHOD_SOURCES.get(name, name), None)
            if callable(value):  # a method whose data is not known: depend on all of the site
                value = self.site
            self._site_parts[name] = self.fingerprints.of(value)
        return self._site_parts[name]
