"""Stable digests of model values, to tell whether a page's inputs changed between builds.

Python's ``hash()`` differs from one process to the next, so values are digested from their
contents: strings by their bytes, dataclasses field by field (each dataclass instance once per
build), containers item by item.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import PurePath
from typing import Any


class Fingerprints:
    """Digests of values, memoised by identity for the lifetime of one build's model."""

    def __init__(self) -> None:
        self._memo: dict[int, tuple[Any, bytes]] = {}

    def of(self, value: Any) -> bytes:
        """A 16-byte digest of ``value`` that is the same in every process."""
        digest = hashlib.blake2b(digest_size=16)
        self._feed(digest, value)
        return digest.digest()

    def _feed(self, digest: Any, value: Any) -> None:
        if isinstance(value, str):
            digest.update(b"s%d:" % len(value))
            digest.update(value.encode("utf-8", "surrogatepass"))
        elif isinstance(value, bytes):
            digest.update(b"b%d:" % len(value))
            digest.update(value)
        elif value is None or isinstance(value, bool | int | float | datetime | date | PurePath):
            digest.update(b"v" + repr(value).encode() + b";")
        elif isinstance(value, tuple | list | frozenset | set):
            items = sorted(value, key=repr) if isinstance(value, frozenset | set) else value
            digest.update(b"(%d:" % len(items))
            for item in items:
                self._feed(digest, item)
            digest.update(b")")
        elif isinstance(value, Mapping):
            digest.update(b"{%d:" % len(value))
            for key in sorted(value, key=repr):
                self._feed(digest, key)
                self._feed(digest, value[key])
            digest.update(b"}")
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            digest.update(self._dataclass(value))
        else:
            raise TypeError(f"cannot fingerprint {type(value).__name__}")

    def _dataclass(self, value: Any) -> bytes:
        cached = self._memo.get(id(value))
        if cached is not None and cached[0] is value:
            return cached[1]
        digest = hashlib.blake2b(digest_size=16)
        digest.update(type(value).__qualname__.encode())
        for f in dataclasses.fields(value):
            self._feed(digest, getattr(value, f.name))
        result = digest.digest()
        self._memo[id(value)] = (value, result)  # keep value alive so its id stays unique
        return result
