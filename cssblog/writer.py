"""Put the built files in ``output/`` so that a failed or killed build leaves a whole site.

A first build is written to a sibling staging folder and renamed into place. Later builds touch
only what changed: the changed files are written to a staging folder (the pages as they are
rendered, see :class:`Staging`; the rest by :func:`write_outputs`), then a journal naming the
renames and deletions is committed into ``output/`` with one atomic rename, then applied. A
build that fails or is killed before the commit leaves ``output/`` exactly as it was (its
staging folder is removed by the next build); one killed after it is completed by the next
build. Unchanged files are never rewritten, so their inode and mtime survive, and a build that
changes nothing does not touch ``output/`` at all.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cssblog.errors import ContentErrors, CssblogError, UnsafeOutputError
from cssblog.output import OutputFile

MARKER = ".cssblog-output"
JOURNAL = ".cssblog-journal"
_MARKER_TEXT = b"This folder is made by `cssblog build`; edits are lost.\n"


@dataclass(frozen=True, slots=True)
class WriteReport:
    """What writing the output changed."""

    written: tuple[PurePosixPath, ...]
    unchanged: int
    removed: tuple[PurePosixPath, ...]


def check_output_dir(output: Path, site_root: Path) -> Path:
    """Refuse an output folder whose replacement would destroy anything the user wrote."""
    resolved = output.resolve()
    root = site_root.resolve()
    guarded = {
        root: "the site folder",
        root / "content": "content/",
        Path.home().resolve(): "your home folder",
        Path("/"): "the file system root",
        root / "themes": "themes/",
    }
    for path, what in guarded.items():
        if resolved == path or path.is_relative_to(resolved):
            raise UnsafeOutputError(
                f"refusing to use {output} as the output folder: it is or contains {what}",
                hint="choose an empty or new folder, e.g. --output output",
            )
    if resolved.is_relative_to(root / "content") or resolved.is_relative_to(root / "themes"):
        raise UnsafeOutputError(
            f"refusing to build into {output}: it is inside the site's sources",
            hint="choose a folder outside content/ and themes/",
        )
    if resolved.is_dir() and any(resolved.iterdir()) and not (resolved / MARKER).exists():
        raise UnsafeOutputError(
            f"{output} is not empty and was not made by cssblog",
            hint="empty it or choose another --output; cssblog replaces "
            "its output folder wholesale",
        )
    return resolved


@dataclass(frozen=True, slots=True)
class Staging:
    """The staging folder of one build, beside ``output/``, and what ``output/`` holds now.

    Pages can be put in it as they are rendered, by this process or by forked copies of it
    (each file is written whole by one of them), so that their bytes need not be held until
    :func:`write_outputs`. Made by :func:`open_staging`; the folder is made at the first put.
    """

    output: Path
    folder: Path
    old: dict[str, int | None]
    """The files now in ``output`` (relative paths as text), with their sizes when known."""
    made: set[str]
    """Folders known to exist below :attr:`folder` (in this process)."""

    def put(self, path: PurePosixPath, data: bytes) -> bool:
        """Stage ``data`` for ``path`` unless ``output/`` holds those very bytes; whether it
        was staged. Raise :class:`CssblogError` when it cannot be written."""
        name = str(path)
        if _same(self.output / path, data, self.old.get(name), name in self.old):
            return False
        self.write(name, data)
        return True

    def write(self, name: str, data: bytes) -> None:
        """Write ``data`` to ``name`` below the staging folder."""
        target = os.path.join(self.folder, name)  # noqa: PTH118 (hot path: thousands of files)
        folder = os.path.dirname(target)  # noqa: PTH120
        try:
            if folder not in self.made:
                os.makedirs(folder, exist_ok=True)  # noqa: PTH103 (another may too)
                self.made.add(folder)
            with open(target, "wb") as handle:  # noqa: PTH123
                handle.write(data)
        except OSError as exc:
            raise CssblogError(
                f"cannot write {name}: {exc.strerror}",
                path=Path(target),
                hint="free some disk space" if exc.errno == errno.ENOSPC else None,
            ) from exc

    def discard(self) -> None:
        """Remove the staging folder (a build that failed before writing)."""
        shutil.rmtree(self.folder, ignore_errors=True)


def open_staging(output: Path, manifest: frozenset[str] | None = None) -> Staging:
    """The staging folder for a build into ``output``: a build killed before it committed is
    cleared away, one killed after is completed first.

    ``manifest`` names the files the last build left in ``output``; with it the folder is not
    scanned (tens of thousands of entries on a large site), and files it does not name are left.
    """
    if output.is_dir():
        _finish_journal(output)  # before reclaiming: it may need a dead build's staging folder
    _reclaim_leftovers(output)
    whole = (output / MARKER).is_file()
    old: dict[str, int | None] = (
        dict.fromkeys(manifest) if manifest is not None and whole else dict(_existing(output))
    )
    folder = output.parent / f".{output.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    return Staging(output, folder, old, set())


def write_outputs(
    output: Path,
    files: Sequence[OutputFile],
    manifest: frozenset[str] | None = None,
    *,
    workers: int = 1,
    staging: Staging | None = None,
) -> WriteReport:
    """Make ``output`` hold exactly ``files`` (plus the marker), all or nothing.

    ``staging`` is the build's staging folder, which holds the files marked as staged
    already; without it one is opened here, with ``manifest`` (see :func:`open_staging`).
    Many changed files are written by ``workers`` threads: creating files costs the kernel more
    time than copying their bytes, and the kernel works on outside Python's lock. (Threads,
    not forked copies: a copy's every look at a file's bytes would copy a page of its memory.)
    """
    staging = staging or open_staging(output, manifest)
    try:
        _refuse_collisions(files)
        return _write(output, files, staging, workers)
    except BaseException:
        if not (output / JOURNAL).exists():  # once committed, it is finished later
            staging.discard()
        raise


def _write(
    output: Path, files: Sequence[OutputFile], staging: Staging, workers: int
) -> WriteReport:
    old = staging.old
    names = {f.path: str(f.path) for f in files}
    kept = [f.path for f in files if f.data is None and not f.staged and names[f.path] not in old]
    if kept:
        raise CssblogError(
            f"{kept[0]} was to be kept from the last build but is gone",
            path=output,
            hint="delete .cssblog-cache/ and build again",
        )
    changed = [
        f
        for f in files
        if f.staged
        or (
            f.data is not None
            and not _same(output / f.path, f.data, old.get(names[f.path]), names[f.path] in old)
        )
    ]
    removed = [PurePosixPath(name) for name in sorted(set(old) - set(names.values()))]
    marker = OutputFile(PurePosixPath(MARKER), _MARKER_TEXT)
    if not (output / MARKER).exists():
        changed.append(marker)
    elif not changed and not removed:
        staging.discard()
        return WriteReport(written=(), unchanged=len(files), removed=())
    _stage(staging, [f for f in changed if not f.staged], workers)
    if output.exists():
        _commit(output, staging.folder, changed, removed)  # a failure from here is finished later
    else:
        staging.folder.rename(output)
    written = tuple(f.path for f in changed if f is not marker)
    return WriteReport(written=written, unchanged=len(files) - len(written), removed=tuple(removed))


def _refuse_collisions(files: Sequence[OutputFile]) -> None:
    seen: dict[str, PurePosixPath] = {}
    clashes = []
    for f in files:
        key = str(f.path).casefold()
        if key in seen:
            clashes.append(
                CssblogError(
                    f"two pages would be written to {f.path} (and {seen[key]})",
                    hint="give one of the posts or pages another slug",
                )
            )
        seen[key] = f.path
    if clashes:
        raise ContentErrors(clashes)


def _existing(output: Path) -> dict[str, int]:
    """Files now in ``output`` (relative paths as text) with their sizes; the marker excluded."""
    found: dict[str, int] = {}
    folders = [(str(output), "")]
    while folders:
        folder, prefix = folders.pop()
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                folders.append((entry.path, f"{prefix}{entry.name}/"))
            elif prefix or entry.name not in (MARKER, JOURNAL, f"{JOURNAL}.tmp"):
                found[prefix + entry.name] = entry.stat(follow_symlinks=False).st_size
    return found


def _same(path: Path, data: bytes, size: int | None, known: bool) -> bool:
    """``path`` holds ``data`` already (``size`` is None when only a manifest named it)."""
    if not known or (size is not None and size != len(data)):
        return False
    try:
        return path.read_bytes() == data
    except OSError:
        return False


def _stage(staging: Staging, files: Sequence[OutputFile], workers: int) -> None:
    """Write ``files`` below the staging folder, sharing them out between ``workers`` threads
    when there are enough; raise the first, in file order, of the problems met (a problem
    stops every thread)."""
    import threading  # not imported by a build with nothing to write

    from cssblog.workers import worth_it

    staging.folder.mkdir(exist_ok=True)
    stop = threading.Event()  # a share failed, or this thread was interrupted: all stop
    problems: list[tuple[int, CssblogError]] = []

    def put(first: int, step: int) -> None:
        """Write every ``step``-th file from ``first``, until one fails or ``stop`` is set."""
        for index in range(first, len(files), step):
            if stop.is_set():
                return
            file = files[index]
            assert file.data is not None
            try:
                staging.write(str(file.path), file.data)
            except CssblogError as problem:
                problems.append((index, problem))
                stop.set()
                return

    if worth_it(files, workers):
        threads = [
            threading.Thread(target=put, args=(i, workers), name=f"write-{i}", daemon=True)
            for i in range(workers)
        ]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        except BaseException:  # Ctrl-C: the threads stop after the file in hand
            stop.set()
            for thread in threads:
                if thread.is_alive():
                    thread.join()
            raise
    else:
        put(0, 1)
    if problems:
        raise min(problems, key=lambda found: found[0])[1]


def _commit(
    output: Path,
    staging: Path,
    changed: Sequence[OutputFile],
    removed: Sequence[PurePosixPath],
) -> None:
    """Commit the journal (one atomic rename), then apply it."""
    journal = {
        "staging": staging.name,
        "put": [str(f.path) for f in changed],
        "remove": [str(p) for p in removed],
    }
    pending = output / f"{JOURNAL}.tmp"
    pending.write_text(json.dumps(journal))
    pending.replace(output / JOURNAL)
    _finish_journal(output)


def _finish_journal(output: Path) -> None:
    """Apply a committed journal (also one left by a killed build), then drop it."""
    (output / f"{JOURNAL}.tmp").unlink(missing_ok=True)
    path = output / JOURNAL
    if not path.exists():
        return
    journal = json.loads(path.read_text())
    staging = output.parent / journal["staging"]
    for relative in journal["put"]:
        source = staging / relative
        if source.exists():
            target = output / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            source.replace(target)
    for relative in journal["remove"]:
        (output / relative).unlink(missing_ok=True)
        _prune_empty(output, (output / relative).parent)
    path.unlink()
    shutil.rmtree(staging, ignore_errors=True)


def _prune_empty(output: Path, folder: Path) -> None:
    while folder != output and folder.is_relative_to(output):
        try:
            folder.rmdir()
        except OSError:
            return
        folder = folder.parent


def _reclaim_leftovers(output: Path) -> None:
    """Remove staging folders of builds whose process is gone (killed mid-write)."""
    if not output.parent.is_dir():
        return
    for entry in output.parent.glob(f".{output.name}.*-*-*"):
        kind_pid = entry.name[len(output.name) + 2 :].split("-")
        if (
            len(kind_pid) == 3
            and kind_pid[0] in ("tmp", "old")
            and kind_pid[1].isdigit()
            and not _alive(int(kind_pid[1]))
        ):
            shutil.rmtree(entry, ignore_errors=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
