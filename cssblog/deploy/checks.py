"""The publish check: what must never leave the author's machine, looked for in the output.

The build already leaves these out; the check makes sure of it before anything is published
(an output folder built with ``--drafts``, a comment un-approved since the last build, a theme
that prints an address). Errors stop the deploy:

- a draft or future post or page whose page is in the output;
- a comment that is not approved, found on its post's page or in a feed, by its anchor
  (``comment-<id>``) or by a stretch of its text;
- an email address in any text file. Commenters' addresses and ``[[authors]]`` addresses are
  never allowed; any other address is allowed only when the author wrote it into a published
  post or page (a ``mailto:`` contact link, say) or into ``cssblog.toml``'s descriptions,
  bios or comment policy (a fediverse handle). A reader's address in an approved comment's
  text is not allowed.

Warnings do not stop it: a page that was published and is about to vanish, a stale page that
stays published, a link to a post that is not published yet.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from cssblog import urls
from cssblog.comments.model import Comment
from cssblog.config import SiteConfig
from cssblog.content import Page, Post
from cssblog.deploy.plan import Change, LocalTree
from cssblog.errors import CssblogError
from cssblog.gather import Sources, load_sources
from cssblog.site import is_published

EMAIL = re.compile(rb"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.([A-Za-z]{2,24})\b")
_TEXT_EMAIL = re.compile(EMAIL.pattern.decode())
# Names like logo@2x.png look like addresses; a file extension is not a top-level domain.
_FILE_SUFFIXES = frozenset(
    ("png", "jpg", "jpeg", "gif", "webp", "avif", "svg", "ico", "bmp", "tif", "tiff", "css",
     "js", "mjs", "json", "xml", "html", "htm", "txt", "pdf", "mp3", "mp4", "webm", "ogg",
     "woff", "woff2", "ttf", "otf", "eot", "zip", "gz", "map", "md")
)  # fmt: skip
_MARKDOWN_BREAKS = re.compile(r"https?://\S+|[\n*_`\[\]()#>!|~<&\\]+")
_TAG = re.compile(r"<[^>]*>")
_ID_CHAR = re.compile(rb"[A-Za-z0-9_-]")
MIN_PHRASE = 20
MIN_WORDS = 4


@dataclass(frozen=True, slots=True)
class CheckReport:
    """What the publish check found in the files about to be published."""

    errors: tuple[CssblogError, ...]
    warnings: tuple[CssblogError, ...]
    files: int
    """Files looked at."""
    held_back_posts: int
    """Drafts and future posts and pages (none of them found in the output)."""
    held_back_comments: int
    """Comments that are not approved (none of them found in the output)."""

    @property
    def passed(self) -> bool:
        """Nothing that must not be published was found."""
        return not self.errors


@dataclass(slots=True)
class _Found:
    """Where an address turned up: its first place and how many files hold it."""

    path: PurePosixPath
    line: int
    kind: str
    files: set[PurePosixPath] = field(default_factory=set)


def check_publish(
    config: SiteConfig,
    tree: LocalTree,
    *,
    now: datetime,
    vanished: Sequence[Change] = (),
    stale: Sequence[Change] = (),
) -> CheckReport:
    """Check the files of ``tree`` before they are published; ``vanished`` are files the
    deploy removes from the destination, ``stale`` files it leaves there."""
    sources = load_sources(config)
    unpublished: list[Post | Page] = [p for p in sources.posts if not is_published(p, now)]
    unpublished += [p for p in sources.pages if p.draft]
    hidden = [c for c in sources.comments if c.status != "approved"]
    paths = {f.path for f in tree.files}
    errors = list(_unpublished_pages(config, unpublished, paths))
    warnings: list[CssblogError] = []
    scan = _Scan(config, sources, unpublished, now)
    for f in tree.files:
        data = tree.read(f.path)
        if b"\x00" in data[:8192]:
            continue
        scan.emails(f.path, data)
        scan.links(f.path, data)
    errors.extend(scan.email_errors(tree))
    warnings.extend(scan.link_warnings())
    errors.extend(_unapproved(config, sources, hidden, tree, paths))
    warnings.extend(_vanishing(vanished, stale))
    return CheckReport(
        errors=tuple(errors),
        warnings=tuple(warnings),
        files=len(tree.files),
        held_back_posts=len(unpublished),
        held_back_comments=len(hidden),
    )


def _route(config: SiteConfig, item: Post | Page) -> urls.Route:
    if isinstance(item, Post):
        return urls.post_route(config.site.permalink, item.date, item.slug)
    return urls.page_route(f"/{item.slug}/")


def _unpublished_pages(
    config: SiteConfig, items: Sequence[Post | Page], paths: set[PurePosixPath]
) -> Iterator[CssblogError]:
    for item in items:
        route = _route(config, item)
        if route.path in paths:
            what = "draft" if item.draft else "future post (not due yet)"
            yield CssblogError(
                f"{what} would be published at {route.url}",
                path=item.source,
                hint="deploy builds without drafts: leave out --no-build, or run "
                "`cssblog build` without --drafts",
            )


class _Scan:
    """One pass over the output's text: addresses, and links to unpublished pages."""

    def __init__(
        self,
        config: SiteConfig,
        sources: Sources,
        unpublished: Sequence[Post | Page],
        now: datetime,
    ) -> None:
        self.forbidden = {a: "an [[authors]] address" for a in config.author_emails()}
        for comment in sources.comments:
            if comment.email.strip():
                self.forbidden[comment.email.strip().casefold()] = "a commenter's address"
        published: list[Post | Page] = [p for p in sources.posts if is_published(p, now)]
        published += [p for p in sources.pages if not p.draft]
        written = [item.body for item in published] + [
            config.site.description,
            config.customer_service.description,
            config.comments.policy,
            *(a.bio for a in config.authors),
        ]
        self.allowed = {
            m.group(0).casefold() for text in written for m in _TEXT_EMAIL.finditer(text)
        }
        self.found: dict[str, _Found] = {}
        self.linked: dict[int, list[PurePosixPath]] = {}
        base = config.site.url.rstrip("/")
        self.needles = [
            (item, (base + route.url).encode(), f'"{route.url}"'.encode())
            for item in unpublished
            for route in [_route(config, item)]
        ]

    def emails(self, path: PurePosixPath, data: bytes) -> None:
        """Note every address in ``data`` that may not be published (also written as
        character references, ``jane&#64;example.org``)."""
        if b"@" in data:
            for match in EMAIL.finditer(data):
                line = data.count(b"\n", 0, match.start()) + 1
                self._note(match.group(0).decode("ascii"), match.group(1).decode(), path, line)
        if b"&#" in data or b"&commat;" in data:
            text = html.unescape(data.decode("utf-8", "replace"))
            for found in _TEXT_EMAIL.finditer(text):
                line = text.count("\n", 0, found.start()) + 1
                self._note(found.group(0), found.group(1), path, line)

    def _note(self, address: str, suffix: str, path: PurePosixPath, line: int) -> None:
        key = address.casefold()
        kind = self.forbidden.get(key)
        if kind is None and (key in self.allowed or suffix.lower() in _FILE_SUFFIXES):
            return
        if key not in self.found:
            self.found[key] = _Found(path, line, kind or "an address the site's posts do not give")
        self.found[key].files.add(path)

    def email_errors(self, tree: LocalTree) -> Iterator[CssblogError]:
        """One error per address found, naming its first place and how many files hold it."""
        for address, found in self.found.items():
            others = len(found.files) - 1
            more = f" (and {others} more file{'s' if others != 1 else ''})" if others else ""
            yield CssblogError(
                f"email address {address} would be published: {found.kind}{more}",
                path=tree.root / found.path,
                line=found.line,
                hint="addresses are published only when a post or page gives them; "
                "commenters' and [[authors]] addresses never",
            )

    def links(self, path: PurePosixPath, data: bytes) -> None:
        """Note the links in ``data`` to pages that are not published."""
        for index, (_item, absolute, quoted) in enumerate(self.needles):
            if absolute in data or quoted in data:
                self.linked.setdefault(index, []).append(path)

    def link_warnings(self) -> Iterator[CssblogError]:
        """One warning per unpublished page that published files link to."""
        for index, paths in self.linked.items():
            item = self.needles[index][0]
            more = f" (and {len(paths) - 1} more)" if len(paths) > 1 else ""
            yield CssblogError(
                f"{item.title!r} is not published, but {paths[0]}{more} links to it",
                path=item.source,
                hint="the link leads nowhere until it is published",
            )


def _unapproved(
    config: SiteConfig,
    sources: Sources,
    hidden: Sequence[Comment],
    tree: LocalTree,
    paths: set[PurePosixPath],
) -> Iterator[CssblogError]:
    """Comments that are not approved, found on their post's page or in a feed."""
    if not hidden:
        return
    posts = {p.slug: p for p in sources.posts}
    feeds = [p for p in sorted(paths) if p.suffix == ".xml"]
    texts = _Texts(tree)
    approved = " ".join(
        " ".join(c.body.split()) for c in sources.comments if c.status == "approved"
    )
    for comment in hidden:
        post = posts.get(comment.post_slug)
        if post is None:
            continue
        route = urls.post_route(config.site.permalink, post.date, post.slug)
        anchor = f'id="comment-{comment.id}"'.encode()
        link = f"{route.url}#comment-{comment.id}".encode()
        phrase = _phrase(comment.body)
        if phrase in approved or phrase in " ".join(post.body.split()):
            phrase = ""  # a duplicate of an approved comment, or a quote from the post
        page = [route.path] if route.path in paths else []
        for path in [*page, *(f for f in feeds if route.url.encode() in texts.data(f))]:
            data = texts.data(path)
            by_anchor = anchor in data if path in page else _has_id(data, link)
            if by_anchor or (phrase and phrase in texts.plain(path)):
                yield CssblogError(
                    f"comment {comment.key} is {comment.status} but would be published in {path}",
                    path=_shown(comment.path, config.root),
                    hint="build again (leave out --no-build); only approved comments are published",
                )
                break


def _shown(path: Path, root: Path) -> Path:
    """``path`` relative to the site folder where it is inside it."""
    return path.relative_to(root) if path.is_relative_to(root) else path


class _Texts:
    """Files of the output read once, and their plain text made once."""

    def __init__(self, tree: LocalTree) -> None:
        self.tree = tree
        self._data: dict[PurePosixPath, bytes] = {}
        self._plain: dict[PurePosixPath, str] = {}

    def data(self, path: PurePosixPath) -> bytes:
        if path not in self._data:
            self._data[path] = self.tree.read(path)
        return self._data[path]

    def plain(self, path: PurePosixPath) -> str:
        if path not in self._plain:
            self._plain[path] = _plain_text(self.data(path).decode("utf-8", "replace"))
        return self._plain[path]


def _has_id(data: bytes, needle: bytes) -> bool:
    """``needle`` occurs in ``data`` not followed by another id character."""
    start = data.find(needle)
    while start != -1:
        end = start + len(needle)
        if end >= len(data) or not _ID_CHAR.match(data, end):
            return True
        start = data.find(needle, start + 1)
    return False


def _plain_text(markup: str) -> str:
    """The text of HTML or XML, with escaped HTML inside it (feeds) unescaped too."""
    for _ in range(2):
        markup = html.unescape(_TAG.sub(" ", markup))
    return " ".join(markup.split())


def _phrase(body: str) -> str:
    """The longest stretch of a comment's Markdown that reads the same once rendered."""
    runs = (" ".join(run.split()) for run in _MARKDOWN_BREAKS.split(body))
    best = max(runs, key=len, default="")
    return best if len(best) >= MIN_PHRASE and len(best.split()) >= MIN_WORDS else ""


def _vanishing(vanished: Sequence[Change], stale: Sequence[Change]) -> Iterator[CssblogError]:
    for change in vanished:
        if change.path.suffix == ".html":
            yield CssblogError(f"{_url(change.path)} was published and will be removed")
    for change in stale:
        if change.path.suffix == ".html":
            yield CssblogError(
                f"{_url(change.path)} is no longer part of the site but stays published",
                hint="--delete removes it",
            )


def _url(path: PurePosixPath) -> str:
    if path.name == "index.html":
        parent = str(path.parent)
        return "/" if parent == "." else f"/{parent}/"
    return f"/{path}"
