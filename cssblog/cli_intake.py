"""``cssblog intake``: take readers' comments on the live site."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

import click

from cssblog.cliutil import SITE_OPTION, now, reported
from cssblog.config import load_config

LOG_FORMAT = "ts=%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"


@click.command()
@SITE_OPTION
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("-q", "--quiet", is_flag=True, help="Log only warnings and errors, not requests.")
def intake(site: Path, host: str, port: int, quiet: bool) -> None:
    """Take comments for the live site at http://HOST:PORT/comments (see docs/intake.md)."""
    from cssblog.httpd import make_server
    from cssblog.intake_app import HEALTH, ROUTE, make_app

    _log_to_stderr(logging.WARNING if quiet else logging.INFO)
    with reported():
        config = load_config(site.resolve())  # a long-running service: absolute paths
        app = make_app(config, environ=os.environ, clock=now)
        try:
            server = make_server(host, port, app)
        except OSError as exc:
            raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    shown = f"[{host}]" if ":" in host else host
    base = f"http://{shown}:{server.port}"
    click.echo(f"Taking comments for {config.site.url} at {base}{ROUTE} (health: {base}{HEALTH})")
    click.echo(f"Writing them to {app.queue}; press Ctrl-C to stop.")
    stopped = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopped.set()

    signal.signal(signal.SIGTERM, stop)  # systemd stops a service with SIGTERM
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2})
    thread.start()
    try:
        while not stopped.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        click.echo("Stopping...")
        server.shutdown()
        thread.join()
        server.server_close()


def _log_to_stderr(level: int) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT, "%Y-%m-%dT%H:%M:%S%z"))
    logger = logging.getLogger("cssblog")
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False
