"""``type = "rsync"``: mirror the site with ``rsync --archive --delete --checksum``.

The plan is rsync's own dry run, so it is exactly what the real run does, for a local folder
as for ``user@host:/path/`` over SSH. Files are compared by checksum, not time, and only
changed ones are sent. ``--delay-updates`` puts every new file in place at the end of the run
and ``--delete-delay`` removes stale ones after that, so a failed or interrupted transfer
leaves the old site as it was; the final renames are quick but one file at a time, not one
atomic switch. Paths starting with a dot are neither sent nor deleted.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from cssblog.deploy.plan import Change, LocalTree, Plan, Progress
from cssblog.deploy.process import DeployError, stream
from cssblog.deploy.targets import RsyncTarget

OPTIONS = (
    "--archive",
    "--checksum",
    "--delete-delay",
    "--delay-updates",
    "--8-bit-output",
    "--exclude=.*",
    "--out-format=%i %l %n",
)
_ITEM = re.compile(r"^(\*deleting|[<>ch.][fdLDS][.+?a-zA-Z]{9}) +(\d+) (.*)$")
_ESCAPE = re.compile(r"\\#([0-7]{3})")
_REMOTE = re.compile(r"^([^/]*:|rsync://)")
HINT = (
    "check `destination` in cssblog.toml; for user@host:/path, check that `ssh user@host` "
    "works without a password prompt"
)


def is_remote(destination: str) -> bool:
    """``host:path``, ``user@host:path``, ``host::module`` and ``rsync://`` are remote."""
    return bool(_REMOTE.match(destination))


def destination(target: RsyncTarget, site_root: Path) -> str:
    """Where rsync writes: a remote address as written, a local folder made absolute."""
    if is_remote(target.destination):
        return target.destination
    return str(site_root / Path(target.destination).expanduser())


def plan(target: RsyncTarget, tree: LocalTree, *, site_root: Path) -> Plan:
    """What rsync would do, from its own dry run."""
    added: list[Change] = []
    changed: list[Change] = []
    removed: list[Change] = []

    def note(line: str) -> None:
        item = _item(line)
        if item is None:
            return
        flags, size, path = item
        if flags == "*deleting":
            removed.append(Change(path, None))
        elif flags[2:] == "+" * 9:
            added.append(Change(path, size))
        else:
            changed.append(Change(path, size))

    where = destination(target, site_root)
    args = ["rsync", "--dry-run", *OPTIONS, f"{tree.root}/", where]
    if is_remote(where) or Path(where).parent.exists():
        stream(args, note, what="rsync (dry run)", hint=HINT)
    else:  # a folder that is not there yet, not even its parent: everything is new
        added.extend(Change(f.path, f.size) for f in tree.files)
    return Plan(
        added=tuple(sorted(added, key=_path)),
        changed=tuple(sorted(changed, key=_path)),
        removed=tuple(sorted(removed, key=_path)),
        unchanged=len(tree.files) - len(added) - len(changed),
        first=not changed and len(added) == len(tree.files),
    )


def publish(
    target: RsyncTarget, planned: Plan, tree: LocalTree, *, site_root: Path, progress: Progress
) -> tuple[PurePosixPath, ...]:
    """Run rsync; the files it sent, as it reported them."""
    where = destination(target, site_root)
    if not is_remote(where):
        try:
            Path(where).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DeployError(f"cannot make {Path(where).parent}: {exc.strerror}") from exc
    total = planned.bytes_to_send
    sent: list[PurePosixPath] = []
    done = 0
    progress(0, total)

    def note(line: str) -> None:
        nonlocal done
        item = _item(line)
        if item is not None and item[0] != "*deleting":
            sent.append(item[2])
            done += item[1]
            progress(min(done, total), total)

    stream(["rsync", *OPTIONS, f"{tree.root}/", where], note, what="rsync", hint=HINT)
    return tuple(sent)


def _item(line: str) -> tuple[str, int, PurePosixPath] | None:
    """``(flags, size, path)`` of an itemized line about a file; ``None`` for anything else."""
    match = _ITEM.match(line)
    if match is None:
        return None
    flags, size, name = match.groups()
    if name.endswith("/") or (flags != "*deleting" and flags[1] != "f"):
        return None
    if flags != "*deleting" and flags[0] not in "<>":
        return None  # attributes only (a time stamp): nothing sent
    name = _ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), name)
    return flags, int(size), PurePosixPath(name)


def _path(change: Change) -> PurePosixPath:
    return change.path
