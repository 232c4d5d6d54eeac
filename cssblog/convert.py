"""Convert every post and page body: from the cache when still valid, else across all cores.

A cached body is reused when its text, its place in the file and its source path are the same,
and every link it has to another source file still resolves to the same URL (checked only when
the map of sources to URLs changed since the last build). Bodies that must be
converted are split into chunks for worker processes when there are enough of them to pay for
the processes; each worker makes its own converter, so the output is byte-for-byte the same as a
serial conversion.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from cssblog.markup import MarkdownRenderer, RenderedMarkdown, resolve_source_link
from cssblog.workers import fork_worth_it, forked, in_chunks, worth_it

Progress = Callable[[int, int], None]


def source_name(source: Path) -> str:
    """A source as links between sources name it: relative to ``content/`` (``posts/x.md``)."""
    return source.as_posix().removeprefix("content/")


@dataclass(frozen=True, slots=True)
class Body:
    """One body to convert, named by its source file."""

    source: Path
    relative: PurePosixPath
    text: str
    line: int

    @property
    def key(self) -> tuple[str, int, str]:
        """What the conversion depends on, besides links."""
        return (str(self.relative), self.line, _digest(self.text))


def convert_bodies(
    bodies: Sequence[Body],
    links: Mapping[str, str],
    *,
    cache: MutableMapping[tuple[Any, ...], Any] | None = None,
    workers: int = 1,
    progress: Progress | None = None,
    keys: Sequence[tuple[Any, ...]] | None = None,
    renderer: MarkdownRenderer | None = None,
    fork: bool = False,
    meanwhile: Callable[[], None] | None = None,
) -> dict[Path, RenderedMarkdown]:
    """Every body converted to HTML, keyed by its source.

    ``keys`` are the bodies' :attr:`Body.key`, when the caller knows them already;
    ``renderer`` converts the bodies done in this process (a new one without it). With
    ``fork`` (only from a process with no other threads) many bodies are shared with forked
    copies of this process, which hold them already; else with a pool of workers.
    ``meanwhile()`` is called in this process while forked copies convert, and only then
    (see :func:`~cssblog.workers.forked`).
    """
    done: dict[Path, RenderedMarkdown] = {}
    todo: list[tuple[Body, tuple[Any, ...]]] = []
    # Every body in the cache was checked against the last build's links: while they are the
    # same, the links of each still hold.
    same_links = ("links", _digest(repr(sorted(links.items()))))
    trusted = cache is not None and cache.get(same_links) is not None
    for body, key in zip(bodies, keys or [b.key for b in bodies], strict=True):
        cached = cache.get(key) if cache is not None else None
        if cached is not None and (trusted or _links_hold(cached, body, links)):
            done[body.source] = cached
        else:
            todo.append((body, key))
    if progress is not None and done:
        progress(len(done), len(bodies))
    converted = _convert(
        [b for b, _ in todo], links, workers, len(done), len(bodies), progress, renderer, fork,
        meanwhile,
    )  # fmt: skip
    for (body, key), rendered in zip(todo, converted, strict=True):
        done[body.source] = rendered
        if cache is not None:
            cache[key] = rendered
    if cache is not None:
        cache[same_links] = True
    return done


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def _links_hold(cached: RenderedMarkdown, body: Body, links: Mapping[str, str]) -> bool:
    folder = str(body.relative.parent) if str(body.relative.parent) != "." else ""
    return all(
        resolve_source_link(value, folder, links) == url for value, url in cached.link_lookups
    )


def _convert(
    todo: Sequence[Body],
    links: Mapping[str, str],
    workers: int,
    offset: int,
    total: int,
    progress: Progress | None,
    renderer: MarkdownRenderer | None,
    fork: bool,
    meanwhile: Callable[[], None] | None = None,
) -> list[RenderedMarkdown]:
    if fork and fork_worth_it(todo, workers):
        mine = renderer or MarkdownRenderer()
        counted = offset

        def tick(more: int) -> None:
            nonlocal counted
            counted += more
            if progress is not None:
                progress(counted, total)

        return forked(lambda body: _one(mine, body, links), todo, workers, tick, meanwhile)
    if not worth_it(todo, workers):
        renderer = renderer or MarkdownRenderer()
        results = []
        for index, body in enumerate(todo, start=1):
            results.append(_one(renderer, body, links))
            if progress is not None:
                progress(offset + index, total)
        return results
    results = []
    for chunk in in_chunks(_convert_chunk, todo, dict(links), workers=workers):
        results.extend(chunk)
        if progress is not None:
            progress(offset + len(results), total)
    return results


def _convert_chunk(chunk: Sequence[Body], links: Mapping[str, str]) -> list[RenderedMarkdown]:
    renderer = MarkdownRenderer()
    return [_one(renderer, body, links) for body in chunk]


def _one(renderer: MarkdownRenderer, body: Body, links: Mapping[str, str]) -> RenderedMarkdown:
    return renderer.render(body.text, source=body.relative, body_line=body.line, links=links)
