"""Read and validate ``cssblog.toml`` into one frozen :class:`SiteConfig`."""

from __future__ import annotations

import difflib
import ipaddress
import re
import tomllib
import typing
from dataclasses import MISSING, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cssblog.deploy.targets import TARGET_TYPES, DeployTarget, target_problems
from cssblog.errors import ConfigError, CssblogError
from cssblog.urls import origin

CONFIG_NAME = "cssblog.toml"
PERMALINK_FIELDS = ("year", "month", "day", "slug")


def _doc(text: str, default: Any = MISSING) -> Any:
    """A dataclass field whose docstring lives in its metadata (for the reference)."""
    if default is MISSING:
        return field(metadata={"doc": text})
    return field(default=default, metadata={"doc": text})


@dataclass(frozen=True, slots=True)
class SiteSection:
    """``[site]``: the blog as a whole."""

    url: str = _doc("Absolute base URL, used for feeds, the sitemap and canonical links.")
    title: str = _doc("The blog's name, shown in the header and feeds.", "My Blog")
    description: str = _doc("One sentence about the blog, for feeds and search engines.", "")
    author: str = _doc("Default author of posts without an `author` key.", "")
    language: str = _doc("Language code of the content (`<html lang>`, feeds).", "en")
    timezone: str = _doc("IANA time zone for dates written without an offset.", "UTC")
    theme: str = _doc("Theme: the site's `themes/<name>/`, then the bundled theme.", "default")
    permalink: str = _doc(
        "Post URL pattern; fields {year} {month} {day} {slug}.", "/{year}/{month}/{slug}/"
    )
    posts_per_page: int = _doc("Posts per page on the home, category, tag and author pages.", 10)
    feed_entries: int = _doc("How many of the newest posts each feed carries.", 20)


@dataclass(frozen=True, slots=True)
class CustomerServiceSection:
    """``[customer_service]``: the featured category."""

    category: str = _doc("Name of the featured category.", "Customer Service")
    description: str = _doc("Shown on the category's landing page (Markdown).", "")


@dataclass(frozen=True, slots=True)
class AuthorSection:
    """``[[authors]]``: one person who writes on the blog."""

    name: str = _doc("Name as written in posts' `author` key.")
    email: str = _doc("Used to recognise the author's comment replies; never published.", "")
    bio: str = _doc("Short biography shown under the author's posts (Markdown).", "")
    url: str = _doc("The author's own website.", "")


@dataclass(frozen=True, slots=True)
class CommentsSection:
    """``[comments]``: how readers' comments are taken, moderated and shown."""

    enabled: bool = _doc("Show comments and the comment form at all.", True)
    policy: str = _doc("Comment policy shown with the form and on /comment-policy/.", "")
    moderation: Literal["all", "first-time", "none"] = _doc(
        "Which comments wait for approval: all, first-time commenters, or none.", "first-time"
    )
    require_name: bool = _doc(
        "Reject comments without a name (at the intake, also without an email address).", True
    )
    blocked_names: tuple[str, ...] = _doc("Names that are rejected.", ("anonymous",))
    blocked_words: tuple[str, ...] = _doc("Words that hold a comment, beside the bundled list.", ())
    max_links: int = _doc("More links than this hold a comment for moderation.", 2)
    max_depth: int = _doc("Deepest reply nesting shown; deeper replies attach at the cap.", 4)
    close_after_days: int = _doc("Close comments this many days after a post (0: never).", 0)
    reply_within_hours: int = _doc("Service level for answering readers' comments.", 48)
    duplicate_threshold: float = _doc("Similarity at which two comments count as one.", 0.9)
    intake_url: str = _doc(
        "Where the comment form posts in production, e.g. `https://blog.example.org/comments` "
        "(empty: no form). See docs/intake.md.",
        "",
    )


@dataclass(frozen=True, slots=True)
class IntakeSection:
    """``[intake]``: the service that takes readers' comments on the live site."""

    allowed_origins: tuple[str, ...] = _doc(
        "Origins (`https://host[:port]`) whose pages may post comments; "
        "empty: the origin of `[site] url`.",
        (),
    )
    trusted_proxies: tuple[str, ...] = _doc(
        "Addresses or networks (CIDR) of reverse proxies whose `X-Forwarded-For` is believed.",
        ("127.0.0.1", "::1"),
    )
    rate_per_minute: int = _doc(
        "Requests one client address may make per minute (0: no limit).", 10
    )
    flood_seconds: int = _doc(
        "Shortest time between two comments from one address or one email (0: no check).", 15
    )
    max_queued: int = _doc(
        "Comments awaiting moderation (pending or spam) at which new ones are refused (0: no cap).",
        1000,
    )
    queue_dir: str = _doc(
        "Folder inside the site the intake writes comments to, as `<post-slug>/<id>.md`.",
        "content/comments",
    )
    git_commit: bool = _doc("Commit each new comment to the site's git repository.", False)
    notify_email: str = _doc("Email each new comment to this moderator (empty: no email).", "")
    smtp_from: str = _doc("Sender of those emails (empty: `notify_email`).", "")
    smtp_host: str = _doc("SMTP server for those emails.", "localhost")
    smtp_port: int = _doc("SMTP port.", 25)
    smtp_starttls: bool = _doc("Switch the SMTP connection to TLS with STARTTLS.", False)
    smtp_user: str = _doc("SMTP user name (empty: no login).", "")
    smtp_password_env: str = _doc(
        "Environment variable holding the SMTP password (never in this file).",
        "CSSBLOG_SMTP_PASSWORD",
    )

    def origins(self, site_url: str) -> frozenset[str]:
        """The origins whose pages may post: ``allowed_origins``, else the site's own."""
        chosen = self.allowed_origins or (site_url,)
        return frozenset(o for o in map(origin, chosen) if o)


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """The whole validated configuration of one site."""

    root: Path
    site: SiteSection
    customer_service: CustomerServiceSection
    authors: tuple[AuthorSection, ...]
    comments: CommentsSection
    deploy: tuple[DeployTarget, ...] = ()
    """The ``[deploy.NAME]`` targets, in the order the file names them."""
    intake: IntakeSection = field(default_factory=IntakeSection)

    @property
    def tz(self) -> ZoneInfo:
        """The site's time zone."""
        return ZoneInfo(self.site.timezone)

    def author_emails(self) -> frozenset[str]:
        """Emails of the site's authors, case-folded (to recognise their comments)."""
        return frozenset(a.email.strip().casefold() for a in self.authors if a.email.strip())

    def author_named(self, name: str) -> AuthorSection | None:
        """The ``[[authors]]`` entry called ``name``, if any."""
        return next((a for a in self.authors if a.name == name), None)


_SECTIONS: dict[str, type] = {
    "site": SiteSection,
    "customer_service": CustomerServiceSection,
    "comments": CommentsSection,
    "intake": IntakeSection,
}


def load_config(root: Path) -> SiteConfig:
    """Read ``root/cssblog.toml``; raise :class:`ConfigError` listing every problem."""
    path = root / CONFIG_NAME
    if not path.is_file():
        raise CssblogError(
            f"no {CONFIG_NAME} here",
            path=path,
            hint="run `cssblog init DIR` to make a new site, or pass --site DIR",
        )
    data_bytes = path.read_bytes()
    try:
        text = data_bytes.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CssblogError(
            "file is not UTF-8",
            path=path,
            line=data_bytes[: exc.start].count(b"\n") + 1,
            hint="re-save cssblog.toml with UTF-8 encoding",
        ) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"at line (\d+)", str(exc))
        raise ConfigError(
            [
                CssblogError(
                    f"invalid TOML: {exc}",
                    path=path,
                    line=int(match.group(1)) if match else None,
                    hint="check quotes, brackets and `key = value` syntax",
                )
            ]
        ) from exc
    return _Validator(path, text).config(root, data)


class _Validator:
    """Turns parsed TOML into dataclasses, collecting every error with its line."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.lines = text.splitlines()
        self.errors: list[CssblogError] = []
        self.occurrence = 0  # which [[table]] of an array is being checked

    def config(self, root: Path, data: dict[str, Any]) -> SiteConfig:
        known = [*_SECTIONS, "authors", "deploy"]
        for key in data:
            if key not in known:
                self._unknown(key, known, None)
        site = self._section("site", SiteSection, data.get("site", {}))
        cs = self._section(
            "customer_service", CustomerServiceSection, data.get("customer_service", {})
        )
        comments = self._section("comments", CommentsSection, data.get("comments", {}))
        intake = self._section("intake", IntakeSection, data.get("intake", {}))
        raw_authors = data.get("authors", [])
        if not isinstance(raw_authors, list):
            self._error("`authors` must be a list of [[authors]] tables", "authors", None)
            raw_authors = []
        authors = []
        for index, raw_author in enumerate(raw_authors):
            self.occurrence = index
            authors.append(self._section("authors", AuthorSection, raw_author))
        self.occurrence = 0
        deploy = self._deploy(data.get("deploy", {}))
        self._check_site(site)
        self._check_intake(intake, root)
        if comments is not None and not 0 < comments.duplicate_threshold <= 1:
            self._error(
                "duplicate_threshold must be above 0 and at most 1",
                "duplicate_threshold",
                "comments",
            )
        if self.errors:
            raise ConfigError(self.errors)
        assert site is not None and cs is not None and comments is not None and intake is not None
        return SiteConfig(
            root=root,
            site=site,
            customer_service=cs,
            authors=tuple(a for a in authors if a is not None),
            comments=comments,
            deploy=deploy,
            intake=intake,
        )

    def _deploy(self, raw: object) -> tuple[DeployTarget, ...]:
        """``[deploy.NAME]`` tables, each checked against the fields of its ``type``."""
        if not isinstance(raw, dict) or not all(isinstance(t, dict) for t in raw.values()):
            self._error(
                "`deploy` must hold one table per target",
                "deploy",
                None,
                hint='for example [deploy.production] with type = "git"',
            )
            return ()
        targets = []
        for name, table in raw.items():
            section = f"deploy.{name}"
            kind = table.get("type")
            cls = TARGET_TYPES.get(kind) if isinstance(kind, str) else None
            if cls is None:
                self._bad_type(kind, section)
                continue
            settings = {key: value for key, value in table.items() if key != "type"}
            target = self._section(section, cls, settings, fixed={"name": name})
            if target is None:
                continue
            problems = list(target_problems(target))
            for problem in problems:
                self._error(
                    f"[{section}] {problem.message}", problem.key, section, hint=problem.hint
                )
            if not problems:
                targets.append(target)
        return tuple(targets)

    def _bad_type(self, kind: object, section: str) -> None:
        types = list(TARGET_TYPES)
        known = ", ".join(f'"{t}"' for t in types)
        if kind is None:
            self._error(f"[{section}] needs `type`", None, section, hint=f"one of {known}")
            return
        close = difflib.get_close_matches(str(kind), types, n=1)
        self._error(
            f"[{section}] unknown type {kind!r}",
            "type",
            section,
            hint=f'did you mean "{close[0]}"?' if close else f"one of {known}",
        )

    def _section(
        self, name: str, cls: type[Any], raw: object, fixed: dict[str, Any] | None = None
    ) -> Any:
        if not isinstance(raw, dict):
            self._error(f"[{name}] must be a table", name, None)
            return None
        hints = typing.get_type_hints(cls)
        values: dict[str, Any] = dict(fixed or {})
        names = [f.name for f in fields(cls) if f.name not in values]
        for key, value in raw.items():
            if key not in names:
                self._unknown(key, names, name)
                continue
            coerced = self._coerce(value, hints[key], key, name)
            if coerced is not None:
                values[key] = coerced
        for f in fields(cls):
            if f.name in (fixed or {}):
                continue
            if f.default is MISSING and f.name not in values and f.name in raw:
                return None  # its own error was reported
            if f.default is MISSING and f.name not in raw:
                self._error(
                    f"[{name}] needs `{f.name}`",
                    None,
                    name,
                    hint=f"add `{f.name} = ...`: {f.metadata['doc']}",
                )
                return None
        return cls(**values)

    def _coerce(self, value: object, hint: Any, key: str, section: str) -> Any:
        origin = typing.get_origin(hint)
        if origin is Literal:
            allowed = typing.get_args(hint)
            if value in allowed:
                return value
            return self._type_error(key, section, " or ".join(f'"{a}"' for a in allowed), value)
        if origin is tuple:
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return tuple(value)
            return self._type_error(key, section, "a list of strings", value)
        if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if hint is int and isinstance(value, int) and not isinstance(value, bool):
            if value < 0:
                return self._type_error(key, section, "a number of 0 or more", value)
            return value
        if isinstance(value, hint) and not (hint is int and isinstance(value, bool)):
            return value
        return self._type_error(key, section, hint.__name__, value)

    def _type_error(self, key: str, section: str, expected: str, value: object) -> None:
        self._error(f"[{section}] {key} must be {expected}, not {value!r}", key, section)

    def _check_site(self, site: SiteSection | None) -> None:
        if site is None:
            return
        parts = urlsplit(site.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            self._error(
                f"[site] url must be an absolute http(s) URL, not {site.url!r}",
                "url",
                "site",
                hint='for example url = "https://blog.example.org"',
            )
        try:
            ZoneInfo(site.timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            self._error(
                f"unknown time zone {site.timezone!r}",
                "timezone",
                "site",
                hint='use an IANA name such as "UTC" or "Europe/Paris"',
            )
        used = set(re.findall(r"{(\w+)}", site.permalink))
        if (
            not site.permalink.startswith("/")
            or not site.permalink.endswith("/")
            or "slug" not in used
            or not used <= set(PERMALINK_FIELDS)
            or not _routable(site.permalink)
        ):
            self._error(
                f"invalid permalink {site.permalink!r}",
                "permalink",
                "site",
                hint="start and end with /, contain {slug}, use only "
                + ", ".join("{" + f + "}" for f in PERMALINK_FIELDS),
            )
        if site.posts_per_page < 1 or site.feed_entries < 1:
            self._error(
                "posts_per_page and feed_entries must be at least 1", "posts_per_page", "site"
            )

    def _check_intake(self, intake: IntakeSection | None, root: Path) -> None:
        if intake is None:
            return
        for value in intake.allowed_origins:
            parts = urlsplit(value) if origin(value) else None
            if parts is None or parts.path not in ("", "/") or parts.query or parts.fragment:
                self._error(
                    f"[intake] allowed_origins: {value!r} is not an origin",
                    "allowed_origins",
                    "intake",
                    hint='give the scheme and host only, e.g. "https://blog.example.org"',
                )
        for value in intake.trusted_proxies:
            try:
                ipaddress.ip_network(value, strict=False)
            except ValueError:
                self._error(
                    f"[intake] trusted_proxies: {value!r} is not an address or network",
                    "trusted_proxies",
                    "intake",
                    hint='for example "127.0.0.1", "::1" or "10.0.0.0/8"',
                )
        self._check_queue(intake.queue_dir, root)
        self._check_mail(intake)

    def _check_queue(self, queue_dir: str, root: Path) -> None:
        queue = PurePosixPath(queue_dir)
        if (
            queue.is_absolute()
            or ".." in queue.parts
            or not queue.parts
            or queue.parts[0] in ("output", ".cssblog-cache")  # the build replaces those
            or not (root / queue).resolve().is_relative_to(root.resolve())
        ):
            self._error(
                f"[intake] queue_dir {queue_dir!r} must be a folder inside the site, "
                "outside output/ and .cssblog-cache/",
                "queue_dir",
                "intake",
                hint='the default is "content/comments", where the build reads comments',
            )

    def _check_mail(self, intake: IntakeSection) -> None:
        for key in ("notify_email", "smtp_from"):
            value = getattr(intake, key)
            if value and not re.fullmatch(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+", value):
                self._error(f"[intake] {key} is not an email address", key, "intake")
        if not 0 < intake.smtp_port < 65536:
            self._error("[intake] smtp_port must be from 1 to 65535", "smtp_port", "intake")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", intake.smtp_password_env):
            self._error(
                "[intake] smtp_password_env must name an environment variable",
                "smtp_password_env",
                "intake",
                hint='for example "CSSBLOG_SMTP_PASSWORD"',
            )

    def _unknown(self, key: str, known: list[str], section: str | None) -> None:
        close = difflib.get_close_matches(key, known, n=1)
        where = f"[{section}] " if section else ""
        self._error(
            f"{where}unknown key `{key}`",
            key,
            section,
            hint=f"did you mean `{close[0]}`?" if close else "known keys: " + ", ".join(known),
        )

    def _error(
        self, message: str, key: str | None, section: str | None, hint: str | None = None
    ) -> None:
        self.errors.append(
            CssblogError(message, path=self.path, line=self._line_of(key, section), hint=hint)
        )

    def _line_of(self, key: str | None, section: str | None) -> int | None:
        """Line number of ``key`` inside ``[section]`` (or of the section header)."""
        current: str | None = None
        header_line: int | None = None
        seen = -1
        for number, raw in enumerate(self.lines, start=1):
            line = raw.strip()
            header = re.match(r"^\[\[?\s*([\w.-]+)\s*\]\]?", line)
            if header:
                current = header.group(1)
                if current == section:
                    seen += 1
                if current == section and seen != self.occurrence:
                    current = None  # another table of the same array
                if current == section and header_line is None:
                    header_line = number
                if key is not None and section is None and current == key:
                    return number
                continue
            if key and current == section and re.match(rf"^{re.escape(key)}\s*=", line):
                return number
        return header_line


def _routable(permalink: str) -> bool:
    """The pattern gives a safe URL for a sample post."""
    from cssblog.urls import post_route

    try:
        post_route(permalink, datetime(2026, 1, 31, tzinfo=UTC), "a-slug")
    except (ValueError, IndexError, KeyError):
        return False
    return True


def reference_markdown() -> str:
    """The configuration reference as Markdown tables, from the field docs above."""
    out: list[str] = []
    for title, cls in (
        ("[site]", SiteSection),
        ("[customer_service]", CustomerServiceSection),
        ("[[authors]]", AuthorSection),
        ("[comments]", CommentsSection),
        ("[intake]", IntakeSection),
    ):
        out += [f"#### `{title}`", "", *_rows(cls, ())]
    for kind, target in TARGET_TYPES.items():
        summary = (target.__doc__ or "").split(": ", 1)[-1]
        title = f'#### `[deploy.NAME]` with `type = "{kind}"`'
        # the name comes from the table header, the type is the table's first key
        out += [title, "", summary[:1].upper() + summary[1:], ""]
        out += _rows(target, (f'| `type` | *required* | `"{kind}"` |',), skip=1)
    return "\n".join(out)


def _rows(cls: type[Any], first: tuple[str, ...], skip: int = 0) -> list[str]:
    rows = ["| key | default | meaning |", "|---|---|---|", *first]
    for f in fields(cls)[skip:]:
        default = "*required*" if f.default is MISSING else _toml_value(f.default)
        rows.append(f"| `{f.name}` | {default} | {f.metadata['doc']} |")
    return [*rows, ""]


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple):
        return "`[" + ", ".join(f'"{v}"' for v in value) + "]`"
    if isinstance(value, str):
        return f'`"{value}"`'
    return f"`{value}`"
