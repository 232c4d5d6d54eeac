"""``type = "git"``: the site as one new commit on a branch (``gh-pages``), pushed.

The commit is made in a bare repository under ``.cssblog-cache/deploy/`` from git's plumbing
(no checkout, no working tree): the branch's tip is fetched, the files that changed are written
as objects, and a commit with the tip as its parent holds the whole site plus ``.nojekyll`` and
an optional ``CNAME``. Publishing is one ``git push``, which git applies whole or not at all.
When the branch moved after the plan, the push is refused as not a fast-forward; ``--force``
replaces it. The repository's address is passed on the command line, never stored.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from cssblog.deploy.plan import Entry, LocalTree, Plan, Progress, compare, is_published_path
from cssblog.deploy.process import DeployError, run
from cssblog.deploy.targets import GitTarget

NOJEKYLL = PurePosixPath(".nojekyll")
CNAME = PurePosixPath("CNAME")
BASE_REF = "refs/cssblog/base"
_FILE_MODE = "100644"
_SCP_LIKE = re.compile(r"^[^/]+:")
_REJECTED = ("non-fast-forward", "fetch first", "[rejected]")


@dataclass(frozen=True, slots=True)
class GitPlan(Plan):
    """A plan whose commit is made already: publishing pushes it."""

    commit: str = ""
    """The commit that holds the new site (the branch's tip when nothing changed)."""
    parent: str | None = None
    """The branch's tip when the plan was made; ``None`` when the branch is new."""


@dataclass(frozen=True, slots=True)
class GitRepo:
    """The deploy's bare repository and the address of the one it pushes to."""

    cache: Path
    url: str

    def git(
        self,
        *args: str,
        what: str,
        stdin: bytes | None = None,
        hint: str | None = None,
        env: dict[str, str] | None = None,
    ) -> str:
        """Run one git command in the deploy repository; its output."""
        return run(
            ["git", "-C", str(self.cache), *args],
            env={**os.environ, "LC_ALL": "C", **(env or {})},
            stdin=stdin,
            what=what,
            hint=hint,
        )


def _repo(target: GitTarget, site_root: Path) -> GitRepo:
    cache = site_root / ".cssblog-cache" / "deploy" / f"{target.name}.git"
    return GitRepo(cache, repository_url(target, site_root))


def repository_url(target: GitTarget, site_root: Path) -> str:
    """The repository's address; a relative local path is taken from the site folder."""
    where = target.repository
    if "://" in where or _SCP_LIKE.match(where) or Path(where).is_absolute():
        return where
    return str((site_root / where).resolve())


def plan(
    target: GitTarget, tree: LocalTree, *, site_root: Path, now: datetime, message: str
) -> GitPlan:
    """Fetch the branch, write the changed files as objects, make the commit; push nothing."""
    repo = _repo(target, site_root)
    if not (repo.cache / "HEAD").is_file():
        repo.cache.mkdir(parents=True, exist_ok=True)
        repo.git("init", "--quiet", "--bare", what="creating the deploy repository")
    parent = _fetch(repo, target.branch)
    remote = _remote_files(repo, parent) if parent else {}
    extras = _extras(target)
    local = {f.path: Entry(f.size, _blob_id(tree.read(f.path))) for f in tree.files}
    local.update({p: Entry(len(data), _blob_id(data)) for p, data in extras.items()})
    changes = compare(local, remote)
    if changes.empty and parent is not None:
        return _git_plan(changes, commit=parent, parent=parent)
    _write_objects(repo, tree, extras, [c.path for c in changes.sends])
    kept = {p: e for p, e in remote.items() if not is_published_path(p) and p not in local}
    root_tree = _write_tree(repo, {**local, **kept})  # .github/ and the like stay
    summary = (
        f"{len(changes.added)} added, {len(changes.changed)} changed, "
        f"{len(changes.removed)} removed"
    )
    commit = _commit(repo, root_tree, parent, now, f"{message}\n\n{summary}\n")
    return _git_plan(changes, commit=commit, parent=parent)


def _git_plan(changes: Plan, *, commit: str, parent: str | None) -> GitPlan:
    return GitPlan(
        added=changes.added, changed=changes.changed, removed=changes.removed,
        unchanged=changes.unchanged, first=parent is None, commit=commit, parent=parent,
    )  # fmt: skip


def publish(
    target: GitTarget, planned: GitPlan, *, site_root: Path, force: bool, progress: Progress
) -> tuple[PurePosixPath, ...]:
    """Push the planned commit; the files it changed."""
    if planned.empty and planned.parent is not None:
        return ()
    total = planned.bytes_to_send
    progress(0, total)
    repo = _repo(target, site_root)
    refspec = f"{planned.commit}:refs/heads/{target.branch}"
    args = ["push", "--quiet", "--no-verify", *(["--force"] if force else []), repo.url, refspec]
    try:
        repo.git(*args, what="git push", hint="check the repository's address and your access "
                 "to it (an SSH key, or git's credential helper for https)")  # fmt: skip
    except DeployError as exc:
        if any(mark in exc.message for mark in _REJECTED):
            exc.hint = (
                f"{target.branch} changed after the plan was made; deploy again to publish on "
                "top of it, or use --force to replace what is there"
            )
        raise
    progress(total, total)
    return tuple(c.path for c in planned.sends)


def _fetch(repo: GitRepo, branch: str) -> str | None:
    """The branch's tip at the remote, fetched; ``None`` if it has no such branch yet."""
    ref = f"refs/heads/{branch}"
    listed = repo.git(
        "ls-remote", "--heads", "--", repo.url, ref,
        what="reading the repository", hint="check `repository` in cssblog.toml and your "
        "access to it (an SSH key, or git's credential helper for https)",
    )  # fmt: skip
    tips = [line.split("\t", 1) for line in listed.splitlines() if "\t" in line]
    tip = next((object_id for object_id, name in tips if name == ref), None)
    if tip is None:
        return None
    repo.git("fetch", "--quiet", "--no-tags", "--depth=1", repo.url, f"+{ref}:{BASE_REF}",
             what="fetching the branch")  # fmt: skip
    return repo.git("rev-parse", "--verify", BASE_REF, what="reading the branch").strip()


def _remote_files(repo: GitRepo, commit: str) -> dict[PurePosixPath, Entry]:
    listing = repo.git("ls-tree", "-r", "-z", "-l", "--full-tree", commit, what="listing files")
    found: dict[PurePosixPath, Entry] = {}
    for record in listing.split("\0"):
        if not record:
            continue
        meta, path = record.split("\t", 1)
        mode, _kind, object_id, size = meta.split()
        digest = object_id if mode == _FILE_MODE else f"{mode}:{object_id}"
        found[PurePosixPath(path)] = Entry(int(size) if size.isdigit() else None, digest)
    return found


def _extras(target: GitTarget) -> dict[PurePosixPath, bytes]:
    """``.nojekyll`` (GitHub Pages publishes the files as they are) and ``CNAME``."""
    extras = {NOJEKYLL: b""}
    if target.cname:
        extras[CNAME] = f"{target.cname}\n".encode()
    return extras


def _blob_id(data: bytes) -> str:
    """The id git gives a file with these bytes."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _write_objects(
    repo: GitRepo,
    tree: LocalTree,
    extras: dict[PurePosixPath, bytes],
    paths: list[PurePosixPath],
) -> None:
    files = [str(tree.root / p) for p in paths if p not in extras]
    if any("\n" in name for name in files):
        raise DeployError("a file name holds a line break", hint="rename the file")
    if files:
        repo.git("hash-object", "-w", "--no-filters", "--stdin-paths",
                 stdin="\n".join(files).encode() + b"\n", what="storing files")  # fmt: skip
    for path in paths:
        if path in extras:
            repo.git("hash-object", "-w", "--no-filters", "--stdin", stdin=extras[path],
                     what="storing files")  # fmt: skip


def _write_tree(repo: GitRepo, files: dict[PurePosixPath, Entry]) -> str:
    index = repo.cache / f"index-{os.getpid()}"
    listing = b"".join(
        f"{_mode_and_id(entry)}\t{path}".encode() + b"\0" for path, entry in sorted(files.items())
    )
    env = {"GIT_INDEX_FILE": str(index)}  # a fresh index for each plan, then thrown away
    what = "writing the commit's tree"
    try:
        repo.git("update-index", "-z", "--add", "--index-info", stdin=listing, env=env, what=what)
        return repo.git("write-tree", env=env, what=what).strip()
    finally:
        index.unlink(missing_ok=True)


def _mode_and_id(entry: Entry) -> str:
    """``100644 <id>``; entries kept from the branch may have another mode (``mode:id``)."""
    mode, _, object_id = entry.digest.rpartition(":")
    return f"{mode or _FILE_MODE} {object_id}"


def _commit(repo: GitRepo, tree_id: str, parent: str | None, now: datetime, message: str) -> str:
    stamp = f"@{int(now.timestamp())} +0000"
    env = {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    if not _configured(repo, "user.name") or not _configured(repo, "user.email"):
        env.update(
            GIT_AUTHOR_NAME="cssblog", GIT_AUTHOR_EMAIL="cssblog@localhost",
            GIT_COMMITTER_NAME="cssblog", GIT_COMMITTER_EMAIL="cssblog@localhost",
        )  # fmt: skip
    args = ["commit-tree", tree_id, *(["-p", parent] if parent else []), "-m", message]
    return repo.git(*args, env=env, what="making the commit").strip()


def _configured(repo: GitRepo, key: str) -> bool:
    try:
        return bool(repo.git("config", "--get", key, what="reading git's configuration").strip())
    except DeployError:
        return False
