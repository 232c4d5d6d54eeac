"""The site's posts by slug, as the comment intake needs them: which exist, and when they were
published. Parsed once and read again at most every ``refresh`` seconds."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from cssblog.config import SiteConfig
from cssblog.content import Post
from cssblog.errors import ContentErrors
from cssblog.gather import load_sources
from cssblog.sources import SourceKind, read_sources

log = logging.getLogger(__name__)
POSTS: tuple[SourceKind, ...] = ("post",)

__all__ = ["PostCatalog"]


class PostCatalog:
    """The posts of a site by slug (thread-safe)."""

    def __init__(
        self, *, refresh: float = 0.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._refresh = refresh
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[tuple[Any, ...], Any] = {}
        self._posts: Mapping[str, Post] | None = None
        self._key: tuple[Any, ...] = ()
        self._read_at = float("-inf")

    def posts(self, config: SiteConfig) -> Mapping[str, Post]:
        """Every post, drafts included; raises :class:`ContentErrors` if the posts were never
        readable, and keeps the last readable set when a later edit breaks one."""
        key = (config.root, config.tz, config.site.author)
        with self._lock:
            fresh = self._clock() - self._read_at < self._refresh and key == self._key
            if self._posts is None or not fresh:
                self._read(config, key)
            assert self._posts is not None
            return self._posts

    def _read(self, config: SiteConfig, key: tuple[Any, ...]) -> None:
        read = read_sources(config.root / "content", kinds=POSTS)
        if len(self._cache) > 2 * len(read[0]) + 16:
            self._cache.clear()  # parses of files since edited
        try:
            sources = load_sources(config, self._cache, read=read)
        except ContentErrors as exc:
            if self._posts is None or key != self._key:
                raise
            log.warning("posts unreadable, keeping the last good set: %s", exc.errors[0])
            self._read_at = self._clock()
            return
        self._posts = MappingProxyType({p.slug: p for p in sources.posts})
        self._key = key
        self._read_at = self._clock()
