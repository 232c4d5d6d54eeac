"""The comments a comment folder holds, as the intake sees them between two submissions.

Every writer of new comments (the intake's threads and processes, ``cssblog comments add``)
holds :func:`intake_lock` while it looks for a duplicate and creates the file, so two copies of
one comment sent at the same moment give one file. :class:`CommentIndex` keeps the parsed
comments in memory: before each use it lists the post's folder, which finds every new file
whoever wrote it, and reads only those; at most every ``refresh`` seconds it also looks at the
size and time of every file, which finds a moderator's status changes.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path

from cssblog.comments.model import Comment
from cssblog.comments.store import create_comment, parse_comment
from cssblog.errors import CssblogError

LOCK_DIR = Path(".cssblog-cache")

__all__ = ["CommentIndex", "intake_lock"]


@contextmanager
def intake_lock(site_root: Path, name: str = "intake") -> Iterator[None]:
    """Hold the site's lock called ``name`` (by default, the lock for creating comments),
    across threads and processes."""
    path = site_root / LOCK_DIR / f"{name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # each open() is its own lock, so threads wait too
        yield
    finally:
        os.close(fd)  # closing releases the lock


@dataclass(frozen=True, slots=True)
class _Entry:
    stamp: tuple[int, int, int]
    """The file's inode, size and change time when it was read."""
    comment: Comment | None
    """None: the file is not a valid comment (the build reports it; the intake skips it)."""


class CommentIndex:
    """Every comment under ``base/<post-slug>/``, kept fresh cheaply; use under the lock."""

    def __init__(
        self,
        site_root: Path,
        base: Path,
        tz: tzinfo,
        *,
        refresh: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.site_root = site_root
        self.base = base
        self._tz = tz
        self._refresh = refresh
        self._clock = clock
        self._posts: dict[str, dict[str, _Entry]] = {}
        self._swept = float("-inf")
        self._all: list[Comment] | None = None
        self._thread_lock = threading.Lock()

    @contextmanager
    def locked(self) -> Iterator[CommentIndex]:
        """Hold the lock: no other thread or process creates a comment meanwhile."""
        with self._thread_lock, intake_lock(self.site_root):
            yield self

    def on_post(self, slug: str) -> dict[str, Comment]:
        """The post's comments by id, new files included."""
        folder = self._sync(slug, stamps=False)
        return {e.comment.id: e.comment for e in folder.values() if e.comment is not None}

    def everything(self) -> tuple[Comment, ...]:
        """Every comment (statuses at most ``refresh`` seconds old)."""
        if self._clock() - self._swept >= self._refresh:
            self._sweep()
        if self._all is None:
            self._all = [e.comment for f in self._posts.values() for e in f.values() if e.comment]
        return tuple(self._all)

    def reread(self, comment: Comment) -> Comment | None:
        """``comment`` as its file says now."""
        self._read(comment.post_slug, comment.path.name)
        entry = self._posts.get(comment.post_slug, {}).get(comment.path.name)
        return entry.comment if entry else None

    def create(self, comment: Comment) -> Comment:
        """Store a new comment (see :func:`create_comment`) and remember it."""
        stored = create_comment(self.site_root, comment, base=self.base)
        try:
            stamp = _stamp_of(stored.path.stat())
        except OSError:
            stamp = (0, 0, 0)  # read again at the next sweep
        self._posts.setdefault(stored.post_slug, {})[stored.path.name] = _Entry(stamp, stored)
        if self._all is not None:
            self._all.append(stored)
        return stored

    def _sweep(self) -> None:
        try:
            folders = {e.name for e in os.scandir(self.base) if _is_folder(e)}
        except FileNotFoundError:
            folders = set()
        for gone in self._posts.keys() - folders:
            del self._posts[gone]
            self._all = None
        for slug in folders:
            self._sync(slug, stamps=True)
        self._swept = self._clock()

    def _sync(self, slug: str, *, stamps: bool) -> dict[str, _Entry]:
        """Read the folder's new files (and, with ``stamps``, its changed ones)."""
        folder = self._posts.setdefault(slug, {})
        try:
            entries = [e for e in os.scandir(self.base / slug) if _is_comment(e.name)]
        except (FileNotFoundError, NotADirectoryError):
            entries = []
        for gone in folder.keys() - {e.name for e in entries}:
            del folder[gone]
            self._all = None
        for entry in entries:
            known = folder.get(entry.name)
            if known is None or (stamps and _stamp(entry) != known.stamp):
                self._read(slug, entry.name)
        return folder

    def _read(self, slug: str, name: str) -> None:
        path = self.base / slug / name
        folder = self._posts.setdefault(slug, {})
        try:
            with path.open("rb") as handle:
                stamp = _stamp_of(os.fstat(handle.fileno()))
                data = handle.read()
        except OSError:
            folder.pop(name, None)
            self._all = None
            return
        try:
            display = path.relative_to(self.site_root)
            comment, _ = parse_comment(data, path, display, slug, self._tz)
        except CssblogError:
            comment = None
        folder[name] = _Entry(stamp, comment)
        self._all = None


def _is_comment(name: str) -> bool:
    return name.endswith(".md") and not name.startswith(".")


def _is_folder(entry: os.DirEntry[str]) -> bool:
    return not entry.name.startswith(".") and entry.is_dir(follow_symlinks=False)


def _stamp(entry: os.DirEntry[str]) -> tuple[int, int, int] | None:
    try:
        return _stamp_of(entry.stat())
    except OSError:
        return None


def _stamp_of(stat: os.stat_result) -> tuple[int, int, int]:
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)
