"""``type = "dir"``: replace a local folder, whole, in one rename.

The new site is assembled in a sibling folder (``.NAME.deploy-<pid>-<random>``): unchanged
files are hard links to the ones already published (so they keep their inode and time stamp),
changed and new files are copied from ``output/``, and files starting with a dot that someone
put in the folder by hand are carried over. Then the two folders are exchanged with one
``renameat2(RENAME_EXCHANGE)`` (Linux), or, where that is missing, with two renames. A deploy
that fails before the exchange leaves the folder exactly as it was. A symbolic link to the
folder is resolved once, and the folder it points at is replaced.

A deploy holds a lock on the folder's parent while it works, so two deploys to one place never
mix, and whatever a killed deploy left beside the folder is cleared by the next one.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import hashlib
import os
import secrets
import shutil
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath

from cssblog.deploy.plan import Entry, LocalTree, Plan, Progress, compare, walk_files
from cssblog.deploy.plan import is_published_path as published
from cssblog.deploy.process import DeployError
from cssblog.deploy.targets import DirTarget

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def destination(target: DirTarget, site_root: Path) -> Path:
    """The folder, absolute, with links resolved."""
    return (site_root / Path(target.path).expanduser()).resolve()


def check_destination(where: Path, site_root: Path) -> None:
    """Refuse a folder whose replacement would destroy the site's sources or more."""
    root = site_root.resolve()
    guarded = {
        root: "the site folder",
        root / "content": "content/",
        root / "themes": "themes/",
        root / "output": "output/",
        root / ".cssblog-cache": ".cssblog-cache/",
        Path.home().resolve(): "your home folder",
        Path("/"): "the file system root",
    }
    for path, what in guarded.items():
        if where == path or path.is_relative_to(where):
            raise DeployError(
                f"refusing to deploy to {where}: it is or contains {what}",
                hint="deploy to a folder of its own, e.g. /srv/www/blog",
            )
    for inner in ("content", "themes", "output", ".cssblog-cache"):
        if where.is_relative_to(root / inner):
            raise DeployError(
                f"refusing to deploy to {where}: it is inside the site's {inner}/",
                hint="deploy to a folder outside the site's sources",
            )
    if where.exists() and not where.is_dir():
        raise DeployError(f"{where} is not a folder", hint="set `path` to a folder")


def plan(target: DirTarget, tree: LocalTree, *, site_root: Path) -> Plan:
    """Compare the built files with the folder's, byte for byte."""
    where = destination(target, site_root)
    check_destination(where, site_root)
    local = {f.path: Entry(f.size, _digest(tree.root / f.path)) for f in tree.files}
    there: dict[PurePosixPath, Entry] = {}
    for path, size in walk_files(where):
        ours = local.get(path)
        same_size = ours is not None and ours.size == size
        there[path] = Entry(size, _digest(where / path) if same_size else f"size:{size}")
    return compare(local, there)


def publish(
    target: DirTarget, planned: Plan, tree: LocalTree, *, site_root: Path, progress: Progress
) -> tuple[PurePosixPath, ...]:
    """Assemble the new folder beside the old one, then exchange them; the files copied."""
    where = destination(target, site_root)
    check_destination(where, site_root)
    where.parent.mkdir(parents=True, exist_ok=True)
    with _locked(where.parent):
        reclaim_leftovers(where)
        tag = f"{os.getpid()}-{secrets.token_hex(4)}"
        staging = where.parent / f".{where.name}.deploy-{tag}"
        sends = {c.path for c in planned.sends}
        try:
            copied = _assemble(staging, where, tree, sends, planned.bytes_to_send, progress)
            if where.exists():
                staging.chmod(stat.S_IMODE(where.stat().st_mode))
                _exchange(staging, where, where.parent / f".{where.name}.old-{tag}")
            else:
                staging.rename(where)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        shutil.rmtree(staging, ignore_errors=True)  # the old site, after an exchange
    return copied


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (no lock file: the folder itself is locked)."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DeployError(
                f"another deploy is writing to {folder}", hint="wait for it to finish"
            ) from None
        yield
    finally:
        os.close(handle)  # closing releases the lock


def _assemble(
    staging: Path,
    where: Path,
    tree: LocalTree,
    sends: set[PurePosixPath],
    total: int,
    progress: Progress,
) -> tuple[PurePosixPath, ...]:
    staging.mkdir()
    copied: list[PurePosixPath] = []
    done = 0
    progress(0, total)
    for f in tree.files:
        old = where / f.path
        if f.path not in sends and old.is_file() and old.stat().st_size == f.size:
            _link_or_copy(old, staging / f.path)
            continue
        _link_or_copy(tree.root / f.path, staging / f.path, link=False)
        copied.append(f.path)
        done += f.size
        progress(done, total)
    for path, _size in walk_files(where):
        if not published(path):  # .well-known/, .htaccess: the host's, not the site's
            _link_or_copy(where / path, staging / path)
    return tuple(copied)


def _link_or_copy(source: Path, target: Path, *, link: bool = True) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        if link:
            try:
                os.link(source, target)
                return
            except OSError:
                pass  # another file system, or links not allowed: copy instead
        shutil.copy2(source, target)
    except OSError as exc:
        raise DeployError(
            f"cannot write {target}: {exc.strerror}",
            hint="free some disk space" if exc.errno == errno.ENOSPC else None,
        ) from exc


def _exchange(new: Path, current: Path, aside: Path) -> None:
    """Swap the two folders: ``new`` ends at ``current``, the old site at ``new``."""
    if _rename_exchange(new, current):
        return
    current.rename(aside)
    try:
        new.rename(current)
    except OSError:
        aside.rename(current)
        raise
    aside.rename(new)


def _rename_exchange(a: Path, b: Path) -> bool:
    """Linux's atomic exchange of two paths; ``False`` where it is not available."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    result = renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return bool(result == 0)


def reclaim_leftovers(where: Path) -> None:
    """Clear what a killed deploy left beside the folder (with the lock held: no deploy is
    running), putting the old site back if it was killed between two renames."""
    for entry in sorted(where.parent.glob(f".{where.name}.old-*")):
        if not where.exists():
            entry.rename(where)
        else:
            shutil.rmtree(entry, ignore_errors=True)
    for entry in where.parent.glob(f".{where.name}.deploy-*"):
        shutil.rmtree(entry, ignore_errors=True)


def _digest(path: Path) -> str:
    return hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()
