"""New sites (``cssblog init``) and new posts (``cssblog new``)."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import yaml

from cssblog.config import SiteConfig
from cssblog.errors import CssblogError
from cssblog.urls import slugify

_INIT_FILES = Path(__file__).parent / "data" / "init"


def init_site(target: Path, *, title: str, author: str, now: datetime) -> tuple[Path, ...]:
    """Create a new site with sample content in ``target`` (new or empty); return its files."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise CssblogError(
            f"{target} already exists and is not empty", hint="choose a new folder name"
        )
    created = []
    stamp = now.strftime("%Y-%m-%d %H:%M")
    for source in sorted(_INIT_FILES.rglob("*")):
        if not source.is_file():
            continue
        relative = source.relative_to(_INIT_FILES)
        if relative.name == "welcome.md":
            relative = relative.with_name(f"{now:%Y-%m-%d}-welcome.md")
        text = source.read_text(encoding="utf-8")
        if relative.suffix == ".toml":
            text = text.format(title=_toml_text(title), author=_toml_text(author))
        else:
            text = text.replace("{date}", stamp)
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_text(text, encoding="utf-8")
        created.append(destination)
    (target / "content" / "static").mkdir(exist_ok=True)
    (target / ".gitignore").write_text("/output/\n.cssblog-cache/\n", encoding="utf-8")
    return (*created, target / ".gitignore")


def _toml_text(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def new_post(
    config: SiteConfig, title: str, *, categories: tuple[str, ...], draft: bool, now: datetime
) -> Path:
    """Write a new post file for ``title`` dated ``now`` in the site's zone; never overwrite."""
    slug = slugify(title)
    if not slug:
        raise CssblogError(
            f"cannot make a file name from the title {title!r}",
            hint="use a title with some letters or digits",
        )
    local = now.astimezone(config.tz)
    meta: dict[str, object] = {"title": title, "date": local.strftime("%Y-%m-%d %H:%M")}
    if categories:
        meta["categories"] = list(categories)
    meta["tags"] = []
    if draft:
        meta["draft"] = True
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=False, width=1000)
    text = f"---\n{front}---\nWrite your post here.\n"
    folder = config.root / "content" / "posts"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{local:%Y-%m-%d}-{slug}.md"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise CssblogError(
            "a post with this name already exists",
            path=path,
            hint="choose another title, or edit the existing file",
        ) from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path
