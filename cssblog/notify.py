"""Tell the author a comment arrived: commit it to the site's git repository, email the
moderator. Both are best effort: the comment is already stored, so a failure is logged (without
the reader's personal data) and the reader's request still succeeds.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
import subprocess
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

from cssblog.comments.model import Comment
from cssblog.comments.queue import intake_lock
from cssblog.config import IntakeSection
from cssblog.errors import CssblogError

log = logging.getLogger(__name__)

GIT_TIMEOUT = 30.0
SMTP_TIMEOUT = 10.0
EXCERPT = 600
GIT_AUTHOR = ("cssblog intake", "intake@localhost")

__all__ = ["Arrival", "GitCommitter", "Mailer", "Notifier", "notify"]


@dataclass(frozen=True, slots=True)
class Arrival:
    """A comment just stored, and where it will be shown."""

    comment: Comment
    post_title: str
    post_url: str
    """The post's absolute URL on the live site."""
    site_title: str


Notifier = Callable[[Arrival], None]


def notify(arrival: Arrival, notifiers: Sequence[tuple[str, Notifier]]) -> None:
    """Run every notifier; log a failure and go on to the next."""
    for name, notifier in notifiers:
        try:
            notifier(arrival)
        except (OSError, smtplib.SMTPException, subprocess.SubprocessError) as exc:
            log.warning(
                "notify=%s outcome=failed post=%s id=%s error=%s",
                name,
                arrival.comment.post_slug,
                arrival.comment.id,
                type(exc).__name__,
            )
        else:
            log.info(
                "notify=%s outcome=sent post=%s id=%s",
                name,
                arrival.comment.post_slug,
                arrival.comment.id,
            )


class GitCommitter:
    """Commit each new comment file, and nothing else, to the git repository holding the site."""

    def __init__(self, site_root: Path, *, git: str = "git", timeout: float = GIT_TIMEOUT) -> None:
        self.site_root = site_root
        self._git = git
        self._timeout = timeout

    def check(self) -> None:
        """Raise :class:`CssblogError` unless the site is in a git work tree."""
        try:
            self._run("rev-parse", "--is-inside-work-tree")
        except (OSError, subprocess.SubprocessError) as exc:
            raise CssblogError(
                "[intake] git_commit is on but the site is not in a git repository",
                path=self.site_root,
                hint="run `git init` in the site, or set git_commit = false",
            ) from exc

    def __call__(self, arrival: Arrival) -> None:
        comment = arrival.comment
        relative = comment.path.resolve().relative_to(self.site_root.resolve())
        message = f"Comment {comment.id} on {comment.post_slug} ({comment.status})"
        name, email = GIT_AUTHOR
        with self._locked():
            self._run("add", "--", str(relative))
            self._run(
                "-c", f"user.name={name}", "-c", f"user.email={email}",
                "-c", "commit.gpgsign=false",
                "commit", "--quiet", "--no-verify", "--message", message, "--", str(relative),
            )  # fmt: skip

    @contextmanager
    def _locked(self) -> Iterator[None]:
        with intake_lock(self.site_root, "intake-git"):  # one commit at a time, across processes
            yield

    def _run(self, *args: str) -> None:
        subprocess.run(
            [self._git, "-C", str(self.site_root), *args],
            check=True,
            capture_output=True,
            timeout=self._timeout,
            stdin=subprocess.DEVNULL,
        )


class Mailer:
    """Email the moderator about each new comment, over SMTP."""

    def __init__(
        self, settings: IntakeSection, password: str, *, timeout: float = SMTP_TIMEOUT
    ) -> None:
        self.settings = settings
        self._password = password
        self._timeout = timeout

    def message(self, arrival: Arrival) -> EmailMessage:
        """The email about ``arrival``: the post, an excerpt, and the commands to moderate it."""
        comment, settings = arrival.comment, self.settings
        title = " ".join(arrival.post_title.split())
        mail = EmailMessage()
        mail["From"] = settings.smtp_from or settings.notify_email
        mail["To"] = settings.notify_email
        mail["Subject"] = f"[{' '.join(arrival.site_title.split())}] New comment on {title}"
        mail["Date"] = format_datetime(comment.date)
        mail["Message-ID"] = make_msgid(domain="cssblog.invalid")
        excerpt = comment.body if len(comment.body) <= EXCERPT else comment.body[:EXCERPT] + "…"
        quoted = "\n".join("> " + line for line in excerpt.splitlines())
        state = "published" if comment.status == "approved" else comment.status
        mail.set_content(
            f"A comment on “{title}” arrived and is {state}"
            + (f" ({comment.moderation_note})" if comment.moderation_note else "")
            + f".\n\nPost: {arrival.post_url}\nFrom: {comment.author or 'a reader'}\n\n"
            f"{quoted}\n\n"
            f"To publish it:  cssblog comments approve {comment.key}\n"
            f"To refuse it:   cssblog comments reject {comment.key}\n"
            f"Everything waiting: cssblog comments inbox\n"
        )
        return mail

    def __call__(self, arrival: Arrival) -> None:
        settings = self.settings
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=self._timeout) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, self._password)
            smtp.send_message(self.message(arrival))
