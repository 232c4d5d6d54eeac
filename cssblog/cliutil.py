"""Helpers shared by the command modules: the clock, and errors turned into exit status 1."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import click

from cssblog.errors import ContentErrors, CssblogError

SITE_OPTION = click.option(
    "--site",
    "site",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path(),
    show_default=".",
    help="The site folder.",
)


def now() -> datetime:
    """The current time; read here and passed down, never deeper."""
    return datetime.now(UTC)


@contextmanager
def reported(debug: bool = False) -> Iterator[None]:
    """Turn a :class:`CssblogError` into ``Error: ...`` lines and exit status 1."""
    try:
        yield
    except CssblogError as exc:
        if debug:
            raise
        errors = exc.errors if isinstance(exc, ContentErrors) else (exc,)
        for error in errors:
            click.secho(f"Error: {error}", fg="red", err=True)
        if len(errors) > 1:
            click.echo(f"{len(errors)} errors; nothing was written.", err=True)
        sys.exit(1)
