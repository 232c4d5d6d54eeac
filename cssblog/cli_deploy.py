"""``cssblog deploy``: build, show what will change and what the publish check found, publish."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from cssblog.build import build_lock, build_site
from cssblog.cliutil import SITE_OPTION, now, reported
from cssblog.config import load_config
from cssblog.deploy.deployment import (
    Deployment,
    DeployOptions,
    DeployReport,
    choose_target,
    plan_deployment,
    publish_deployment,
)
from cssblog.deploy.git import GitPlan
from cssblog.deploy.plan import Change
from cssblog.deploy.targets import DeployTarget, GitTarget, S3Target
from cssblog.errors import CssblogError

LISTED = 20
PROGRESS_BYTES = 1 << 20


@click.command()
@click.option("--target", "target_name", default=None, help="Which [deploy.NAME] to publish to.")
@click.option("--dry-run", is_flag=True, help="Show the plan and the check; publish nothing.")
@click.option("--no-build", is_flag=True, help="Publish output/ as it is, without building.")
@click.option(
    "--force",
    is_flag=True,
    help="git: replace the branch even if it moved since the plan. dir, rsync: deploy to a "
    "folder cssblog has not deployed to before, deleting what is not part of the site.",
)
@click.option("--delete", is_flag=True, help="s3: delete objects no longer part of the site.")
@SITE_OPTION
@click.option("-v", "--verbose", is_flag=True, help="List every file and warning.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def deploy(
    target_name: str | None,
    dry_run: bool,
    no_build: bool,
    force: bool,
    delete: bool,
    site: Path,
    verbose: bool,
    debug: bool,
) -> None:
    """Build the site, show what will change at the target, then publish it."""
    clock = now()
    with reported(debug):
        config = load_config(site)
        target = choose_target(config, target_name)
        _check_options(target, force=force, delete=delete)
        if not no_build:
            built = build_site(site, now=clock, drafts=False)
            warned = len(built.warnings)
            click.echo(
                f"Built {built.pages} pages ({built.posts} posts): {built.written} written, "
                f"{built.removed} removed"
                + (f", {warned} warnings (cssblog build shows them)" if warned else "")
            )
        with build_lock(site):
            options = DeployOptions(force=force, delete=delete)
            deployment = plan_deployment(config, target, now=clock, options=options)
            _show_plan(deployment, verbose)
            if _stopped(deployment, verbose):
                sys.exit(1)
            if dry_run:
                click.echo("Dry run: nothing was published.")
                return
            with _progress(deployment) as progress:
                report = publish_deployment(config, deployment, progress=progress)
    _show_report(report)


def _check_options(target: DeployTarget, *, force: bool, delete: bool) -> None:
    if delete and not isinstance(target, S3Target):
        raise click.UsageError(
            f"--delete is for s3 targets; {target.kind} targets always remove stale files"
        )
    if force and isinstance(target, S3Target):
        raise click.UsageError("--force is for git, rsync and dir targets; s3 has --delete")


def _show_plan(deployment: Deployment, verbose: bool) -> None:
    plan = deployment.plan
    target = deployment.target
    click.echo(f"Deploying to {target.name} ({target.kind}: {deployment.destination})")
    parts = [
        f"{len(plan.added)} added ({size(sum(c.size or 0 for c in plan.added))})",
        f"{len(plan.changed)} changed ({size(sum(c.size or 0 for c in plan.changed))})",
        f"{len(plan.removed)} removed",
        f"{plan.unchanged} unchanged",
    ]
    if plan.kept:
        parts.append(f"{len(plan.kept)} stale kept (--delete removes them)")
    click.echo("Plan: " + ", ".join(parts))
    for mark, changes in (("+", plan.added), ("~", plan.changed), ("-", plan.removed)):
        _list(mark, changes, verbose)
    if isinstance(target, GitTarget) and isinstance(plan, GitPlan) and not plan.empty:
        click.echo(f"Commit {plan.commit[:12]} on {target.branch}, pushed when published")


def _list(mark: str, changes: Sequence[Change], verbose: bool) -> None:
    shown = changes if verbose else changes[:LISTED]
    for change in shown:
        sized = f" ({size(change.size)})" if change.size is not None and mark != "-" else ""
        click.echo(f"  {mark} {change.path}{sized}")
    if len(shown) < len(changes):
        click.echo(f"  {mark} ... and {len(changes) - len(shown)} more (--verbose lists all)")


def _stopped(deployment: Deployment, verbose: bool) -> bool:
    """Show the publish check; whether it (or a first deploy's refusal) stops the deploy."""
    check = deployment.check
    count = len(check.errors)
    verdict = "passed" if check.passed else f"{count} problem{'s' if count != 1 else ''}"
    click.echo(
        f"Check: {check.files} files; no draft or future post ({check.held_back_posts} held "
        f"back), no unapproved comment ({check.held_back_comments} held back), no email "
        f"address: {verdict}"
    )
    _warn(check.warnings, verbose)
    problems: list[CssblogError] = list(check.errors)
    if deployment.refusal is not None:
        problems.append(deployment.refusal)
    for problem in problems:
        click.secho(f"Error: {problem}", fg="red", err=True)
    if problems:
        click.echo("Nothing was published.", err=True)
    return bool(problems)


def _warn(warnings: Sequence[CssblogError], verbose: bool) -> None:
    shown = warnings if verbose else warnings[:LISTED]
    for warning in shown:
        click.secho(f"Warning: {warning}", fg="yellow", err=True)
    if len(shown) < len(warnings):
        click.secho(
            f"... and {len(warnings) - len(shown)} more warnings (--verbose shows all)",
            fg="yellow",
            err=True,
        )


@contextmanager
def _progress(deployment: Deployment) -> Iterator[Callable[[int, int], None] | None]:
    """A line before publishing, and a progress bar for large uploads to a terminal."""
    plan = deployment.plan
    if plan.empty:
        yield None
        return
    click.echo(f"Publishing {len(plan.sends)} files ({size(plan.bytes_to_send)})...")
    if not sys.stderr.isatty() or plan.bytes_to_send < PROGRESS_BYTES:
        yield None
        return
    bar: Any = click.progressbar(length=plan.bytes_to_send, label="Publishing", file=sys.stderr)
    shown = 0

    def update(done: int, total: int) -> None:
        nonlocal shown
        bar.update(done - shown)
        shown = done

    with bar:
        yield update


def _show_report(report: DeployReport) -> None:
    plan = report.plan
    if plan.empty:
        click.echo(f"Nothing to publish: {report.target} already has this site.")
        return
    click.echo(
        f"Published to {report.target} in {report.seconds:.2f} s: {len(plan.added)} added, "
        f"{len(plan.changed)} changed, {report.removed} removed; {len(report.sent)} files "
        f"sent ({size(plan.bytes_to_send)})"
    )
    if report.revision:
        click.echo(f"Commit {report.revision[:12]}")


def size(count: int) -> str:
    """``512 B``, ``3.2 KiB``, ``1.5 MiB``."""
    value = float(count)
    for unit in ("B", "KiB", "MiB"):
        if value < 1024:
            return f"{count} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"
