"""Stable digests of model values, to tell whether a page's inputs changed between builds.

Python's ``hash()`` differs from one process to the next, so values are digested from their
contents: each dataclass becomes a tuple of plain values (strings, numbers, dates, and the
digests of the dataclasses it holds), serialised with pickle — deterministic for such tuples —
and hashed. Each dataclass instance is digested once per build; the digests of large shared
values (posts, comments) can be kept with the build cache and handed to the next build.
"""

from __future__ import annotations

import dataclasses
import hashlib
import pickle
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import PurePath
from typing import Any

_PLAIN = (str, bytes, int, float, bool, type(None), datetime, date)


class Fingerprints:
    """Digests of values, memoised by identity for the lifetime of one build's model.

    Instances of the ``shared`` types (large values that many pages hold, such as posts) are
    digested once and stand in their holders by digest; other dataclasses are inlined.
    """

    def __init__(self, shared: tuple[type, ...] = ()) -> None:
        self._memo: dict[int, tuple[Any, Any]] = {}
        self._fields: dict[type, tuple[str, ...]] = {}
        self._shared = frozenset(shared)

    def known(self, values: Iterable[Any]) -> tuple[tuple[Any, bytes], ...]:
        """Each of ``values`` (instances of the shared types) with its digest, to keep.

        A later build given them by :meth:`seed` need not digest those values again, as long
        as it holds the very same objects (as a build cache gives them back).
        """
        memo, shared, made = self._memo, self._shared, []
        for value in values:
            if type(value) not in shared:
                continue
            cached = memo.get(id(value))
            digest = cached[1] if cached is not None and cached[0] is value else None
            made.append((value, digest or self._dataclass(value, self._fields.get(type(value)))))
        return tuple(made)

    def seed(self, known: Iterable[tuple[Any, bytes]]) -> None:
        """Take the digests of :meth:`known` values instead of digesting them again."""
        shared = self._shared
        self._memo.update((id(v), (v, d)) for v, d in known if type(v) in shared)

    def of(self, value: Any) -> bytes:
        """A 16-byte digest of ``value`` that is the same in every process."""
        flat = self._flat(value)
        return hashlib.blake2b(pickle.dumps(flat, protocol=5), digest_size=16).digest()

    def _flat(self, value: Any) -> Any:
        kind = type(value)
        if kind in _PLAIN:
            return value
        if kind is tuple or kind is list:
            return tuple(self._flat(item) for item in value)
        names = self._fields.get(kind)
        if names is not None or (dataclasses.is_dataclass(value) and not isinstance(value, type)):
            return self._dataclass(value, names)
        if isinstance(value, PurePath):
            return str(value)
        if isinstance(value, Mapping):
            return tuple(sorted((repr(k), self._flat(v)) for k, v in value.items()))
        if isinstance(value, frozenset | set):
            return tuple(sorted(repr(self._flat(item)) for item in value))
        raise TypeError(f"cannot fingerprint {kind.__name__}")

    def _dataclass(self, value: Any, names: tuple[str, ...] | None) -> Any:
        cached = self._memo.get(id(value))
        if cached is not None and cached[0] is value:
            return cached[1]
        if names is None:
            names = self._fields[type(value)] = tuple(f.name for f in dataclasses.fields(value))
        flat: Any = (type(value).__qualname__, *(self._flat(getattr(value, n)) for n in names))
        if type(value) in self._shared:
            flat = hashlib.blake2b(pickle.dumps(flat, protocol=5), digest_size=16).digest()
        self._memo[id(value)] = (value, flat)  # keep value alive so its id stays unique
        return flat
