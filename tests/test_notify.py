"""The author hears of each comment: a git commit per comment, an email to the moderator.

The SMTP server is a small one written here, on 127.0.0.1; git runs on a repository in the
test's temporary folder.
"""

from __future__ import annotations

import base64
import email
import logging
import socket
import socketserver
import subprocess
import threading
from collections.abc import Iterator
from email.message import Message
from email.policy import default
from pathlib import Path

import pytest

from cssblog.config import load_config
from cssblog.errors import CssblogError
from cssblog.intake_app import IntakeApp, make_app
from tests.conftest import NOW, MakeSite
from tests.intake_helpers import HELLO_URL, intake_site, reader, send, stored

PASSWORD_ENV = "TEST_SMTP_PASSWORD"


class _Session(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, QUIT."""

    server: _SMTPServer

    def handle(self) -> None:
        self.reply("220 test.invalid ESMTP")
        envelope: dict[str, object] = {"to": []}
        for _ in range(50):  # bounded: a test talks a few lines
            line = self.rfile.readline(4096).decode().rstrip("\r\n")
            verb = line.split(" ")[0].upper()
            if verb == "EHLO":
                self.reply("250-test.invalid", "250-AUTH PLAIN", "250 8BITMIME")
            elif verb == "AUTH":
                self.server.logins.append(base64.b64decode(line.split()[-1]).decode())
                self.reply("235 ok")
            elif verb == "MAIL":
                envelope["from"] = line
                self.reply("250 ok")
            elif verb == "RCPT":
                envelope["to"].append(line)  # type: ignore[attr-defined]
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 go on")
                data = b"".join(iter(lambda: self.rfile.readline(1 << 16), b".\r\n"))
                self.server.mails.append((envelope, email.message_from_bytes(data, policy=default)))
                self.reply("250 queued")
            elif verb == "QUIT" or not line:
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")

    def reply(self, *lines: str) -> None:
        self.wfile.write("".join(f"{line}\r\n" for line in lines).encode())


class _SMTPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Session)
        self.mails: list[tuple[dict[str, object], Message]] = []
        self.logins: list[str] = []


@pytest.fixture
def smtp() -> Iterator[_SMTPServer]:
    server = _SMTPServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


def mail_site(make_site: MakeSite, port: int, user: str = "") -> Path:
    settings = (
        'notify_email = "moderator@example.org"\nsmtp_host = "127.0.0.1"\n'
        f'smtp_port = {port}\nsmtp_user = "{user}"\nsmtp_password_env = "{PASSWORD_ENV}"\n'
    )
    return intake_site(make_site, intake=settings)


def intake_for(root: Path, environ: dict[str, str] | None = None) -> IntakeApp:
    return make_app(load_config(root), environ=environ or {}, clock=lambda: NOW)


def test_the_moderator_gets_an_email_with_the_post_an_excerpt_and_the_command(
    make_site: MakeSite, smtp: _SMTPServer
) -> None:
    root = mail_site(make_site, smtp.server_address[1], user="blog")
    app = intake_for(root, {PASSWORD_ENV: "s3cret"})
    body = "Line one of a long comment.\n" + "More words. " * 100
    assert send(app, reader(body=body)).status == 303
    (path,) = stored(root)
    (envelope, mail) = smtp.mails[0]
    assert smtp.logins == ["\0blog\0s3cret"]
    assert [str(r).upper() for r in envelope["to"]] == ["RCPT TO:<MODERATOR@EXAMPLE.ORG>"]
    assert mail["To"] == "moderator@example.org"
    assert mail["From"] == "moderator@example.org"
    assert mail["Subject"] == "[Test Blog] New comment on Hello"
    text = mail.get_content()
    assert HELLO_URL in text
    assert "> Line one of a long comment." in text
    assert "…" in text and text.count("More words.") < 100  # an excerpt, not the whole
    assert f"cssblog comments approve hello/{path.stem}" in text
    assert "pending (first comment from this email address)" in text
    assert "riley@example.net" not in text  # the reader's address stays in the file


def test_a_mail_server_that_is_down_never_fails_the_comment(
    make_site: MakeSite, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    root = mail_site(make_site, port)
    app = intake_for(root)
    caplog.set_level(logging.INFO, "cssblog")
    reply = send(app)
    assert reply.status == 303
    (path,) = stored(root)
    failure = next(r.getMessage() for r in caplog.records if r.name == "cssblog.notify")
    assert (
        failure
        == f"notify=email outcome=failed post=hello id={path.stem} error=ConnectionRefusedError"
    )


def test_a_login_without_its_password_stops_the_start(make_site: MakeSite) -> None:
    root = mail_site(make_site, 2525, user="blog")
    with pytest.raises(CssblogError, match=PASSWORD_ENV):
        intake_for(root, {})


# -- git ------------------------------------------------------------------------------------


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, text=True, timeout=30
    )
    return done.stdout


def test_each_comment_is_committed_alone_naming_the_post_not_the_reader(
    make_site: MakeSite,
) -> None:
    root = intake_site(make_site, intake="git_commit = true\nflood_seconds = 0\n")
    git(root, "init", "--quiet")
    (root / "notes.txt").write_text("the author's work in progress")
    git(root, "add", "notes.txt")
    app = intake_for(root)
    assert send(app).status == 303
    assert send(app, reader(author="Sam", email="sam@example.net", body="Second.")).status == 303
    log = git(root, "log", "--format=%s|%an <%ae>", "--name-only")
    paths = sorted(p.name for p in stored(root))
    for name in paths:
        assert f"content/comments/hello/{name}" in log
    subjects = [line for line in log.splitlines() if "|" in line]
    assert len(subjects) == 2
    assert all(s.endswith("on hello (pending)|cssblog intake <intake@localhost>") for s in subjects)
    for secret in ("Riley", "riley@", "Sam", "sam@", "angry"):
        assert secret not in log
    assert "notes.txt" not in log  # the author's staged work is not swept in
    assert git(root, "diff", "--cached", "--name-only").strip() == "notes.txt"


def test_git_commit_needs_a_repository(make_site: MakeSite) -> None:
    root = intake_site(make_site, intake="git_commit = true\n")
    with pytest.raises(CssblogError, match="not in a git repository"):
        intake_for(root)


def test_a_failed_commit_never_fails_the_comment(
    make_site: MakeSite, caplog: pytest.LogCaptureFixture
) -> None:
    root = intake_site(make_site, intake="git_commit = true\n")
    git(root, "init", "--quiet")
    (root / ".gitignore").write_text("content/comments/\n")  # git refuses to add the file
    caplog.set_level(logging.INFO, "cssblog")
    assert send(intake_for(root)).status == 303
    assert len(stored(root)) == 1
    assert "notify=git outcome=failed" in caplog.text
    assert "CalledProcessError" in caplog.text
