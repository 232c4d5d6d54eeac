"""Render every HTML page of the site model through the theme → :class:`OutputFile`."""

from __future__ import annotations

import html as html_lib
import re
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import PurePosixPath
from typing import Any

import jinja2

from cssblog import urls
from cssblog.comments.publish import CommentsView
from cssblog.errors import CssblogError
from cssblog.incremental import OutputMemo, SiteRecorder
from cssblog.output import OutputFile
from cssblog.site import Article, PageDoc, Site, Term, YearArchive
from cssblog.theme import template_error


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
class _Job:
    template: str
    url: str
    context: dict[str, Any]


def render_pages(
    site: Site,
    env: jinja2.Environment,
    comments: dict[str, CommentsView] | None = None,
    policy_html: str = "",
    memo: OutputMemo | None = None,
) -> tuple[tuple[OutputFile, ...], tuple[CssblogError, ...]]:
    """Every HTML page of the site, and every template error (with file and line).

    With a ``memo``, pages whose inputs did not change since the last build are not rendered:
    they come back as :class:`OutputFile` without data, meaning "keep the file you have".
    """
    files: list[OutputFile] = []
    errors: list[CssblogError] = []
    jobs = list(_jobs(site, comments or {}))
    if policy_html:
        jobs.append(
            _Job(
                "comment_policy.html",
                urls.COMMENT_POLICY_URL,
                {
                    "page": _meta(site, "policy", "Comment policy", urls.COMMENT_POLICY_URL),
                    "policy_html": policy_html,
                },
            )
        )
    for job in jobs:
        path = urls.page_route(job.url).path
        key = f"{job.template}:{job.url}"
        if memo is not None and memo.unchanged(key, path, job.context):
            files.append(OutputFile(path, None))
            continue
        used: set[str] = set()
        try:
            html = env.get_template(job.template).render(
                site=SiteRecorder(site, used), **job.context
            )
        except jinja2.TemplateError as exc:
            errors.append(_located(exc, job))
            continue
        if memo is not None:
            memo.record(key, job.context, used)
        files.append(OutputFile(path, html.encode("utf-8")))
    return tuple(files), tuple(errors)


def _located(exc: jinja2.TemplateError, job: _Job) -> CssblogError:
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
    error.message += f" (rendering {job.url})"
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


def _jobs(site: Site, comments: dict[str, CommentsView]) -> Iterator[_Job]:
    yield from _listing_jobs(
        site, "home", site.config.site.title, "/", site.posts, None, site.config.site.description
    )
    for post in site.posts:
        yield _post_job(site, post, comments.get(post.url, CommentsView("hidden", 0)))
    for doc in site.pages:
        yield _page_job(site, doc)
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
    yield _Job(
        "404.html",
        "/404.html",
        {"page": _meta(site, "404", "Page not found", "/404.html", noindex=True)},
    )


def _post_job(site: Site, post: Article, comments: CommentsView) -> _Job:
    older, newer = site.neighbours[post.url]
    feeds = tuple(
        FeedLink(f"{c.name} (RSS)", c.feed_url, "application/rss+xml")
        for c in post.categories
        if c.url == (site.customer_service and site.customer_service.url)
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
    return _Job(
        "post.html",
        post.url,
        {
            "page": meta,
            "post": post,
            "older": older,
            "newer": newer,
            "related": site.related[post.url],
            "comments": comments,
        },
    )


def _page_job(site: Site, doc: PageDoc) -> _Job:
    meta = _meta(
        site, "page", doc.title, doc.url, description=_plain(doc.summary_html), noindex=doc.draft
    )
    if doc.canonical_url:
        meta = replace(meta, canonical=doc.canonical_url)
    return _Job("page.html", doc.url, {"page": meta, "doc": doc})


def _listing_jobs(
    site: Site,
    kind: str,
    title: str,
    base_url: str,
    posts: Sequence[Article],
    term: Term | None,
    description_html: str,
) -> Iterator[_Job]:
    size = site.config.site.posts_per_page
    count = max(1, -(-len(posts) // size))
    feeds = (
        (
            FeedLink(f"{term.name} (RSS)", term.feed_url, "application/rss+xml"),
            FeedLink(f"{term.name} (Atom)", term.atom_url, "application/atom+xml"),
        )
        if term is not None and term.feed_url
        else ()
    )
    for number in range(1, count + 1):
        url = urls.listing_url(base_url, number)
        pagination = Pagination(
            number=number,
            count=count,
            prev_url=urls.listing_url(base_url, number - 1) if number > 1 else None,
            next_url=urls.listing_url(base_url, number + 1) if number < count else None,
            base_url=base_url,
        )
        listing = Listing(
            kind=kind,
            title=title,
            description_html=description_html,
            term=term,
            posts=tuple(posts[(number - 1) * size : number * size]),
            pagination=pagination,
        )
        page_title = title if number == 1 else f"{title} (page {number})"
        meta = _meta(
            site,
            kind,
            page_title,
            url,
            feeds=feeds,
            description=_plain(description_html) or site.config.site.description,
        )
        yield _Job("list.html", url, {"page": meta, "listing": listing})


def _archive_jobs(site: Site) -> Iterator[_Job]:
    yield _Job(
        "archive.html",
        urls.ARCHIVE_URL,
        {
            "page": _meta(site, "archive", "Archive", urls.ARCHIVE_URL),
            "archive": ArchiveView("Archive", site.years),
        },
    )
    for year in site.years:
        yield _Job(
            "archive.html",
            year.url,
            {
                "page": _meta(site, "year", f"Posts from {year.year}", year.url),
                "archive": ArchiveView(f"Posts from {year.year}", (year,)),
            },
        )
        for month in year.months:
            title = f"Posts from {month.name} {month.year}"
            only = YearArchive(year.year, year.url, (month,))
            yield _Job(
                "archive.html",
                month.url,
                {
                    "page": _meta(site, "month", title, month.url),
                    "archive": ArchiveView(title, (only,)),
                },
            )


def _plain(html: str, limit: int = 300) -> str:
    text = " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", html)).split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"
