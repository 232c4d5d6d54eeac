"""Run the programs deployers need; a failure names the command and ends with its error output.

Anything that looks like a password or token in a URL (``https://user:token@host/``) is
replaced by ``***`` before it is shown, in the command as in the program's output.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from cssblog.errors import CssblogError

TAIL_LINES = 20
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/@\s]+)@")


class DeployError(CssblogError):
    """Publishing failed: the destination could not be read or written."""


def redact(text: str) -> str:
    """``text`` with the user information of every URL in it replaced by ``***``."""
    return _USERINFO.sub(lambda m: f"{m.group('scheme')}***@", text)


def command_text(args: Sequence[str]) -> str:
    """A command as a shell would show it, credentials redacted."""
    return redact(shlex.join(args))


def tail(output: str, lines: int = TAIL_LINES) -> str:
    """The last ``lines`` lines of a program's output, indented, credentials redacted."""
    kept = [line.rstrip() for line in output.strip().splitlines()[-lines:]]
    return "\n".join(f"  | {redact(line)}" for line in kept if line)


def run(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
    what: str,
    hint: str | None = None,
) -> str:
    """Run ``args``; its standard output, or a :class:`DeployError` saying ``what`` failed."""
    try:
        done = subprocess.run(
            list(args),
            cwd=cwd,
            env=dict(env) if env is not None else None,
            input=stdin if stdin is not None else b"",
            capture_output=True,
            check=False,
        )
    except FileNotFoundError as exc:
        raise missing_program(args[0]) from exc
    if done.returncode != 0:
        raise failure(what, args, done.returncode, done.stderr or done.stdout, hint)
    return done.stdout.decode("utf-8", "surrogateescape")


def stream(
    args: Sequence[str],
    on_line: Callable[[str], None],
    *,
    what: str,
    hint: str | None = None,
) -> None:
    """Run ``args``, handing each line of its standard output to ``on_line`` as it comes."""
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: no deadlock on long errors
        try:
            proc = subprocess.Popen(
                list(args), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors
            )
        except FileNotFoundError as exc:
            raise missing_program(args[0]) from exc
        assert proc.stdout is not None
        with proc:
            for raw in proc.stdout:
                on_line(raw.decode("utf-8", "surrogateescape").rstrip("\n"))
        errors.seek(0)
        if proc.returncode != 0:
            raise failure(what, args, proc.returncode, errors.read(), hint)


def failure(
    what: str, args: Sequence[str], status: int, output: bytes, hint: str | None
) -> DeployError:
    """The error for a command that exited with ``status``."""
    text = output.decode("utf-8", "replace")
    message = f"{what} failed (exit status {status}): {command_text(args)}"
    if text.strip():
        message += "\n" + tail(text)
    return DeployError(message, hint=hint)


def missing_program(program: str) -> DeployError:
    """The error for a program that is not installed."""
    package = Path(program).name
    return DeployError(
        f"{package} is not installed (or not on PATH)",
        hint=f"install it, e.g. `sudo apt-get install {package}` on Debian and Ubuntu, "
        f"`brew install {package}` on macOS",
    )
