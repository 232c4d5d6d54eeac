"""Run the stages in order: config → sources → Markdown → model → comments → render → write."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cssblog import collector
from cssblog.cache import cache_file, cache_key, carry_over, load_cache, save_cache
from cssblog.config import SiteConfig, load_config
from cssblog.errors import BuildLockedError, CssblogError
from cssblog.sources import SourceFile, read_sources
from cssblog.state import (
    BuildState,
    forget_state,
    inputs_digest,
    load_state,
    save_state,
    state_file,
)
from cssblog.theme import find_theme
from cssblog.workers import worker_count
from cssblog.writer import JOURNAL, MARKER, check_output_dir, open_staging, write_outputs

if TYPE_CHECKING:
    from cssblog.comments.model import Comment

CACHE_DIR = ".cssblog-cache"
COMPILED_TEMPLATES = "templates"
Progress = Callable[[int, int], None]

__all__ = ["BuildReport", "build_lock", "build_site"]


@dataclass(frozen=True, slots=True)
class BuildReport:
    """What a build did."""

    output: Path
    posts: int
    pages: int
    written: int
    unchanged: int
    removed: int
    warnings: tuple[CssblogError, ...]
    seconds: float
    pending_comments: int = 0
    unanswered_comments: int = 0
    rendered: int = 0
    """HTML pages rendered (the rest were unchanged since the last build)."""


def build_site(
    root: Path,
    *,
    now: datetime,
    output: Path | None = None,
    drafts: bool = False,
    progress: Progress | None = None,
    workers: int | None = None,
) -> BuildReport:
    """Build the site at ``root`` into ``output`` (default ``root/output``).

    Raises :class:`ContentErrors` listing every problem; ``output`` is then left untouched.
    """
    started = time.perf_counter()
    config = load_config(root)
    target = check_output_dir(output or root / "output", root)
    with build_lock(root), collector.eased():
        read = read_sources(root / "content")
        key = cache_key(config, drafts)
        inputs = inputs_digest(key, read[0], find_theme(root, config.site.theme))
        state_path = state_file(root / CACHE_DIR, target)
        state = load_state(state_path)
        if state is not None and _output_whole(target) and state.still_current(inputs, now):
            return _nothing_to_do(state, target, started)
        forget_state(state_path)
        handed = [read]
        del read  # the build lets go of the files' bytes once they are parsed
        built, next_moment = _full_build(
            config, target, key, handed, now=now, drafts=drafts, progress=progress,
            workers=workers, started=started,
        )  # fmt: skip
        save_state(state_path, BuildState(
            inputs=inputs, next_change=next_moment, posts=built.posts, pages=built.pages,
            files=built.unchanged + built.written, warnings=built.warnings,
            pending_comments=built.pending_comments, unanswered_comments=built.unanswered_comments,
        ))  # fmt: skip
    return built


def _full_build(
    config: SiteConfig,
    target: Path,
    key: str,
    handed: list[tuple[tuple[SourceFile, ...], tuple[CssblogError, ...]]],
    *,
    now: datetime,
    drafts: bool,
    progress: Progress | None,
    workers: int | None,
    started: float,
) -> tuple[BuildReport, datetime | None]:
    """Render what changed and write it; the report, and when time next changes the site.

    ``handed`` holds the sources as read; it is emptied, so that their bytes can be freed once
    they are parsed.
    """
    from cssblog.pipeline import inbox_counts, render_site  # the heavy libraries, only now

    store = cache_file(config.root / CACHE_DIR, target)
    previous = load_cache(store, key)
    cache = carry_over(previous)
    workers = worker_count() if workers is None else workers
    staging = open_staging(target, previous.manifest)
    counted: list[dict[str, int]] = []

    def count_inbox(comments: tuple[Comment, ...]) -> None:  # while the pages render
        counted.append(inbox_counts(config, comments, now, cache.duplicate_groups))

    try:
        result = render_site(
            config, now=now, drafts=drafts, progress=progress, cache=cache, output=target,
            workers=workers, read=handed.pop(), staging=staging,
            compiled=config.root / CACHE_DIR / COMPILED_TEMPLATES, while_rendering=count_inbox,
        )  # fmt: skip
    except BaseException:
        staging.discard()
        raise
    report = write_outputs(target, result.files, workers=workers, staging=staging)
    cache.manifest = frozenset(str(f.path) for f in result.files)
    (counts,) = counted  # counted once by every render (see workers.forked)
    save_cache(store, cache, previous, workers=workers)
    built = BuildReport(
        output=target,
        posts=len(result.site.posts),
        pages=sum(1 for f in result.files if str(f.path).endswith(".html")),
        written=len(report.written),
        unchanged=report.unchanged,
        removed=len(report.removed),
        warnings=result.warnings,
        seconds=time.perf_counter() - started,
        rendered=result.rendered,
        **counts,
    )
    return built, result.next_change


def _output_whole(output: Path) -> bool:
    """The output folder is there, made by cssblog, with no unfinished journal."""
    return (output / MARKER).is_file() and not (output / JOURNAL).exists()


def _nothing_to_do(state: BuildState, output: Path, started: float) -> BuildReport:
    return BuildReport(
        output=output, posts=state.posts, pages=state.pages, written=0, unchanged=state.files,
        removed=0, warnings=state.warnings, seconds=time.perf_counter() - started,
        pending_comments=state.pending_comments, unanswered_comments=state.unanswered_comments,
    )  # fmt: skip


@contextmanager
def build_lock(root: Path) -> Iterator[None]:
    """Hold the site's build lock; fail at once if another build holds it."""
    cache = root / CACHE_DIR
    cache.mkdir(exist_ok=True)
    with (cache / "build.lock").open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise BuildLockedError(
                f"another build is running (pid {holder})", hint="wait for it to finish"
            ) from None
        handle.truncate(0)
        handle.write(str(os.getpid()))
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
