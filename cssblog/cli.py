"""The command line: the only place that prints, reads the clock or picks exit codes."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from cssblog import __version__, collector
from cssblog.build import build_site
from cssblog.cliutil import SITE_OPTION, now, reported
from cssblog.config import load_config
from cssblog.scaffold import init_site, new_post

PROGRESS_THRESHOLD = 200
WARNINGS_SHOWN = 20


LAZY_COMMANDS = {
    "comments": "cssblog.cli_comments",
    "deploy": "cssblog.cli_deploy",
    "intake": "cssblog.cli_intake",
    "serve": "cssblog.cli_serve",
}
"""The commands defined in other modules, and those modules."""


class _Commands(click.Group):
    """The commands, each module of them imported only when it is run (or listed in the help):
    a build does not load the preview server, the deployers or the comment desk (0.2 s)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module = LAZY_COMMANDS.get(cmd_name)
        if module is not None:
            command = getattr(importlib.import_module(module), cmd_name)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cssblog")
def main() -> None:
    """cssblog: a static blog for people who write about customer service."""


@main.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--title", default="Attention to Service", show_default=True)
@click.option("--author", default="Jane Writer", show_default=True)
def init(directory: Path, title: str, author: str) -> None:
    """Create a new site with sample content in DIRECTORY."""
    with reported():
        created = init_site(directory, title=title, author=author, now=now())
    click.echo(f"Created {len(created)} files in {directory}/")
    click.echo(f"Next: cd {directory} && cssblog build")


@main.command()
@click.argument("title")
@click.option("--category", "categories", multiple=True, help="A category (repeatable).")
@click.option("--draft", is_flag=True, help="Mark the post as a draft.")
@SITE_OPTION
def new(title: str, categories: tuple[str, ...], draft: bool, site: Path) -> None:
    """Write a new post called TITLE and print its path."""
    with reported():
        path = new_post(load_config(site), title, categories=categories, draft=draft, now=now())
    click.echo(str(path))


@main.command()
@SITE_OPTION
@click.option(
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write the site (default: SITE/output).",
)
@click.option("--drafts", is_flag=True, help="Include drafts and future posts.")
@click.option("--strict", is_flag=True, help="Treat warnings as errors.")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
@click.option("-v", "--verbose", is_flag=True, help="Show every warning, not the first 20.")
def build(
    site: Path, output: Path | None, drafts: bool, strict: bool, debug: bool, verbose: bool
) -> None:
    """Build the site into its output folder."""
    with reported(debug), _progress() as progress:
        report = build_site(site, now=now(), output=output, drafts=drafts, progress=progress)
    collector.none_at_exit()
    shown = report.warnings if verbose else report.warnings[:WARNINGS_SHOWN]
    for warning in shown:
        click.secho(f"Warning: {warning}", fg="yellow", err=True)
    if len(shown) < len(report.warnings):
        click.secho(
            f"... and {len(report.warnings) - len(shown)} more warnings (--verbose shows all)",
            fg="yellow",
            err=True,
        )
    click.echo(
        f"Built {report.pages} pages ({report.posts} posts) into {report.output}: "
        f"{report.rendered} rendered, "
        f"{report.written} written, {report.unchanged} unchanged, {report.removed} removed, "
        f"{len(report.warnings)} warning{'s' if len(report.warnings) != 1 else ''} "
        f"in {report.seconds:.2f} s"
    )
    click.echo(
        f"Comments: {report.pending_comments} awaiting moderation, "
        f"{report.unanswered_comments} awaiting a reply (cssblog comments inbox)"
    )
    if strict and report.warnings:
        click.secho("Error: warnings found and --strict is set", fg="red", err=True)
        sys.exit(1)


@contextmanager
def _progress() -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar for large sites when writing to a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    bar: Any = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if total < PROGRESS_THRESHOLD:
            return
        if bar is None:
            bar = click.progressbar(length=total, label="Rendering", file=sys.stderr)
            bar.__enter__()
        bar.update(done - bar.pos)

    try:
        yield update
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
