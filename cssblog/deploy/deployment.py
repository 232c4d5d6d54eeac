"""A deploy in two steps: plan (what will change, and the publish check), then publish.

Planning never changes the destination, so ``--dry-run`` stops after it. Publishing refuses a
plan whose check failed, and a first deploy that would delete files cssblog did not put there.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from cssblog import __version__
from cssblog.config import SiteConfig
from cssblog.deploy import folder, git, rsync
from cssblog.deploy.checks import CheckReport, check_publish
from cssblog.deploy.git import GitPlan
from cssblog.deploy.plan import LocalTree, Plan, Progress, scan_output
from cssblog.deploy.process import DeployError
from cssblog.deploy.targets import (
    DeployTarget,
    DirTarget,
    GitTarget,
    RsyncTarget,
    S3Target,
    describe,
)
from cssblog.errors import CssblogError

__all__ = [
    "DeployOptions",
    "DeployReport",
    "Deployment",
    "choose_target",
    "plan_deployment",
    "publish_deployment",
]
_EXAMPLES = 5


@dataclass(frozen=True, slots=True)
class DeployOptions:
    """What the author allowed beyond the safe default."""

    force: bool = False
    """git: push even if the branch moved since the plan; dir and rsync: replace a
    destination cssblog has not deployed to before, deleting what is not part of the site."""
    delete: bool = False
    """s3: delete objects that are no longer part of the site."""


@dataclass(frozen=True, slots=True)
class Deployment:
    """A planned deploy: what it sends and removes, and what the publish check found."""

    target: DeployTarget
    destination: str
    """Where it publishes, fit to print."""
    tree: LocalTree
    plan: Plan
    check: CheckReport
    refusal: CssblogError | None
    """Why publishing needs ``--force``, if it does."""
    options: DeployOptions


@dataclass(frozen=True, slots=True)
class DeployReport:
    """What a deploy did."""

    target: str
    destination: str
    plan: Plan
    sent: tuple[PurePosixPath, ...]
    """The files transferred, as the destination's tool reported them."""
    removed: int
    seconds: float
    revision: str | None = None
    """git: the commit the branch now points at."""


def choose_target(config: SiteConfig, name: str | None) -> DeployTarget:
    """The target called ``name``, or the only one when ``name`` is ``None``."""
    names = [t.name for t in config.deploy]
    if not names:
        raise CssblogError(
            "no [deploy.NAME] target",
            path=config.root / "cssblog.toml",
            hint='add one, e.g. [deploy.production] with type = "git" and repository = "..."; '
            "the README's Deploying section has examples",
        )
    if name is None:
        if len(names) > 1:
            raise CssblogError(
                f"{len(names)} deploy targets: choose one with --target",
                hint="targets: " + ", ".join(names),
            )
        return config.deploy[0]
    for target in config.deploy:
        if target.name == name:
            return target
    close = difflib.get_close_matches(name, names, n=1)
    raise CssblogError(
        f"no deploy target called {name!r}",
        hint=f"did you mean {close[0]!r}?" if close else "targets: " + ", ".join(names),
    )


def plan_deployment(
    config: SiteConfig,
    target: DeployTarget,
    *,
    now: datetime,
    options: DeployOptions | None = None,
) -> Deployment:
    """Compare ``output/`` with the destination and check what would be published.

    Reads the destination (git fetches the branch into ``.cssblog-cache/deploy/``) but never
    changes it.
    """
    options = options or DeployOptions()
    tree = scan_output(config.root / "output")
    plan = _plan(config, target, tree, now=now, options=options)
    check = check_publish(config, tree, now=now, vanished=plan.removed, stale=plan.kept)
    return Deployment(
        target=target,
        destination=describe(target),
        tree=tree,
        plan=plan,
        check=check,
        refusal=None if options.force else _refusal(config.root, target, plan),
        options=options,
    )


def publish_deployment(
    config: SiteConfig, deployment: Deployment, *, progress: Progress | None = None
) -> DeployReport:
    """Carry out a plan made by :func:`plan_deployment`; raise :class:`DeployError` on failure."""
    if not deployment.check.passed:
        raise DeployError(
            "the publish check failed; nothing was published",
            hint="fix the problems it listed, then deploy again",
        )
    if deployment.refusal is not None:
        raise deployment.refusal
    started = time.perf_counter()
    sent = _publish(config, deployment, progress or _quiet)
    _remember(config.root, deployment.target)
    plan = deployment.plan
    return DeployReport(
        target=deployment.target.name,
        destination=deployment.destination,
        plan=plan,
        sent=sent,
        removed=len(plan.removed),
        seconds=time.perf_counter() - started,
        revision=plan.commit if isinstance(plan, GitPlan) else None,
    )


def _plan(
    config: SiteConfig,
    target: DeployTarget,
    tree: LocalTree,
    *,
    now: datetime,
    options: DeployOptions,
) -> Plan:
    root = config.root.resolve()
    if isinstance(target, GitTarget):
        heading = f"Publish {config.site.title} (cssblog {__version__})"
        return git.plan(target, tree, site_root=root, now=now, message=heading)
    if isinstance(target, RsyncTarget):
        if not rsync.is_remote(target.destination):
            folder.check_destination(Path(rsync.destination(target, root)), root)
        return rsync.plan(target, tree, site_root=root)
    if isinstance(target, S3Target):
        from cssblog.deploy import s3

        return s3.plan(target, tree, delete=options.delete)
    return folder.plan(target, tree, site_root=root)


def _publish(
    config: SiteConfig, deployment: Deployment, progress: Progress
) -> tuple[PurePosixPath, ...]:
    target, plan, tree = deployment.target, deployment.plan, deployment.tree
    root = config.root.resolve()
    if isinstance(target, GitTarget):
        assert isinstance(plan, GitPlan)
        return git.publish(
            target, plan, site_root=root, force=deployment.options.force, progress=progress
        )
    if plan.empty:
        return ()
    if isinstance(target, RsyncTarget):
        return rsync.publish(target, plan, tree, site_root=root, progress=progress)
    if isinstance(target, S3Target):
        from cssblog.deploy import s3

        return s3.publish(target, plan, tree, progress=progress)
    assert isinstance(target, DirTarget)
    return folder.publish(target, plan, tree, site_root=root, progress=progress)


def _refusal(root: Path, target: DeployTarget, plan: Plan) -> CssblogError | None:
    """A first deploy to a folder that holds files the site does not have: ask for --force."""
    if not isinstance(target, DirTarget | RsyncTarget) or not plan.removed:
        return None
    if _remembered(root, target):
        return None
    examples = ", ".join(str(c.path) for c in plan.removed[:_EXAMPLES])
    more = len(plan.removed) - _EXAMPLES
    count = len(plan.removed)
    files = "1 file that is" if count == 1 else f"{count} files that are"
    return DeployError(
        f"{describe(target)} holds {files} not part of the site, and cssblog has not "
        f"deployed there before; {'it' if count == 1 else 'they'} would be deleted: {examples}"
        + (f" and {more} more" if more > 0 else ""),
        hint="check that this is the right place; --force deploys anyway",
    )


def _record(root: Path, target: DeployTarget) -> Path:
    return root / ".cssblog-cache" / "deploy" / f"{target.name}.json"


def _fingerprint(target: DeployTarget) -> str:
    """Identifies the destination without storing its address."""
    return hashlib.sha256(f"{target.kind}\0{describe(target)}".encode()).hexdigest()


def _remembered(root: Path, target: DeployTarget) -> bool:
    try:
        record = json.loads(_record(root, target).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and record.get("destination") == _fingerprint(target)


def _remember(root: Path, target: DeployTarget) -> None:
    path = _record(root, target)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps({"destination": _fingerprint(target)}))
    temporary.replace(path)


def _quiet(done: int, total: int) -> None:
    """No progress shown."""
