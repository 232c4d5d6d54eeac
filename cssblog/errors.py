"""Errors that name the file and line, and say how to fix the problem."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path


class CssblogError(Exception):
    """A problem in the user's content, configuration or environment.

    ``str()`` renders ``path:line: message`` followed by the hint, the way
    Jinja's ``TemplateSyntaxError`` names the file and line.
    """

    def __init__(
        self,
        message: str,
        *,
        path: Path | str | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = Path(path) if path is not None else None
        self.line = line
        self.hint = hint

    def location(self) -> str:
        """``path:line`` (or just the path, or nothing) for this error."""
        if self.path is None:
            return ""
        return f"{self.path}:{self.line}" if self.line else str(self.path)

    def __str__(self) -> str:
        where = self.location()
        text = f"{where}: {self.message}" if where else self.message
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class ContentErrors(CssblogError):
    """Several problems found at once; raised after all of them were collected."""

    def __init__(self, errors: Iterable[CssblogError]) -> None:
        self.errors = tuple(errors)
        count = len(self.errors)
        super().__init__(f"{count} problem{'s' if count != 1 else ''} found")

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)


class ConfigError(ContentErrors):
    """Problems in ``cssblog.toml``."""


class UnsafeOutputError(CssblogError):
    """The output directory would overwrite or delete something it must not."""


class StorageError(CssblogError):
    """A file could not be written (disk full, read-only, permissions); nothing was left half
    written."""


class BuildLockedError(CssblogError):
    """Another build holds the site's build lock."""


def with_path(error: CssblogError, path: Path) -> CssblogError:
    """Attach ``path`` to an error raised without one."""
    if error.path is None:
        error.path = path
    return error
