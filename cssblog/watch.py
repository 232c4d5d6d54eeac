"""Watch the site's sources and turn bursts of file events into debounced change sets.

Editors save in many ways: in place, by writing a temporary file and renaming it over the
original, or by renaming the original away first (vim), so the file is briefly missing. A
burst of events is collected until the file system has been quiet for a moment, temp and backup
names are dropped, and a change set that would delete a file that matters (a source) waits a
little longer in case the file comes back. One callback runs at a time, on the watcher's own
thread, so rebuilds never overlap; events that arrive during a rebuild make one more change set
afterwards.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from cssblog.sources import is_ignored_name

QUIET = 0.025
"""Seconds without events that end a burst."""
LONGEST_WAIT = 1.0
"""A burst that goes on longer than this is built anyway (and the rest comes next)."""
MISSING_GRACE = 0.3
"""How long a deleted file may take to come back (an editor's rename-away save)."""
CHANGES = [
    FileCreatedEvent,
    FileModifiedEvent,
    FileClosedEvent,
    FileDeletedEvent,
    FileMovedEvent,
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
]
"""The events asked of the system: changes only. Files opened and closed unwritten are not
asked for: reading a large site (each rebuild's readers, a search, a backup) would flood the
system's event queue, and events lost to an overflow are saves missed."""

__all__ = ["Watch", "WatchedPath", "Watcher"]


@dataclass(frozen=True, slots=True)
class WatchedPath:
    """A folder to watch (recursively), or a single file."""

    path: Path
    recursive: bool = True


@dataclass(frozen=True, slots=True)
class Watch:
    """What a :class:`Watcher` watches and how."""

    paths: tuple[WatchedPath, ...]
    polling: bool
    """True when the system's watch limit forced a fallback to polling."""


class Watcher:
    """Call ``on_change(paths)`` once per burst of changes to the watched files."""

    def __init__(
        self,
        paths: Sequence[WatchedPath],
        on_change: Callable[[frozenset[str]], None],
        *,
        on_warning: Callable[[str], None] = lambda _: None,
        observer_factory: Callable[[], Any] = Observer,
        matters: Callable[[str], bool] = lambda _: True,
        quiet: float = QUIET,
        longest_wait: float = LONGEST_WAIT,
        missing_grace: float = MISSING_GRACE,
    ) -> None:
        self._paths = tuple(paths)
        self._on_change = on_change
        self._on_warning = on_warning
        self._observer_factory = observer_factory
        self._matters = matters
        self._quiet = quiet
        self._longest = longest_wait
        self._grace = missing_grace
        self._pending: set[str] = set()
        self._last_event = 0.0
        self._first_event = 0.0
        self._wake = threading.Condition()
        self._stopping = False
        self._observer: Any = None
        self._thread: threading.Thread | None = None
        self.polling = False

    def start(self) -> Watch:
        """Start watching; fall back to polling when the system refuses more watches."""
        handler = _Handler(self._note, {str(w.path) for w in self._paths if not w.recursive})
        try:
            self._observer = self._start(self._observer_factory(), handler)
        except OSError as exc:
            self._on_warning(
                f"cannot watch files natively ({exc.strerror or exc}); polling once a second "
                "instead. On Linux, raise fs.inotify.max_user_watches to fix this."
            )
            self.polling = True
            self._observer = self._start(PollingObserver(timeout=1), handler)
        self._thread = threading.Thread(target=self._run, name="cssblog-watch", daemon=True)
        self._thread.start()
        return Watch(self._paths, self.polling)

    def stop(self) -> None:
        """Stop watching and wait for a running callback to finish."""
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=5)
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _start(self, observer: Any, handler: _Handler) -> Any:
        try:
            for watched in self._paths:
                folder = watched.path if watched.recursive else watched.path.parent
                if folder.is_dir():
                    observer.schedule(
                        handler, str(folder), recursive=watched.recursive, event_filter=CHANGES
                    )
            observer.start()
        except OSError:
            _abandon(observer)
            raise
        return observer

    def _note(self, paths: Sequence[str]) -> None:
        with self._wake:
            now = time.monotonic()
            if not self._pending:
                self._first_event = now
            self._pending.update(paths)
            self._last_event = now
            self._wake.notify_all()

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            self._on_change(batch)

    def _next_batch(self) -> frozenset[str] | None:
        """Wait for a burst of events to settle; None when stopping."""
        with self._wake:
            while not self._pending and not self._stopping:
                self._wake.wait()
            grace_used = False
            while not self._stopping:
                now = time.monotonic()
                quiet_until = self._last_event + self._quiet
                if now < quiet_until and now - self._first_event < self._longest:
                    self._wake.wait(quiet_until - now)
                    continue
                if not grace_used and any(
                    self._matters(p) and not os.path.lexists(p) for p in self._pending
                ):
                    grace_used = True  # a save may be putting the file back right now
                    self._wake.wait(self._grace)
                    continue
                batch = frozenset(self._pending)
                self._pending.clear()
                return batch
            return None


class _Handler(FileSystemEventHandler):
    """Turn watchdog events into the paths they touch, leaving out editor debris."""

    def __init__(self, note: Callable[[Sequence[str]], None], files: set[str]) -> None:
        self._note = note
        self._files = files
        """Watched single files; other entries in their folders are ignored."""

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory and event.event_type == "modified":
            return
        paths = [_text(event.src_path)]
        if event.event_type == "moved":
            paths.append(_text(event.dest_path))
        kept = [p for p in paths if self._wanted(p)]
        if kept:
            self._note(kept)

    def _wanted(self, path: str) -> bool:
        name = Path(path)
        if is_ignored_name(name.name):
            return False
        return path in self._files or not any(Path(f).parent == name.parent for f in self._files)


def _abandon(observer: Any) -> None:
    """Stop an observer that failed to start, with the threads and descriptors it already holds.

    watchdog's inotify observer opens its descriptor and starts a reader thread when it is made,
    so one that fails to start must still be stopped, or both outlive the fallback to polling.
    """
    try:
        observer.stop()
        if observer.is_alive():
            observer.join(timeout=5)
    except (OSError, RuntimeError):
        pass


def _text(path: str | bytes) -> str:
    return os.fsdecode(path)
