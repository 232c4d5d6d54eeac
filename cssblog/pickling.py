"""Cheap pickling for the frozen dataclasses kept in the build cache.

Unpickling a slotted dataclass goes through a Python-level ``__setstate__`` that sets each field
one by one; calling the class with its field values is several times faster, which matters
when a cache holds tens of thousands of them.
"""

from __future__ import annotations

from typing import Any


class CachedValue:
    """Mixin: pickle a dataclass as a call of its class with its field values."""

    __slots__ = ()

    def __reduce__(self) -> tuple[Any, ...]:
        # A dataclass lists its ``__init__`` fields in ``__match_args__``: the arguments to
        # call it with, found without the cost of ``dataclasses.fields`` on every value.
        names: tuple[str, ...] = type(self).__match_args__  # type: ignore[attr-defined]
        return (type(self), tuple(getattr(self, n) for n in names))
