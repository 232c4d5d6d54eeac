"""The one place where URLs and output paths are decided."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from urllib.parse import urlsplit

_SLUG_STRIP = re.compile(r"[^a-z0-9]+")
_TRANSLITERATE = str.maketrans(
    {"ß": "ss", "æ": "ae", "ø": "o", "đ": "d", "ł": "l", "þ": "th", "œ": "oe", "&": " and "}
)
MAX_SLUG = 80


@dataclass(frozen=True, slots=True)
class Route:
    """Where one page lives: its site-relative URL and its file under ``output/``."""

    url: str

    @property
    def path(self) -> PurePosixPath:
        """The file under ``output/``: ``index.html`` in the URL's folder."""
        relative = self.url.lstrip("/")
        return PurePosixPath(relative + "index.html" if self.url.endswith("/") else relative)


def slugify(text: str) -> str:
    """Lower-case ASCII words joined by hyphens (``"Café Ops!"`` → ``"cafe-ops"``)."""
    text = unicodedata.normalize("NFKD", text).lower().translate(_TRANSLITERATE)
    text = unicodedata.normalize("NFKD", text)
    ascii_text = text.encode("ascii", "ignore").decode("ascii")
    return _SLUG_STRIP.sub("-", ascii_text).strip("-")[:MAX_SLUG].rstrip("-")


def is_valid_slug(slug: str) -> bool:
    """A slug is lower-case ASCII letters and digits in hyphen-separated words."""
    return bool(re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", slug)) and len(slug) <= MAX_SLUG


def page_route(url: str) -> Route:
    """The route of a page at ``url`` (a folder URL gets ``index.html``)."""
    if not url.startswith("/") or "//" in url or "\\" in url or "\x00" in url:
        raise ValueError(f"unsafe URL {url!r}")
    if any(part in (".", "..") for part in url.split("/")):
        raise ValueError(f"unsafe URL {url!r}")
    return Route(url=url)


def post_route(permalink: str, date: datetime, slug: str) -> Route:
    """The route of a post from the site's permalink pattern."""
    url = permalink.format(
        year=f"{date.year:04d}", month=f"{date.month:02d}", day=f"{date.day:02d}", slug=slug
    )
    return page_route(url)


def listing_url(base: str, number: int) -> str:
    """The URL of page ``number`` of a paginated listing at ``base``."""
    return base if number == 1 else f"{base}page/{number}/"


def category_url(slug: str) -> str:
    """URL of a category page."""
    return f"/category/{slug}/"


def tag_url(slug: str) -> str:
    """URL of a tag page."""
    return f"/tag/{slug}/"


def author_url(slug: str) -> str:
    """URL of an author page."""
    return f"/author/{slug}/"


def year_url(year: int) -> str:
    """URL of a year archive."""
    return f"/{year:04d}/"


def month_url(year: int, month: int) -> str:
    """URL of a month archive."""
    return f"/{year:04d}/{month:02d}/"


def feed_urls(base: str) -> tuple[str, str]:
    """RSS and Atom feed URLs for a listing at ``base``."""
    return f"{base}feed.xml", f"{base}atom.xml"


ARCHIVE_URL = "/archive/"
COMMENT_POLICY_URL = "/comment-policy/"
COMMENTS_FEED_URL = "/comments/feed.xml"


def absolute(site_url: str, url: str) -> str:
    """``url`` made absolute against the site's base URL."""
    return site_url.rstrip("/") + url if url.startswith("/") else url


def origin(url: str) -> str | None:
    """The origin of an http(s) URL as browsers send it in ``Origin``: ``https://host[:port]``.

    Lower-case, without a default port, without user info; ``None`` for anything else.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname
    if scheme not in ("http", "https") or not host or "@" in parts.netloc:
        return None
    if any(c in host for c in "\\/ ") or not host.isascii():
        return None
    shown = f"[{host}]" if ":" in host else host
    default = 443 if scheme == "https" else 80
    return f"{scheme}://{shown}" + (f":{port}" if port is not None and port != default else "")
