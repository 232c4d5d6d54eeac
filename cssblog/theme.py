"""Theme lookup (the site's ``themes/<name>/`` before the bundled theme) and the Jinja setup."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from cssblog.errors import CssblogError

if TYPE_CHECKING:
    import jinja2

BUNDLED_THEMES = Path(__file__).parent / "themes"
THEME_STATIC_URL = "/theme/"


@dataclass(frozen=True, slots=True)
class Theme:
    """The ordered folders a theme is looked up in, most specific first."""

    name: str
    template_dirs: tuple[Path, ...]
    static_dirs: tuple[Path, ...]


def find_theme(site_root: Path, name: str) -> Theme:
    """The site's own ``themes/<name>/`` (if any), then the bundled theme of that name or the
    default theme."""
    own = site_root / "themes" / name
    bundled = BUNDLED_THEMES / name
    if not bundled.is_dir():
        bundled = BUNDLED_THEMES / "default"
    if not own.is_dir() and name != "default" and not (BUNDLED_THEMES / name).is_dir():
        raise CssblogError(
            f"theme {name!r} not found",
            path=site_root / "cssblog.toml",
            hint=f'create themes/{name}/templates/ or use theme = "default"',
        )
    roots = tuple(dict.fromkeys(p.resolve() for p in (own, bundled) if p.is_dir()))
    return Theme(
        name=name,
        template_dirs=tuple(r / "templates" for r in roots if (r / "templates").is_dir()),
        static_dirs=tuple(r / "static" for r in roots if (r / "static").is_dir()),
    )


def make_environment(theme: Theme, compiled: Path | None = None) -> jinja2.Environment:
    """A Jinja environment with autoescape on and undefined names as errors.

    ``compiled`` is a folder where compiled templates are kept between builds (Jinja checks
    each against its template's source, so an edited template is compiled again).
    """
    import jinja2  # loaded when pages are rendered, not for a build with nothing to do

    from cssblog.fragments import direct

    cache = None
    if compiled is not None:
        compiled.mkdir(parents=True, exist_ok=True)
        cache = jinja2.FileSystemBytecodeCache(str(compiled))
    env = jinja2.Environment(
        bytecode_cache=cache,
        loader=jinja2.FileSystemLoader([str(d) for d in theme.template_dirs]),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # No stat of the template file at each page: a long-running process makes a new
        # environment whenever any template changes (see pipeline.Warm.jinja).
        auto_reload=False,
    )
    env.filters["datefmt"] = format_date
    env.filters["isodate"] = lambda value: value.isoformat()
    env.filters["plural"] = plural
    env.globals["asset"] = asset_url
    env.globals["cached"] = direct  # a build's pages get their memo (see cssblog.fragments)
    return env


def format_date(value: datetime, style: str = "long") -> str:
    """``23 November 2026`` (long), ``23 Nov 2026`` (short) — explicit formats, no locale."""
    fmt = {"long": "%-d %B %Y", "short": "%-d %b %Y", "month": "%B %Y"}[style]
    return value.strftime(fmt)


def plural(count: int, singular: str, many: str | None = None) -> str:
    """``1 comment`` / ``3 comments``."""
    word = singular if count == 1 else (many or singular + "s")
    return f"{count} {word}"


def asset_url(path: str) -> str:
    """URL of a file from the theme's ``static/`` folder."""
    return THEME_STATIC_URL + path.lstrip("/")


def template_error(exc: jinja2.TemplateError) -> CssblogError:
    """A Jinja error as a :class:`CssblogError` naming the template file and line."""
    import jinja2

    if isinstance(exc, jinja2.TemplateSyntaxError):
        return CssblogError(
            f"template syntax error: {exc.message}", path=exc.filename or exc.name, line=exc.lineno
        )
    if isinstance(exc, jinja2.TemplateNotFound):
        return CssblogError(
            f"template not found: {exc.name}", hint="add it to your theme's templates/ folder"
        )
    return CssblogError(
        f"template error: {exc}",
        hint="a name used in a template is not defined for this page; "
        "see docs/themes.md for the variables each template receives",
    )
