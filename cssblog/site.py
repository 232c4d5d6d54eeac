"""The site model: published posts, pages, categories, tags, authors and archives."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from cssblog import urls
from cssblog.config import SiteConfig
from cssblog.content import CommentMode, Page, Post
from cssblog.pickling import CachedValue

if TYPE_CHECKING:
    from cssblog.markup import RenderedMarkdown

_T = TypeVar("_T")
RELATED_COUNT = 3
_RELATED_WINDOW = 25
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


@dataclass(frozen=True, slots=True)
class Term(CachedValue):
    """A category, tag or author page: a name with its URL and feeds."""

    name: str
    slug: str
    url: str
    count: int
    feed_url: str
    atom_url: str


@dataclass(frozen=True, slots=True)
class Author(CachedValue):
    """A person who writes posts."""

    name: str
    slug: str
    url: str
    bio_html: str
    website: str


@dataclass(frozen=True, slots=True)
class Article(CachedValue):
    """A post as the theme sees it."""

    title: str
    slug: str
    url: str
    abs_url: str
    date: datetime
    updated: datetime | None
    html: str
    summary_html: str
    toc_html: str
    reading_minutes: int
    categories: tuple[Term, ...]
    tags: tuple[Term, ...]
    author: Author
    is_customer_service: bool
    canonical_url: str | None
    image: str | None
    image_alt: str | None
    comments: CommentMode
    draft: bool
    source: Path


@dataclass(frozen=True, slots=True)
class PageDoc:
    """A standalone page as the theme sees it."""

    title: str
    slug: str
    url: str
    abs_url: str
    html: str
    summary_html: str
    canonical_url: str | None
    image: str | None
    image_alt: str | None
    draft: bool
    source: Path


@dataclass(frozen=True, slots=True)
class MonthArchive:
    """The posts of one month."""

    year: int
    month: int
    name: str
    url: str
    posts: tuple[Article, ...]


@dataclass(frozen=True, slots=True)
class YearArchive:
    """The posts of one year, by month (newest first)."""

    year: int
    url: str
    months: tuple[MonthArchive, ...]

    @property
    def count(self) -> int:
        """Posts in the year."""
        return sum(len(m.posts) for m in self.months)


@dataclass(frozen=True, slots=True)
class NavItem:
    """A link in the site's main navigation."""

    title: str
    url: str
    featured: bool = False


@dataclass(frozen=True, slots=True)
class Site:
    """Everything the theme can show, built fresh on every build."""

    config: SiteConfig
    posts: tuple[Article, ...]
    pages: tuple[PageDoc, ...]
    categories: tuple[Term, ...]
    tags: tuple[Term, ...]
    authors: tuple[Author, ...]
    customer_service: Term | None
    customer_service_html: str
    years: tuple[YearArchive, ...]
    nav: tuple[NavItem, ...]
    posts_by_term: Mapping[str, tuple[Article, ...]]
    neighbours: Mapping[str, tuple[Article | None, Article | None]]
    related: Mapping[str, tuple[Article, ...]]
    drafts_included: bool
    first_year: int | None
    """Year of the oldest post (for a copyright line without depending on every post)."""
    last_year: int | None
    """Year of the newest post."""

    def posts_of(self, term: Term) -> tuple[Article, ...]:
        """Posts of a category, tag or author, newest first."""
        return self.posts_by_term[term.url]


def is_published(post: Post, now: datetime) -> bool:
    """Neither a draft nor dated in the future."""
    return not post.draft and post.date <= now


def build_model(
    config: SiteConfig,
    posts: Sequence[Post],
    pages: Sequence[Page],
    rendered: Mapping[Path, RenderedMarkdown],
    *,
    now: datetime,
    drafts: bool,
    markdown_inline: Callable[[str], str],
    memo: MutableMapping[tuple[Any, ...], Any] | None = None,
    article_memo: MutableMapping[Any, Any] | None = None,
    interned: MutableMapping[Any, Any] | None = None,
    related: RelatedPlan | None = None,
) -> Site:
    """Assemble the site model from checked sources and their rendered bodies.

    ``memo`` (the build cache) keeps the related-posts choice, which depends only on every
    post's URL, date, tags and categories. ``article_memo`` (the build cache too) keeps the last
    build's :class:`Article` of each post, reused while the post and its body are the same
    objects (as the cache gives them back) and its terms, author and settings the same values:
    so the digests of unchanged posts, kept with them, need not be taken again. ``interned``
    (the build cache too) keeps the last build's terms and authors, reused where equal, so
    the articles that hold them and the pages that show them hold the very same objects.
    ``related`` is the related-posts choice made ahead by :func:`plan_related`, used when it
    was made for these very posts.
    """
    same = _Interned(interned)
    visible = _newest_first(p for p in posts if drafts or is_published(p, now))
    categories = _terms((c for p in visible for c in p.categories), urls.category_url, same)
    tags = _terms((t for p in visible for t in p.tags), urls.tag_url, same)
    authors = {n: same(a) for n, a in _authors(config, visible, markdown_inline).items()}
    cs_name = config.customer_service.category
    made = _ArticleMemo(article_memo, config)
    articles = tuple(
        made(
            p,
            rendered[p.source],
            tuple(categories[c] for c in p.categories),
            tuple(tags[t] for t in p.tags),
            authors[p.author],
            not is_published(p, now),
        )
        for p in visible
    )
    made.finish()
    posts_by_term = _posts_by_term(articles)
    page_docs = tuple(
        sorted(
            (_page(p, rendered[p.source], config.site.url) for p in pages if drafts or not p.draft),
            key=lambda d: (d.title, d.slug),
        )
    )
    cs_term = categories.get(cs_name) or same(_term(cs_name, urls.category_url, 0))
    same.finish()
    posts_by_term.setdefault(cs_term.url, ())
    return Site(
        config=config,
        posts=articles,
        pages=page_docs,
        categories=tuple(sorted(categories.values(), key=lambda t: t.name.casefold())),
        tags=tuple(sorted(tags.values(), key=lambda t: t.name.casefold())),
        authors=tuple(a for a in authors.values() if a.url in posts_by_term),
        customer_service=cs_term,
        customer_service_html=markdown_inline(config.customer_service.description),
        years=_archives(articles),
        nav=_nav(cs_term, page_docs),
        posts_by_term=posts_by_term,
        neighbours=_neighbours(articles),
        related=_related_cached(articles, memo, related),
        drafts_included=drafts,
        first_year=articles[-1].date.year if articles else None,
        last_year=articles[0].date.year if articles else None,
    )


def _terms(
    names: Iterable[str], url_of: Callable[[str], str], same: Callable[[Term], Term]
) -> dict[str, Term]:
    """Each name's term, with how many posts use it."""
    counts = Counter(names)
    return {name: same(_term(name, url_of, counts[name])) for name in counts}


class _Interned:
    """Give back the last build's value equal to a new one (frozen values of plain fields)."""

    def __init__(self, memo: MutableMapping[Any, Any] | None) -> None:
        self._memo = memo
        self._used: dict[Any, Any] = {}

    def __call__(self, value: _T) -> _T:
        if self._memo is None:
            return value
        found: _T = self._used.get(value) or self._memo.get(value, value)
        self._used[found] = found
        return found

    def finish(self) -> None:
        """Forget the values this build did not use."""
        if self._memo is not None:
            self._memo.clear()
            self._memo.update(self._used)


def _posts_by_term(articles: Sequence[Article]) -> dict[str, tuple[Article, ...]]:
    """Posts of each category, tag and author page, newest first."""
    by_term: dict[str, list[Article]] = defaultdict(list)
    for article in articles:
        for term in (*article.categories, *article.tags):
            by_term[term.url].append(article)
        by_term[article.author.url].append(article)
    return {url: tuple(items) for url, items in by_term.items()}


def _term(name: str, url_of: Callable[[str], str], count: int) -> Term:
    slug = urls.slugify(name) or "untitled"
    url = url_of(slug)
    rss, atom = urls.feed_urls(url)
    return Term(name=name, slug=slug, url=url, count=count, feed_url=rss, atom_url=atom)


def _authors(
    config: SiteConfig, posts: Sequence[Post], markdown_inline: Callable[[str], str]
) -> dict[str, Author]:
    names = dict.fromkeys([a.name for a in config.authors] + [p.author for p in posts])
    result = {}
    for name in names:
        entry = config.author_named(name)
        slug = urls.slugify(name) or "author"
        result[name] = Author(
            name=name or config.site.title,
            slug=slug,
            url=urls.author_url(slug),
            bio_html=markdown_inline(entry.bio) if entry and entry.bio else "",
            website=entry.url if entry else "",
        )
    return result


class _ArticleMemo:
    """Make articles, reusing the last build's where nothing they are made from changed."""

    def __init__(self, memo: MutableMapping[str, Any] | None, config: SiteConfig) -> None:
        self._memo = memo
        self._config = config
        self._shape = (
            config.site.url,
            config.site.permalink,
            config.customer_service.category,
        )
        self._used: dict[str, Any] = {}

    def __call__(
        self,
        post: Post,
        body: RenderedMarkdown,
        categories: tuple[Term, ...],
        tags: tuple[Term, ...],
        author: Author,
        draft: bool,
    ) -> Article:
        if self._memo is None:
            return make_article(post, body, self._config, categories, tags, author, draft=draft)
        key = str(post.source)
        inputs = (self._shape, categories, tags, author, draft)
        found = self._memo.get(key)
        if found is None or found[0] is not post or found[1] is not body or found[2] != inputs:
            made = make_article(post, body, self._config, categories, tags, author, draft=draft)
            found = (post, body, inputs, made)
        self._used[key] = found
        article: Article = found[3]
        return article

    def finish(self) -> None:
        """Forget the articles this build did not use."""
        if self._memo is not None:
            self._memo.clear()
            self._memo.update(self._used)


def make_article(
    post: Post,
    body: RenderedMarkdown,
    config: SiteConfig,
    categories: tuple[Term, ...],
    tags: tuple[Term, ...],
    author: Author,
    *,
    draft: bool,
) -> Article:
    """The post as the theme sees it, with its converted body, terms and author."""
    base = config.site.url
    is_cs = config.customer_service.category in post.categories
    url = urls.post_route(config.site.permalink, post.date, post.slug).url
    return Article(
        title=post.title,
        slug=post.slug,
        url=url,
        abs_url=urls.absolute(base, url),
        date=post.date,
        updated=post.updated,
        html=body.html,
        summary_html=body.summary_html,
        toc_html=body.toc_html,
        reading_minutes=body.reading_minutes,
        categories=categories,
        tags=tags,
        author=author,
        is_customer_service=is_cs,
        canonical_url=post.canonical_url,
        image=post.image,
        image_alt=post.image_alt,
        comments=post.comments,
        draft=draft,
        source=post.source,
    )


def _page(page: Page, body: RenderedMarkdown, base: str) -> PageDoc:
    url = f"/{page.slug}/"
    return PageDoc(
        title=page.title,
        slug=page.slug,
        url=url,
        abs_url=urls.absolute(base, url),
        html=body.html,
        summary_html=body.summary_html,
        canonical_url=page.canonical_url,
        image=page.image,
        image_alt=page.image_alt,
        draft=page.draft,
        source=page.source,
    )


def _archives(articles: Sequence[Article]) -> tuple[YearArchive, ...]:
    months: dict[tuple[int, int], list[Article]] = defaultdict(list)
    for article in articles:
        months[(article.date.year, article.date.month)].append(article)
    years: dict[int, list[MonthArchive]] = defaultdict(list)
    for (year, month), items in sorted(months.items(), reverse=True):
        years[year].append(
            MonthArchive(
                year=year,
                month=month,
                name=MONTH_NAMES[month - 1],
                url=urls.month_url(year, month),
                posts=tuple(items),
            )
        )
    return tuple(
        YearArchive(year=y, url=urls.year_url(y), months=tuple(m)) for y, m in years.items()
    )


def _nav(cs_term: Term, pages: Sequence[PageDoc]) -> tuple[NavItem, ...]:
    return (
        NavItem("Home", "/"),
        NavItem(cs_term.name, cs_term.url, featured=True),
        NavItem("Archive", urls.ARCHIVE_URL),
        *(NavItem(p.title, p.url) for p in pages),
    )


def _neighbours(articles: Sequence[Article]) -> dict[str, tuple[Article | None, Article | None]]:
    """For each post: (the older post, the newer post)."""
    result = {}
    for index, article in enumerate(articles):
        older = articles[index + 1] if index + 1 < len(articles) else None
        newer = articles[index - 1] if index > 0 else None
        result[article.url] = (older, newer)
    return result


@dataclass(frozen=True, slots=True)
class RelatedPlan:
    """The related posts of every post, chosen from the posts alone (see :func:`plan_related`)."""

    key: bytes
    """The digest of what the choice depends on (see :func:`_shape_key`)."""
    picks: tuple[tuple[int, ...], ...]
    """For each post, newest first, the places of its related posts in that order."""


_Shape = tuple[str, datetime, tuple[str, ...], tuple[str, ...]]
"""What the related-posts choice reads of a post: its URL, date, tags' and categories' URLs."""


def plan_related(config: SiteConfig, posts: Sequence[Post]) -> RelatedPlan:
    """The choice :func:`build_model` makes for ``posts`` (the published ones, or all with
    drafts), made from them alone: a build makes it while the bodies convert, so that the
    model, which waits for them, need not."""
    newest = _newest_first(posts)  # the model's order: the places picked are in it
    permalink = config.site.permalink
    term_urls: dict[tuple[Callable[[str], str], str], str] = {}

    def url_of(name: str, kind: Callable[[str], str]) -> str:
        found = term_urls.get((kind, name))
        if found is None:
            found = term_urls[(kind, name)] = _term(name, kind, 0).url
        return found

    shape = [
        (
            urls.post_route(permalink, p.date, p.slug).url,
            p.date,
            tuple(url_of(t, urls.tag_url) for t in p.tags),
            tuple(url_of(c, urls.category_url) for c in p.categories),
        )
        for p in newest
    ]
    return RelatedPlan(_shape_key(shape), tuple(_related(shape)))


def _newest_first(posts: Iterable[Post]) -> list[Post]:
    """The order of the site's posts (by date, then slug, newest first)."""
    return sorted(posts, key=lambda p: (p.date, p.slug), reverse=True)


def _shape_key(shape: Sequence[_Shape]) -> bytes:
    # repr, not pickle: pickle's bytes depend on which equal strings are the same object, and
    # articles reused from the cache hold other term objects than the articles made anew.
    return hashlib.blake2b(repr(tuple(shape)).encode(), digest_size=16).digest()


def _related_cached(
    articles: Sequence[Article],
    memo: MutableMapping[tuple[Any, ...], Any] | None,
    plan: RelatedPlan | None,
) -> dict[str, tuple[Article, ...]]:
    shape = [
        (a.url, a.date, tuple(t.url for t in a.tags), tuple(c.url for c in a.categories))
        for a in articles
    ]
    key = _shape_key(shape) if memo is not None or plan is not None else b""
    urls_of = memo.get(("related", key)) if memo is not None else None
    if urls_of is not None:
        by_url = {a.url: a for a in articles}
        return {url: tuple(by_url[u] for u in items) for url, items in urls_of.items()}
    picks = plan.picks if plan is not None and plan.key == key else _related(shape)
    related = {
        article.url: tuple(articles[at] for at in chosen)
        for article, chosen in zip(articles, picks, strict=True)
    }
    if memo is not None:
        memo[("related", key)] = {
            url: tuple(a.url for a in items) for url, items in related.items()
        }
    return related


def _related(shape: Sequence[_Shape]) -> list[tuple[int, ...]]:
    """For each post (``shape``, newest first), the places of up to three posts sharing the
    most tags (weight 2) and categories (weight 1) with it.

    Only posts near in time within each shared term are scored, so the cost stays linear in the
    number of posts however large a category grows.
    """
    url_at = [url for url, *_ in shape]
    # Each term's posts as places in ``shape``, and where each post stands in them.
    members: dict[str, list[int]] = defaultdict(list)
    for at, (_, _, tags, categories) in enumerate(shape):
        for url in (*categories, *tags):
            members[url].append(at)
    index_in: dict[tuple[str, int], int] = {}
    for url, items in members.items():
        for i, at in enumerate(items):
            index_in[(url, at)] = i
    result: list[tuple[int, ...]] = []
    for here, (_, _, tags, categories) in enumerate(shape):
        scores: dict[int, int] = {}
        for terms, weight in ((tags, 2), (categories, 1)):
            for term in terms:
                items = members[term]
                i = index_in[(term, here)]
                for other in items[max(0, i - _RELATED_WINDOW) : i + _RELATED_WINDOW + 1]:
                    scores[other] = scores.get(other, 0) + weight
        scores.pop(here, None)
        if not scores:
            result.append(())
            continue
        # The best three have a score no lower than the third best score: rank only those.
        floor = sorted(scores.values(), reverse=True)[:RELATED_COUNT][-1]
        best = [(-n, abs(at - here), url_at[at], at) for at, n in scores.items() if n >= floor]
        result.append(tuple(at for *_, at in sorted(best)[:RELATED_COUNT]))
    return result
