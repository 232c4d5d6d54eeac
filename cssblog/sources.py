"""Walk ``content/``, classify each file and read it once → :class:`SourceFile`."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Literal

from cssblog.errors import CssblogError

SourceKind = Literal["post", "page", "comment", "static"]
_KIND_DIRS: dict[str, SourceKind] = {
    "posts": "post",
    "pages": "page",
    "comments": "comment",
    "static": "static",
}
_EDITOR_DEBRIS = re.compile(
    r"(^\.|~$|^#.*#$|\.sw[a-z]$|\.tmp$|___jb_(tmp|old)___$|^4913$|\.goutputstream-|\.orig$|\.bak$)"
)


@dataclass(frozen=True, slots=True)
class SourceFile:
    """One file of the site's content, read once."""

    kind: SourceKind
    path: Path
    relative: PurePosixPath
    data: bytes
    digest: str


def is_ignored_name(name: str) -> bool:
    """Dotfiles and editor temp/backup files never become content."""
    return bool(_EDITOR_DEBRIS.search(name))


def read_sources(content_dir: Path) -> tuple[tuple[SourceFile, ...], tuple[CssblogError, ...]]:
    """Every content file under ``content_dir`` in a stable order, and problems found on the way."""
    found: list[SourceFile] = []
    problems: list[CssblogError] = []
    if not content_dir.is_dir():
        return (), ()
    root = content_dir.resolve()
    for sub, kind in _KIND_DIRS.items():
        base = content_dir / sub
        if not base.is_dir():
            continue
        for path in _walk(base):
            relative = PurePosixPath(path.relative_to(base).as_posix())
            if kind != "static" and path.suffix != ".md":
                continue
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                problems.append(
                    CssblogError(
                        "symbolic link points outside content/",
                        path=path,
                        hint="copy the file in instead",
                    )
                )
                continue
            try:
                data = path.read_bytes()
            except OSError as exc:
                problems.append(CssblogError(f"cannot read file: {exc.strerror}", path=path))
                continue
            found.append(
                SourceFile(
                    kind=kind,
                    path=path,
                    relative=relative,
                    data=data,
                    digest=hashlib.blake2b(data, digest_size=16).hexdigest(),
                )
            )
    return tuple(found), tuple(problems)


def _walk(base: Path) -> Iterator[Path]:
    """Files below ``base`` in sorted order, skipping ignored names and dangling links."""
    for dirpath, dirnames, filenames in os.walk(base):
        dirnames[:] = sorted(d for d in dirnames if not is_ignored_name(d))
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if not is_ignored_name(name) and path.is_file():
                yield path
