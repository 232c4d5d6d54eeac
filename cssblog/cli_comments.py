"""``cssblog comments ...``: the author's moderation desk on the command line."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import click

from cssblog.cliutil import SITE_OPTION, now, reported
from cssblog.comments.model import STATUSES, Comment, Status
from cssblog.config import load_config


def _service() -> ModuleType:
    """The comment desk's library, loaded when a command runs (it brings the whole engine)."""
    from cssblog.comments import service

    return service


JSON = click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
EXIT_DUPLICATE = 3


def _public(comment: Comment) -> dict[str, Any]:
    return {
        "id": comment.key,
        "post": comment.post_slug,
        "author": comment.author,
        "email": comment.email,
        "url": comment.url,
        "date": comment.date.isoformat(),
        "parent": comment.parent,
        "status": comment.status,
        "moderation_note": comment.moderation_note,
        "path": str(comment.path),
    }


def _table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def _excerpt(text: str, width: int = 48) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _age(hours: float) -> str:
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} d"


@click.group()
def comments() -> None:
    """Readers' comments: add, list, moderate, answer."""


@comments.command("add")
@click.argument("post_slug")
@click.option("--author", required=True)
@click.option("--email", required=True)
@click.option("--url", default="")
@click.option("--parent", default=None, help="Id of the comment this replies to.")
@click.option("--body", "body", default=None, help="The comment text (Markdown).")
@click.option("--body-file", type=click.File(encoding="utf-8"), default=None)
@SITE_OPTION
def add(
    post_slug: str,
    author: str,
    email: str,
    url: str,
    parent: str | None,
    body: str | None,
    body_file: Any,
    site: Path,
) -> None:
    """Add a comment to POST_SLUG; the moderation rules decide its status."""
    if (body is None) == (body_file is None):
        raise click.UsageError("give exactly one of --body and --body-file")
    text = body if body is not None else body_file.read()
    with reported():
        try:
            added = _service().add_comment(
                load_config(site),
                _service().NewComment(post_slug, author, email, text, url, parent),
                now=now(),
            )
        except _service().DuplicateCommentError as exc:
            click.secho(f"Refused: {exc.message}", fg="yellow", err=True)
            sys.exit(EXIT_DUPLICATE)
    click.echo(f"{added.comment.key}: {added.comment.status} ({added.decision.note})")
    click.echo(str(added.comment.path))


@comments.command("list")
@click.option("--status", type=click.Choice(STATUSES), default=None)
@click.option("--post", "post_slug", default=None)
@SITE_OPTION
@JSON
def list_(status: str | None, post_slug: str | None, site: Path, as_json: bool) -> None:
    """List comments, oldest first."""
    with reported():
        found = [
            c
            for c in sorted(
                _service().all_comments(load_config(site)), key=lambda c: (c.date, c.id)
            )
            if (status is None or c.status == status)
            and (post_slug is None or c.post_slug == post_slug)
        ]
    if as_json:
        click.echo(json.dumps([_public(c) for c in found], indent=2))
        return
    _table(
        [
            (
                c.key,
                c.status,
                c.date.strftime("%Y-%m-%d %H:%M"),
                _excerpt(c.author, 20),
                _excerpt(c.body),
            )
            for c in found
        ],
        ("ID", "STATUS", "DATE", "AUTHOR", "TEXT"),
    )
    click.echo(f"{len(found)} comment{'s' if len(found) != 1 else ''}")


@comments.command("show")
@click.argument("refs", nargs=-1, required=True)
@SITE_OPTION
@JSON
def show(refs: tuple[str, ...], site: Path, as_json: bool) -> None:
    """Show comments in full (the email too: this is the author's view)."""
    with reported():
        found = _service().find_comments(_service().all_comments(load_config(site)), refs)
    if as_json:
        click.echo(json.dumps([_public(c) | {"body": c.body} for c in found], indent=2))
        return
    for c in found:
        click.echo(f"{c.key}  [{c.status}]  {c.date:%Y-%m-%d %H:%M}")
        click.echo(f"  by {c.author} <{c.email}>" + (f"  {c.url}" if c.url else ""))
        if c.parent:
            click.echo(f"  in reply to {c.parent}")
        if c.moderation_note:
            click.echo(f"  note: {c.moderation_note}")
        click.echo(f"  file: {c.path}\n")
        click.echo("\n".join("    " + line for line in c.body.splitlines()) + "\n")


def _status_command(name: str, status: Status) -> None:
    @comments.command(name)
    @click.argument("refs", nargs=-1, required=True)
    @click.option("--note", default="", help="Why (recorded in the file).")
    @SITE_OPTION
    def command(refs: tuple[str, ...], note: str, site: Path) -> None:
        with reported():
            changed = _service().change_status(
                load_config(site),
                refs,
                status,
                note=note or f"{status} by the moderator",
                now=now(),
            )
        for comment in changed:
            click.echo(f"{comment.key}: {status}")

    command.__doc__ = f"Mark comments {status} (the file is kept)."


for _name, _status in (("approve", "approved"), ("reject", "rejected"), ("spam", "spam")):
    _status_command(_name, _status)  # type: ignore[arg-type]


@comments.command("moderate")
@SITE_OPTION
def moderate_command(site: Path) -> None:
    """Apply the rules to pending comments; say what changed and why."""
    with reported():
        changed = _service().moderate_pending(load_config(site), now=now())
    for comment, decision in changed:
        click.echo(f"{comment.key}: {decision.status} ({decision.note})")
    click.echo(f"{len(changed)} comment{'s' if len(changed) != 1 else ''} changed")


@comments.command("inbox")
@SITE_OPTION
@JSON
def inbox(site: Path, as_json: bool) -> None:
    """Pending comments, and readers' comments no author has answered yet."""
    with reported():
        config = load_config(site)
        from cssblog.comments.inbox import build_inbox

        items = build_inbox(
            _service().all_comments(config),
            config.author_emails(),
            now=now(),
            settings=config.comments,
        )
    if as_json:
        click.echo(
            json.dumps(
                [
                    _public(i.comment)
                    | {"kind": i.kind, "age_hours": round(i.age_hours, 1), "overdue": i.overdue}
                    for i in items
                ],
                indent=2,
            )
        )
        return
    _table(
        [
            (
                "pending" if i.kind == "pending" else "to answer",
                i.comment.key,
                _age(i.age_hours) + (" OVERDUE" if i.overdue else ""),
                _excerpt(i.comment.author, 20),
                _excerpt(i.comment.body, 40),
            )
            for i in items
        ],
        ("NEEDS", "ID", "AGE", "AUTHOR", "TEXT"),
    )
    pending = sum(i.kind == "pending" for i in items)
    click.echo(
        f"{pending} to moderate, {len(items) - pending} to answer "
        f"(service level: {config.comments.reply_within_hours} h)"
    )


@comments.command("dupes")
@click.option("--apply", "apply_", is_flag=True, help="Mark the later copies as duplicates.")
@SITE_OPTION
def dupes(apply_: bool, site: Path) -> None:
    """Find duplicate comments; with --apply, mark them (never deletes)."""
    with reported():
        config = load_config(site)
        groups = _service().duplicate_groups(config)
        for group in groups:
            click.echo(
                f"{group.keep.key} ({group.keep.author}, {group.keep.status}) kept; "
                f"copies: {', '.join(c.id for c in group.copies)}"
            )
        if apply_:
            marked = _service().mark_duplicates(config, groups, now=now())
            click.echo(f"{len(marked)} marked duplicate")
        elif groups:
            click.echo("Run with --apply to mark the copies (files are kept).")
    if not groups:
        click.echo("No duplicates.")
