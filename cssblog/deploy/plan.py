"""What a deploy will change: the built files against the destination's → :class:`Plan`.

Only the site's own files are published: every path with a part starting with a dot (the
build's marker and journal, editor leftovers) stays home, and the same paths at the
destination (``.well-known/``, ``.htaccess`` put there by hand) are never touched.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cssblog.errors import CssblogError
from cssblog.writer import JOURNAL, MARKER

Progress = Callable[[int, int], None]
"""Called with (bytes done, bytes in all) while a deploy publishes."""


@dataclass(frozen=True, slots=True)
class LocalFile:
    """One file of the built site."""

    path: PurePosixPath
    size: int


@dataclass(frozen=True, slots=True)
class LocalTree:
    """The files of the built site that a deploy publishes."""

    root: Path
    files: tuple[LocalFile, ...]

    def read(self, path: PurePosixPath) -> bytes:
        """The bytes of one file."""
        return (self.root / path).read_bytes()

    @property
    def size(self) -> int:
        """Bytes in all."""
        return sum(f.size for f in self.files)


@dataclass(frozen=True, slots=True)
class Change:
    """One file a deploy adds, changes or removes."""

    path: PurePosixPath
    size: int | None
    """Bytes to send (added, changed); bytes at the destination, if known (removed, kept)."""


@dataclass(frozen=True, slots=True)
class Plan:
    """What publishing will do at the destination."""

    added: tuple[Change, ...]
    changed: tuple[Change, ...]
    removed: tuple[Change, ...]
    unchanged: int
    kept: tuple[Change, ...] = ()
    """Files at the destination that the site no longer has, left in place (s3 without
    ``--delete``)."""
    first: bool = False
    """The destination holds nothing of a site yet (an empty folder, a new branch)."""

    @property
    def sends(self) -> tuple[Change, ...]:
        """The files to transfer: added, then changed."""
        return self.added + self.changed

    @property
    def bytes_to_send(self) -> int:
        """Bytes of the added and changed files."""
        return sum(c.size or 0 for c in self.sends)

    @property
    def empty(self) -> bool:
        """Nothing to add, change or remove."""
        return not (self.added or self.changed or self.removed)


@dataclass(frozen=True, slots=True)
class Entry:
    """A file as one side of a comparison knows it: its size and a digest of its bytes."""

    size: int | None
    digest: str


def is_published_path(path: PurePosixPath) -> bool:
    """Paths with a part starting with a dot are never published nor touched."""
    return not any(part.startswith(".") for part in path.parts)


def scan_output(output: Path) -> LocalTree:
    """The files of a finished build in ``output`` (refused if it is missing or unfinished)."""
    if not (output / MARKER).is_file():
        raise CssblogError(
            f"{output} is not a site built by cssblog",
            hint="run `cssblog deploy` without --no-build, or `cssblog build` first",
        )
    if (output / JOURNAL).exists():
        raise CssblogError(
            f"the last build of {output} did not finish",
            hint="run `cssblog build` (or deploy without --no-build) to complete it",
        )
    files = [LocalFile(path, size) for path, size in walk_files(output) if is_published_path(path)]
    return LocalTree(output.resolve(), tuple(sorted(files, key=lambda f: f.path)))


def walk_files(root: Path) -> Iterable[tuple[PurePosixPath, int]]:
    """``(relative path, size)`` of every regular file below ``root``; links are not followed."""
    for folder, _folders, names in os.walk(root):
        relative = PurePosixPath(Path(folder).relative_to(root).as_posix())
        for name in names:
            info = os.lstat(os.path.join(folder, name))  # noqa: PTH118 (tens of thousands)
            if stat.S_ISREG(info.st_mode):
                yield relative / name, info.st_size


def compare(
    local: Mapping[PurePosixPath, Entry],
    remote: Mapping[PurePosixPath, Entry],
    *,
    delete: bool = True,
) -> Plan:
    """The plan that makes ``remote`` hold ``local``; stale files removed only with ``delete``.

    Paths at the destination that are not published (dot paths) are left out of the plan.
    """
    added, changed, unchanged = [], [], 0
    for path, entry in sorted(local.items()):
        there = remote.get(path)
        if there is None:
            added.append(Change(path, entry.size))
        elif there.digest != entry.digest:
            changed.append(Change(path, entry.size))
        else:
            unchanged += 1
    stale = [
        Change(path, entry.size)
        for path, entry in sorted(remote.items())
        if path not in local and is_published_path(path)
    ]
    return Plan(
        added=tuple(added),
        changed=tuple(changed),
        removed=tuple(stale) if delete else (),
        unchanged=unchanged,
        kept=() if delete else tuple(stale),
        first=not any(is_published_path(p) for p in remote),
    )
