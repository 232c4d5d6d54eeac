"""``cssblog serve``: preview the site with live reload while you write."""

from __future__ import annotations

import threading
import webbrowser
from pathlib import Path

import click

from cssblog.cliutil import SITE_OPTION, now, reported
from cssblog.preview import Outcome
from cssblog.serve import PreviewSession, is_loopback


@click.command()
@SITE_OPTION
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--no-drafts", is_flag=True, help="Leave out drafts and scheduled posts.")
@click.option("--open", "open_browser", is_flag=True, help="Open the preview in a browser.")
@click.option("-v", "--verbose", is_flag=True, help="Log every request.")
def serve(
    site: Path, host: str, port: int, no_drafts: bool, open_browser: bool, verbose: bool
) -> None:
    """Preview the site at http://127.0.0.1:8000/, rebuilding as you save."""
    if not is_loopback(host):
        click.secho(
            f"Warning: listening on {host} exposes the preview, drafts included, to your "
            "network. Live reload and the comment form answer this machine only.",
            fg="yellow",
            err=True,
        )
    with reported():
        try:
            session = PreviewSession(
                site, clock=now, host=host, port=port, drafts=not no_drafts,
                on_build=_report, on_warning=_warn, log=_log if verbose else lambda _: None,
            )  # fmt: skip
        except OSError as exc:
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    # From the first build on, a Ctrl-C stops the session: its server thread would else keep
    # the process alive with no one left to stop it.
    try:
        session.start()
        drafts = "without" if no_drafts else "with"
        click.echo(f"Serving {session.preview.root} at {session.url} ({drafts} drafts)")
        watch = session.watch
        if watch is not None:
            shown = ", ".join(str(w.path) for w in watch.paths if w.path.exists())
            click.echo(f"Watching {shown}{' (polling)' if watch.polling else ''}")
        click.echo("Press Ctrl-C to stop.")
        if open_browser:
            webbrowser.open(session.url)
        stopped = threading.Event()
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        click.echo("Stopping...")
    finally:
        session.stop()


def _report(outcome: Outcome) -> None:
    if outcome.ok:
        click.echo(
            f"Built {outcome.pages} pages, {len(outcome.changed)} "
            f"file{'s' if len(outcome.changed) != 1 else ''} changed, "
            f"{len(outcome.warnings)} warning{'s' if len(outcome.warnings) != 1 else ''} "
            f"in {outcome.seconds * 1000:.0f} ms"
        )
        for warning in outcome.warnings[:5]:
            click.secho(f"Warning: {warning}", fg="yellow", err=True)
        return
    for problem in outcome.problems:
        where = f"{problem.location}: " if problem.location else ""
        click.secho(f"Error: {where}{problem.message}", fg="red", err=True)
    click.secho("The last good preview is still served; fix and save to rebuild.", err=True)


def _warn(message: str) -> None:
    click.secho(f"Warning: {message}", fg="yellow", err=True)


def _log(message: str) -> None:
    click.echo(message, err=True)
