"""Render every HTML page of the site model through the theme → :class:`OutputFile`."""

from __future__ import annotations

import html as html_lib
import re
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import Any

import jinja2

from cssblog import urls
from cssblog.comments.publish import CommentsView, CommentView
from cssblog.errors import CssblogError
from cssblog.fragments import Fragments
from cssblog.incremental import OutputMemo, SiteRecorder
from cssblog.output import OutputFile
from cssblog.reads import Watcher
from cssblog.site import Article, Author, NavItem, PageDoc, Site, Term, YearArchive
from cssblog.theme import template_error
from cssblog.workers import forked


@dataclass(frozen=True, slots=True)
class FeedLink:
    """A feed offered with ``<link rel="alternate">``."""

    title: str
    url: str
    type: str


@dataclass(frozen=True, slots=True)
class PageMeta:
    """What ``base.html`` needs about any page: title, canonical URL, feeds, social card."""

    kind: str
    title: str
    url: str
    canonical: str
    description: str = ""
    feeds: tuple[FeedLink, ...] = ()
    og_type: str = "website"
    image: str | None = None
    noindex: bool = False


@dataclass(frozen=True, slots=True)
class PageLink:
    """One numbered link of a pagination bar."""

    number: int
    url: str
    current: bool


@dataclass(frozen=True, slots=True)
class Pagination:
    """Where a listing page sits among its siblings."""

    number: int
    count: int
    prev_url: str | None
    next_url: str | None
    base_url: str

    @property
    def pages(self) -> tuple[PageLink, ...]:
        """Every page of the listing (made on demand: a long listing has hundreds)."""
        return tuple(
            PageLink(n, urls.listing_url(self.base_url, n), n == self.number)
            for n in range(1, self.count + 1)
        )

    @property
    def shown(self) -> tuple[PageLink | None, ...]:
        """The links a short pagination bar shows: the first and the last page and those next
        to this one, with None for each run of pages left out between them."""
        numbers = sorted({1, self.number - 1, self.number, self.number + 1, self.count})
        links: list[PageLink | None] = []
        before = 0
        for n in numbers:
            if not 1 <= n <= self.count:
                continue
            if n > before + 1:
                links.append(None)
            links.append(PageLink(n, urls.listing_url(self.base_url, n), n == self.number))
            before = n
        return tuple(links)


@dataclass(frozen=True, slots=True)
class Listing:
    """One page of posts: the home page, a category, a tag or an author."""

    kind: str
    title: str
    description_html: str
    term: Term | None
    posts: tuple[Article, ...]
    pagination: Pagination


@dataclass(frozen=True, slots=True)
class ArchiveView:
    """The archive index, a year or a month."""

    title: str
    years: tuple[YearArchive, ...]


@dataclass(frozen=True, slots=True)
class PageJob:
    """One page to render: its template and URL, what it is made from, and how.

    The context is ``build(site, *recipe)``, and ``build`` reads nothing of the site but its
    settings (a change of settings starts the build cache afresh): so the recipe stands in for
    the context in the page's fingerprint, and the context is made only for a page rendered.
    """

    template: str
    url: str
    recipe: tuple[Any, ...]
    build: Callable[..., dict[str, Any]]

    @property
    def key(self) -> str:
        """What names the page in the build cache: its template and URL."""
        return f"{self.template}:{self.url}"

    def context(self, site: Site) -> dict[str, Any]:
        """The template variables of this page (besides ``site``)."""
        return self.build(site, *self.recipe)


WATCHED: tuple[type, frozenset[type]] = (
    Article,
    frozenset(
        {Term, Author, PageDoc, NavItem, CommentsView, CommentView, PageMeta, FeedLink, Pagination}
    ),
)
"""The article type whose fields a page reads can be noted (see :mod:`cssblog.reads`), and
the types of context values that hold no article."""


@dataclass(frozen=True, slots=True)
class RenderedPages:
    """What :func:`render_pages` made."""

    files: tuple[OutputFile, ...]
    urls: tuple[str, ...]
    """The URL of every page, rendered or not."""
    errors: tuple[CssblogError, ...]
    """Every template error, with file and line."""
    rendered: int
    """How many pages went through the templates (the rest were unchanged)."""


def render_pages(
    site: Site,
    env: jinja2.Environment,
    comments: dict[str, CommentsView] | None = None,
    policy_html: str = "",
    memo: OutputMemo | None = None,
    workers: int = 1,
    meanwhile: Callable[[], None] | None = None,
    stage: Callable[[PurePosixPath, bytes], bool] | None = None,
) -> RenderedPages:
    """Every HTML page of the site, their URLs, and every template error (with file and line).

    With a ``memo``, pages whose inputs did not change since the last build are not rendered:
    they come back as :class:`OutputFile` without data, meaning "keep the file you have".
    Enough pages to render are shared out between ``workers`` processes (forked: a process
    with other threads must pass 1); ``meanwhile()`` is called once, in this process, while
    they render (see :func:`~cssblog.workers.forked`). With ``stage``, each page is handed to
    ``stage(path, data)`` as soon as it is rendered, in the process that rendered it, and
    comes back without data: staged, or (when ``stage`` returns False) unchanged.
    """
    files: list[OutputFile] = []
    page_urls: list[str] = []
    todo: list[tuple[int, str, PageJob]] = []
    for job in page_jobs(site, comments or {}, policy_html):
        page_urls.append(job.url)
        path = memo.path_of(job.url) if memo is not None else urls.page_route(job.url).path
        key = job.key
        if memo is None or not memo.unchanged(key, path, job.recipe):
            todo.append((len(files), key, job))
        files.append(OutputFile(path, None))
    watcher_for = memo.watcher if memo is not None else lambda: None
    fragments = Fragments(env)  # each forked copy fills its own

    def render(
        keyed: tuple[PurePosixPath, str, PageJob],
    ) -> tuple[bytes | bool, set[str], Watcher | None, bytes | None] | CssblogError:
        path, key, job = keyed
        used: set[str] = set()
        watcher = watcher_for()
        html = render_job(env, site, job, used, watcher, fragments)
        if isinstance(html, CssblogError):
            return html
        # The fingerprint is made here, so that forked copies share that work out too.
        made = memo.fingerprint(key, job.recipe, frozenset(used)) if memo is not None else None
        data = html.encode("utf-8")
        if stage is not None:  # only whether it was written travels back, not the bytes
            try:
                return stage(path, data), used, watcher, made
            except CssblogError as problem:
                return problem
        return data, used, watcher, made

    errors: list[tuple[CssblogError, str]] = []
    failed: set[int] = set()
    done = forked(
        render, [(files[i].path, key, job) for i, key, job in todo], workers, meanwhile=meanwhile
    )
    for (index, key, job), result in zip(todo, done, strict=True):
        if isinstance(result, CssblogError):
            errors.append((result, job.url))
            failed.add(index)
            continue
        data, used, watcher, fingerprint = result
        if memo is not None:
            memo.record(key, job.recipe, used, watcher, fingerprint=fingerprint)
        if isinstance(data, bytes):
            files[index] = OutputFile(files[index].path, data)
        elif data:
            files[index] = OutputFile(files[index].path, None, staged=True)
    made = tuple(f for i, f in enumerate(files) if i not in failed) if failed else tuple(files)
    return RenderedPages(made, tuple(page_urls), _grouped(errors), len(todo) - len(failed))


def _grouped(errors: Sequence[tuple[CssblogError, str]]) -> tuple[CssblogError, ...]:
    """One error for each problem, however many pages it stopped: a mistake in the listing
    template stops every listing page, and is shown once with how many there were."""
    groups: dict[tuple[str, int | None, str, str | None], list[tuple[CssblogError, str]]] = {}
    for error, url in errors:
        groups.setdefault((str(error.path), error.line, error.message, error.hint), []).append(
            (error, url)
        )
    made = []
    for pages in groups.values():
        error, url = pages[0]
        others = len(pages) - 1
        more = f" and {others} other page{'s' * (others > 1)}" if others else ""
        error.message += f" (rendering {url}{more})"
        made.append(error)
    return tuple(made)


def render_job(
    env: jinja2.Environment,
    site: Site,
    job: PageJob,
    used: set[str],
    watcher: Watcher | None = None,
    fragments: Fragments | None = None,
) -> str | CssblogError:
    """The page of ``job``, or its template error; ``used`` gets the names of the parts of
    ``site`` it read, and ``watcher`` (if any) sees which fields of its articles it read.
    ``fragments`` holds the outputs of ``cached()`` macro calls of the build's other pages."""
    try:
        template = env.get_template(job.template)
        context = job.context(site)
        if watcher is not None:
            context = {name: watcher.watched(value) for name, value in context.items()}
        if fragments is not None:
            context["cached"] = fragments
        return template.render(site=SiteRecorder(site, used), **context)
    except jinja2.TemplateError as exc:
        return _located(exc, job)


def _located(exc: jinja2.TemplateError, job: PageJob) -> CssblogError:
    error = template_error(exc)
    if error.path is None:
        frames = [
            f
            for f in traceback.extract_tb(exc.__traceback__)
            if f.filename.endswith((".html", ".xml"))
        ]
        if frames:
            error.path = PurePosixPath(frames[-1].filename)  # type: ignore[assignment]
            error.line = frames[-1].lineno
    return error


def _meta(site: Site, kind: str, title: str, url: str, **extra: Any) -> PageMeta:
    base = site.config.site
    feeds = (
        FeedLink(f"{base.title} (RSS)", "/feed.xml", "application/rss+xml"),
        FeedLink(f"{base.title} (Atom)", "/atom.xml", "application/atom+xml"),
    )
    extra_feeds = extra.pop("feeds", ())
    return PageMeta(
        kind=kind,
        title=title,
        url=url,
        canonical=urls.absolute(base.url, url),
        feeds=(*feeds, *extra_feeds),
        **extra,
    )


def page_jobs(
    site: Site, comments: dict[str, CommentsView], policy_html: str = ""
) -> Iterator[PageJob]:
    """Every HTML page of the site, to render (the policy page only with ``policy_html``)."""
    yield from _listing_jobs(
        site, "home", site.config.site.title, "/", site.posts, None, site.config.site.description
    )
    for post in site.posts:
        yield post_job(site, post, comments.get(post.url, CommentsView("hidden", 0)))
    for doc in site.pages:
        yield PageJob("page.html", doc.url, (doc,), _page_context)
    cs = site.customer_service
    for term in site.categories if cs is None or cs in site.categories else (*site.categories, cs):
        description = site.customer_service_html if cs and term.url == cs.url else ""
        yield from _listing_jobs(
            site, "category", term.name, term.url, site.posts_of(term), term, description
        )
    for term in site.tags:
        yield from _listing_jobs(
            site, "tag", f"Posts tagged “{term.name}”", term.url, site.posts_of(term), term, ""
        )
    for author in site.authors:
        term = Term(author.name, author.slug, author.url, 0, "", "")
        yield from _listing_jobs(
            site,
            "author",
            f"Posts by {author.name}",
            author.url,
            site.posts_by_term[author.url],
            term,
            author.bio_html,
        )
    yield from _archive_jobs(site)
    yield PageJob("404.html", "/404.html", (), _not_found_context)
    if policy_html:
        yield PageJob(
            "comment_policy.html", urls.COMMENT_POLICY_URL, (policy_html,), _policy_context
        )


def _not_found_context(site: Site) -> dict[str, Any]:
    return {"page": _meta(site, "404", "Page not found", "/404.html", noindex=True)}


def _policy_context(site: Site, policy_html: str) -> dict[str, Any]:
    meta = _meta(site, "policy", "Comment policy", urls.COMMENT_POLICY_URL)
    return {"page": meta, "policy_html": policy_html}


def post_job(site: Site, post: Article, comments: CommentsView) -> PageJob:
    """The page of ``post``, one of the posts of ``site``, with its comments section."""
    older, newer = site.neighbours[post.url]
    cs_url = site.customer_service and site.customer_service.url
    recipe = (post, older, newer, site.related[post.url], comments, cs_url)
    return PageJob("post.html", post.url, recipe, _post_context)


def _post_context(
    site: Site,
    post: Article,
    older: Article | None,
    newer: Article | None,
    related: tuple[Article, ...],
    comments: CommentsView,
    cs_url: str | None,
) -> dict[str, Any]:
    feeds = tuple(
        FeedLink(f"{c.name} (RSS)", c.feed_url, "application/rss+xml")
        for c in post.categories
        if c.url == cs_url
    )
    meta = _meta(
        site,
        "post",
        post.title,
        post.url,
        og_type="article",
        feeds=feeds,
        description=_plain(post.summary_html),
        image=urls.absolute(site.config.site.url, post.image) if post.image else None,
        noindex=post.draft,
    )
    if post.canonical_url:
        meta = replace(meta, canonical=post.canonical_url)
    return {
        "page": meta,
        "post": post,
        "older": older,
        "newer": newer,
        "related": related,
        "comments": comments,
    }


def _page_context(site: Site, doc: PageDoc) -> dict[str, Any]:
    meta = _meta(
        site, "page", doc.title, doc.url, description=_plain(doc.summary_html), noindex=doc.draft
    )
    if doc.canonical_url:
        meta = replace(meta, canonical=doc.canonical_url)
    return {"page": meta, "doc": doc}


def _listing_jobs(
    site: Site,
    kind: str,
    title: str,
    base_url: str,
    posts: Sequence[Article],
    term: Term | None,
    description_html: str,
) -> Iterator[PageJob]:
    size = site.config.site.posts_per_page
    count = max(1, -(-len(posts) // size))
    for number in range(1, count + 1):
        shown = tuple(posts[(number - 1) * size : number * size])
        recipe = (kind, title, base_url, number, count, term, description_html, shown)
        yield PageJob("list.html", urls.listing_url(base_url, number), recipe, _listing_context)


def _listing_context(
    site: Site,
    kind: str,
    title: str,
    base_url: str,
    number: int,
    count: int,
    term: Term | None,
    description_html: str,
    posts: tuple[Article, ...],
) -> dict[str, Any]:
    feeds = (
        (
            FeedLink(f"{term.name} (RSS)", term.feed_url, "application/rss+xml"),
            FeedLink(f"{term.name} (Atom)", term.atom_url, "application/atom+xml"),
        )
        if term is not None and term.feed_url
        else ()
    )
    url = urls.listing_url(base_url, number)
    pagination = Pagination(
        number=number,
        count=count,
        prev_url=urls.listing_url(base_url, number - 1) if number > 1 else None,
        next_url=urls.listing_url(base_url, number + 1) if number < count else None,
        base_url=base_url,
    )
    listing = Listing(kind, title, description_html, term, posts, pagination)
    meta = _meta(
        site,
        kind,
        title if number == 1 else f"{title} (page {number})",
        url,
        feeds=feeds,
        description=_plain(description_html) or site.config.site.description,
    )
    return {"page": meta, "listing": listing}


def _archive_jobs(site: Site) -> Iterator[PageJob]:
    def job(kind: str, title: str, url: str, years: tuple[YearArchive, ...]) -> PageJob:
        return PageJob("archive.html", url, (kind, title, url, years), _archive_context)

    yield job("archive", "Archive", urls.ARCHIVE_URL, site.years)
    for year in site.years:
        yield job("year", f"Posts from {year.year}", year.url, (year,))
        for month in year.months:
            only = YearArchive(year.year, year.url, (month,))
            yield job("month", f"Posts from {month.name} {month.year}", month.url, (only,))


def _archive_context(
    site: Site, kind: str, title: str, url: str, years: tuple[YearArchive, ...]
) -> dict[str, Any]:
    return {"page": _meta(site, kind, title, url), "archive": ArchiveView(title, years)}


def _plain(html: str, limit: int = 300) -> str:
    text = " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", html)).split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"
