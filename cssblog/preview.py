"""Keep a preview build of the site warm: rebuild only what changed, remember the last good one.

The preview is built into ``.cssblog-cache/preview/`` with drafts and scheduled posts included
and the comment form pointed at the preview server, so ``output/`` only ever holds what is
published. Between rebuilds the cache stays in memory and only the files the watcher reported
are read again; a failed rebuild leaves the last good preview in place and is described as
:class:`Problem` values for the browser's error overlay.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from cssblog import collector
from cssblog.build import CACHE_DIR, COMPILED_TEMPLATES, build_lock
from cssblog.cache import (
    CacheData,
    cache_file,
    cache_key,
    carry_over,
    detached,
    load_cache,
    save_cache,
)
from cssblog.config import SiteConfig, load_config
from cssblog.errors import BuildLockedError, ContentErrors, CssblogError
from cssblog.sources import SourceFile, read_sources, refresh_sources
from cssblog.writer import WriteReport, check_output_dir, write_outputs

if TYPE_CHECKING:
    from cssblog.fast_render import EditedPage

INTAKE_PATH = "/_cssblog/comment"
PREVIEW_DIR = "preview"
EXCERPT_LINES = 3
LOCK_WAIT = 10.0

__all__ = ["INTAKE_PATH", "Outcome", "Preview", "Problem", "url_of"]


@dataclass(frozen=True, slots=True)
class Problem:
    """One error of a failed rebuild, as the error overlay shows it."""

    message: str
    location: str
    """``path:line`` relative to the site folder, or empty."""
    hint: str
    line: int | None
    excerpt: tuple[tuple[int, str], ...]
    """Numbered lines of the file around ``line``."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one rebuild did."""

    generation: int
    """Counts rebuilds, failed ones included; the browser compares it with its page's."""
    changed: frozenset[str]
    """URLs of the files written or removed (``/`` for ``index.html``)."""
    problems: tuple[Problem, ...]
    warnings: tuple[str, ...]
    seconds: float
    pages: int = 0

    @property
    def ok(self) -> bool:
        """The rebuild succeeded."""
        return not self.problems


class Preview:
    """The preview build of one site, rebuilt on demand and kept warm between rebuilds."""

    def __init__(self, root: Path, *, drafts: bool = True, workers: int | None = None) -> None:
        self.root = root.resolve()
        self.output = self.root / CACHE_DIR / PREVIEW_DIR
        self.drafts = drafts
        self.workers = workers
        self.generation = 0
        self.last: Outcome | None = None
        self.post_urls: dict[str, str] = {}
        """Slug → URL of every post in the last good build (for the comment intake)."""
        self._cache: CacheData | None = None
        self._saved: CacheData | None = None
        self._read: tuple[tuple[SourceFile, ...], tuple[CssblogError, ...]] = ((), ())
        """What the last good rebuild read, and the problems it found reading."""
        self._since_good: set[str] | None = set()
        """Files changed since the last good rebuild (None: unknown, read them all)."""
        self._warm: Any = None
        self._put_back: set[str] = set()
        """URLs of pages written ahead of a rebuild that failed and put back since: the
        browser showed the early page, so the next good rebuild tells it to reload."""

    @property
    def content_dir(self) -> Path:
        """The site's ``content/`` folder."""
        return self.root / "content"

    def knows(self, location: str) -> bool:
        """``location`` is a source, or could become one: a Markdown file or a static file."""
        return location.endswith(".md") or location.startswith(f"{self.content_dir}/static/")

    def rebuild(
        self,
        now: datetime,
        changed: Collection[str] | None = None,
        early: Callable[[Outcome], None] | None = None,
    ) -> Outcome:
        """Rebuild the preview; ``changed`` names the files that changed (None: any may have).

        When the change is the body of one post, its page is written first and ``early`` is
        called with that outcome, a generation before the rebuild's (see
        :mod:`cssblog.fast_render`). Never raises for problems in the site: they are returned
        as the outcome's problems.
        """
        started = time.perf_counter()
        self.generation += 1
        if changed is not None and self._since_good is not None:
            changed = self._since_good.union(changed)  # a failed rebuild's files too
        # A warm rebuild makes little garbage: collecting it waits until the rebuild is done.
        quiet = collector.paused() if changed is not None else collector.eased()
        try:
            with quiet:
                outcome = self._rebuild(now, changed, started, early)
        except CssblogError as exc:
            errors = exc.errors if isinstance(exc, ContentErrors) else (exc,)
            outcome = self._failed(tuple(self._problem(e) for e in errors), started)
        except Exception as exc:  # a bug must not stop the preview server
            outcome = self._failed((self._crash(exc),), started)
        self._since_good = set() if outcome.ok else None if changed is None else set(changed)
        if not outcome.ok and self._warm is not None:
            self._warm.last = None  # its pages are not all on disk
        self.last = outcome
        return outcome

    def close(self) -> None:
        """Keep the warm cache on disk so the next ``serve`` starts fast."""
        if self._cache is not None and self._cache is not self._saved:
            save_cache(self._store(), self._cache)
            self._saved = self._cache

    def _rebuild(
        self,
        now: datetime,
        changed: Collection[str] | None,
        started: float,
        early: Callable[[Outcome], None] | None,
    ) -> Outcome:
        config = self._config()
        output = check_output_dir(self.output, self.root)
        with _lock(self.root):
            before = self._read[0]
            read = self._read_sources(changed)
            ahead = None
            if early is not None and changed is not None:
                ahead = self._ahead(config, before, read, changed, now, started, early)
            try:
                result, report, cache = self._render(config, now, read, output)
            except BaseException:
                if ahead is not None:  # the last good preview, whole again
                    page, undo = ahead
                    undo()
                    self._forget(page.key)
                    self._put_back.add(url_of(page.path))
                raise
        self._read = read
        cache.manifest = frozenset(str(f.path) for f in result.files)
        self._cache = detached(cache)
        if self._saved is None:
            self.close()  # the first build of a session: a restarted server starts warm
        self.post_urls = {p.slug: p.url for p in result.site.posts}
        outcome = Outcome(
            generation=self.generation,
            changed=frozenset(url_of(p) for p in (*report.written, *report.removed))
            | self._put_back,
            problems=(),
            warnings=tuple(str(w) for w in result.warnings),
            seconds=time.perf_counter() - started,
            pages=sum(1 for f in result.files if str(f.path).endswith(".html")),
        )
        self._put_back = set()
        return outcome

    def _forget(self, key: str) -> None:
        """Have the next rebuild render the page ``key`` names again and compare it with its
        file, which is still the page written ahead if putting the last good one back failed."""
        cache = self._cache
        if cache is None:
            return
        cache.pages.pop(key, None)
        if cache.recipes is not None:
            cache.recipes.recipes.pop(key, None)
        self._saved = None  # the cache on disk still holds the page: save this one

    def _render(
        self,
        config: SiteConfig,
        now: datetime,
        read: tuple[tuple[SourceFile, ...], tuple[CssblogError, ...]],
        output: Path,
    ) -> tuple[Any, WriteReport, CacheData]:
        """Render the site from ``read`` and write what changed: the rendered site, the
        writer's report, and the cache to keep."""
        key = cache_key(config, self.drafts)
        previous = self._cache if self._cache and self._cache.key == key else None
        if previous is None:
            previous = load_cache(self._store(), key)
        cache = carry_over(previous)
        from cssblog.pipeline import Warm, render_site  # the heavy libraries, only now

        self._warm = self._warm or Warm()
        result = render_site(
            config, now=now, drafts=self.drafts, cache=cache, output=output,
            workers=self.workers, read=read, warm=self._warm,
            compiled=self.root / CACHE_DIR / COMPILED_TEMPLATES,
        )  # fmt: skip
        return result, write_outputs(output, result.files, previous.manifest), cache

    def _ahead(
        self,
        config: SiteConfig,
        before: tuple[SourceFile, ...],
        read: tuple[tuple[SourceFile, ...], tuple[CssblogError, ...]],
        changed: Collection[str],
        now: datetime,
        started: float,
        early: Callable[[Outcome], None],
    ) -> tuple[EditedPage, Callable[[], None]] | None:
        """Write and announce the page of the changed post before the rebuild, when one source
        alone changed (the other paths, an editor's temporary files below ``content/``, were
        never sources) and only its body changed since the last good rebuild. The page, and
        what puts the last good page back should the rebuild fail."""
        warm, last = self._warm, self.last
        if warm is None or warm.last is None or warm.environment is None or read[1]:
            return None
        inside = f"{self.content_dir}/"
        if last is None or not last.ok or not all(c.startswith(inside) for c in changed):
            return None  # a theme or the settings changed too: only the rebuild can tell
        found = _sources_at(read[0], changed)
        if len(found) != 1 or any(
            s.location != found[0].location for s in _sources_at(before, changed)
        ):
            return None
        source = found[0]
        from cssblog.fast_render import put_back, render_edited, write_edited

        page = render_edited(
            warm.last, config, source, now=now, env=warm.environment[1], renderer=warm.renderer()
        )
        replaced = write_edited(self.output, page) if page is not None else None
        if page is None or replaced is None:
            return None

        def undo() -> None:
            put_back(self.output, page.path, replaced)

        try:
            early(
                Outcome(
                    generation=self.generation,
                    changed=frozenset({url_of(page.path)}),
                    problems=(),
                    warnings=last.warnings,
                    seconds=time.perf_counter() - started,
                    pages=last.pages,
                )
            )
        except BaseException:
            undo()
            raise
        self.generation += 1
        return page, undo

    def _config(self) -> SiteConfig:
        """The site's configuration, with the comment form posting to the preview server."""
        config = load_config(self.root)
        return replace(config, comments=replace(config.comments, intake_url=INTAKE_PATH))

    def _store(self) -> Path:
        return cache_file(self.root / CACHE_DIR, self.output)

    def _read_sources(
        self, changed: Collection[str] | None
    ) -> tuple[tuple[SourceFile, ...], tuple[CssblogError, ...]]:
        """The sources now: the last good rebuild's, with the changed files read again."""
        before, problems = self._read
        if changed is None:
            return read_sources(self.content_dir)
        if before and not problems:
            fresh = refresh_sources(self.content_dir, before, changed)
            if fresh is not None:
                return fresh, ()
        folders = tuple(c.rstrip("/") + "/" for c in changed)
        unchanged = {
            source.location: source
            for source in before
            if source.location not in changed and not source.location.startswith(folders)
        }
        return read_sources(self.content_dir, unchanged)

    def _failed(self, problems: tuple[Problem, ...], started: float) -> Outcome:
        return Outcome(
            generation=self.generation,
            changed=frozenset(),
            problems=problems,
            warnings=(),
            seconds=time.perf_counter() - started,
        )

    def _problem(self, error: CssblogError) -> Problem:
        path = error.path
        shown = ""
        if path is not None:
            absolute = path if path.is_absolute() else self.root / path
            inside = absolute.is_relative_to(self.root)
            shown = str(absolute.relative_to(self.root) if inside else path)
        return Problem(
            message=error.message,
            location=f"{shown}:{error.line}" if shown and error.line else shown,
            hint=error.hint or "",
            line=error.line,
            excerpt=_excerpt(self.root / path, error.line) if path and error.line else (),
        )

    def _crash(self, exc: Exception) -> Problem:
        frames = traceback.extract_tb(exc.__traceback__)
        where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else ""
        return Problem(
            message=f"internal error: {type(exc).__name__}: {exc}",
            location=where,
            hint="please report this with the file that triggers it",
            line=None,
            excerpt=(),
        )


def _sources_at(sources: Sequence[SourceFile], paths: Collection[str]) -> list[SourceFile]:
    """The sources at ``paths`` or below them."""
    exact = set(paths)
    below = tuple(p.rstrip("/") + "/" for p in paths)
    return [s for s in sources if s.location in exact or s.location.startswith(below)]


def url_of(path: PurePosixPath) -> str:
    """The URL an output file is served at: ``a/index.html`` → ``/a/``."""
    text = str(path)
    if text == "index.html":
        return "/"
    if text.endswith("/index.html"):
        return "/" + text.removesuffix("index.html")
    return "/" + text


def _excerpt(path: Path, line: int) -> tuple[tuple[int, str], ...]:
    try:
        with path.open("rb") as handle:
            text = handle.read(1 << 20).decode("utf-8", "replace")
    except OSError:
        return ()
    lines = text.splitlines()
    first = max(1, line - EXCERPT_LINES)
    last = min(len(lines), line + EXCERPT_LINES)
    return tuple((n, lines[n - 1][:300]) for n in range(first, last + 1))


@contextmanager
def _lock(root: Path, wait: float = LOCK_WAIT) -> Iterator[None]:
    """The site's build lock, waiting a while for a ``cssblog build`` to finish."""
    deadline = time.monotonic() + wait
    with ExitStack() as stack:
        while True:
            try:
                stack.enter_context(build_lock(root))
                break
            except BuildLockedError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield
