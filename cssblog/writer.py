"""Put the built files in ``output/`` atomically: all of the new site, or none of it.

The new site is assembled in a sibling staging folder — unchanged files are hard links to the
old ones, so their inode and mtime survive — then swapped in with one ``renameat2`` exchange
(two renames where the system has no exchange). A failed or killed build leaves the previous
``output/`` as it was; a build that changes nothing does not touch it at all.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import os
import secrets
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cssblog.errors import ContentErrors, CssblogError, UnsafeOutputError
from cssblog.render import OutputFile

MARKER = ".cssblog-output"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


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


def write_outputs(output: Path, files: Sequence[OutputFile]) -> WriteReport:
    """Make ``output`` hold exactly ``files`` (plus the marker), atomically."""
    _refuse_collisions(files)
    _reclaim_leftovers(output)
    old = _existing(output)
    changed = [f for f in files if not _same(output / f.path, f.data, old.get(f.path))]
    removed = sorted(set(old) - {f.path for f in files})
    if not changed and not removed and (output / MARKER).exists():
        return WriteReport(written=(), unchanged=len(files), removed=())
    staging = output.parent / f".{output.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
    try:
        _stage(staging, output, files, {f.path for f in changed})
        _swap(staging, output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return WriteReport(
        written=tuple(f.path for f in changed),
        unchanged=len(files) - len(changed),
        removed=tuple(removed),
    )


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


def _existing(output: Path) -> dict[PurePosixPath, int]:
    """Files now in ``output`` with their sizes (the marker excluded)."""
    found: dict[PurePosixPath, int] = {}
    if not output.is_dir():
        return found
    for dirpath, _, filenames in os.walk(output):
        for name in filenames:
            path = Path(dirpath) / name
            relative = PurePosixPath(path.relative_to(output).as_posix())
            if str(relative) != MARKER:
                found[relative] = path.lstat().st_size
    return found


def _same(path: Path, data: bytes, size: int | None) -> bool:
    if size is None or size != len(data):
        return False
    try:
        return path.read_bytes() == data
    except OSError:
        return False


def _stage(
    staging: Path, output: Path, files: Sequence[OutputFile], changed: set[PurePosixPath]
) -> None:
    staging.mkdir()
    (staging / MARKER).write_text("This folder is made by `cssblog build`; edits are lost.\n")
    made: set[Path] = {staging}
    for f in files:
        target = staging / f.path
        if target.parent not in made:
            target.parent.mkdir(parents=True, exist_ok=True)
            made.add(target.parent)
        if f.path not in changed:
            try:
                os.link(output / f.path, target)
                continue
            except OSError:
                pass
        try:
            target.write_bytes(f.data)
        except OSError as exc:
            raise CssblogError(
                f"cannot write {f.path}: {exc.strerror}",
                path=output,
                hint="free some disk space" if exc.errno == errno.ENOSPC else None,
            ) from exc


def _swap(staging: Path, output: Path) -> None:
    """Exchange ``staging`` and ``output`` in one step where the system allows it."""
    if not output.exists():
        staging.rename(output)
        return
    if _exchange(staging, output):
        return
    aside = output.parent / f".{output.name}.old-{os.getpid()}-{secrets.token_hex(4)}"
    output.rename(aside)
    staging.rename(output)
    shutil.rmtree(aside, ignore_errors=True)


def _exchange(a: Path, b: Path) -> bool:
    libc_name = ctypes.util.find_library("c")
    if not libc_name:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return bool(result == 0)


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
