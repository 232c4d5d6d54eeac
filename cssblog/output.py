"""One file of the built site, as the stages hand it to the writer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath


@dataclass(frozen=True, slots=True)
class OutputFile:
    """One file of the built site."""

    path: PurePosixPath
    data: bytes | None
    """The bytes, or ``None``: unchanged since the last build, keep the existing file (or,
    when :attr:`staged`, written to the build's staging folder already)."""
    staged: bool = False
