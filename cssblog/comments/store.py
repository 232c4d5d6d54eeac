"""Comment files on disk: load them strictly, create them exclusively, edit status atomically.

A status edit rewrites only the front matter: the body stays byte-for-byte as it was. Every
file written is serialised with ``yaml.safe_dump`` and parsed back before it replaces anything,
so no field value (a name with a newline and ``status: approved`` in it, say) can turn into a key.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

import yaml

from cssblog.comments.model import ID_PATTERN, STATUSES, Comment, Status
from cssblog.content import parse_date
from cssblog.errors import CssblogError, StorageError
from cssblog.frontmatter import Document, decode_source, parse_document
from cssblog.sources import SourceFile
from cssblog.urls import is_valid_slug

MAX_COMMENT_BYTES = 72 * 1024
"""The largest comment file read: a 64 KiB comment and its front matter."""
TEMP_SUFFIX = ".tmp"
COMMENT_KEYS = frozenset(
    {
        "author",
        "email",
        "url",
        "date",
        "parent",
        "status",
        "moderation_note",
        "duplicate_of",
        "moderated_at",
    }
)


@dataclass(frozen=True, slots=True)
class LoadedComments:
    """Every comment file of a site, with the problems found in them."""

    comments: tuple[Comment, ...]
    errors: tuple[CssblogError, ...]
    warnings: tuple[CssblogError, ...]


def comments_dir(site_root: Path) -> Path:
    """Where a site keeps its comments."""
    return site_root / "content" / "comments"


def load_comments(site_root: Path, tz: tzinfo, base: Path | None = None) -> LoadedComments:
    """Read every ``content/comments/<slug>/<id>.md`` (or ``base/<slug>/<id>.md``) in order."""
    base = comments_dir(site_root) if base is None else base
    found: list[Comment] = []
    errors: list[CssblogError] = []
    warnings: list[CssblogError] = []
    if not base.is_dir():
        return LoadedComments((), (), ())
    for folder in sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for path in sorted(folder.glob("*.md")):
            if path.name.startswith(".") or not path.is_file():
                continue
            display = path.relative_to(site_root)
            try:
                comment, warning = read_comment(path, display, folder.name, tz)
            except CssblogError as exc:
                errors.append(exc)
                continue
            found.append(comment)
            warnings.extend(warning)
    return LoadedComments(tuple(found), tuple(errors), tuple(warnings))


def collect_comments(
    results: Iterable[tuple[Comment, list[CssblogError]] | CssblogError],
) -> LoadedComments:
    """The comments, errors and warnings of what :func:`parse_comment_source` gave, in order."""
    found: list[Comment] = []
    errors: list[CssblogError] = []
    warnings: list[CssblogError] = []
    for result in results:
        if isinstance(result, CssblogError):
            errors.append(result)
        else:
            found.append(result[0])
            warnings.extend(result[1])
    return LoadedComments(tuple(found), tuple(errors), tuple(warnings))


def is_comment_source(source: SourceFile) -> bool:
    """``source`` is a comment file: ``comments/<post-slug>/<id>.md``."""
    return source.kind == "comment" and source.name.count("/") == 1


def comment_key(source: SourceFile, zone: str) -> tuple[str, str, str]:
    """What a comment parsed from ``source`` in time zone ``zone`` (its name) depends on: its
    key in the build cache."""
    return (source.location, source.digest, zone)


def parse_comment_source(
    source: SourceFile, site_root: Path, tz: tzinfo
) -> tuple[Comment, list[CssblogError]] | CssblogError:
    """The comment in ``source`` with its warnings, or the error that stopped it."""
    display = source.below(site_root)
    try:
        return parse_comment(source.data, source.path, display, source.name.split("/")[0], tz)
    except CssblogError as exc:
        return exc


def read_comment(
    path: Path, display: Path, post_slug: str, tz: tzinfo
) -> tuple[Comment, list[CssblogError]]:
    """One comment file, or a :class:`CssblogError` naming the file and line."""
    return parse_comment(path.read_bytes(), path, display, post_slug, tz)


def parse_comment(
    data: bytes, path: Path, display: Path, post_slug: str, tz: tzinfo
) -> tuple[Comment, list[CssblogError]]:
    """A comment from its file's bytes, or a :class:`CssblogError` naming the file and line."""
    if len(data) > MAX_COMMENT_BYTES:
        raise CssblogError(
            f"comment is larger than {MAX_COMMENT_BYTES // 1024} KiB",
            path=display,
            line=1,
            hint="comments that long are refused at intake; shorten it or "
            "move it out of content/comments/",
        )
    doc = parse_document(decode_source(data, display), display)
    if not ID_PATTERN.fullmatch(path.stem):
        raise CssblogError(
            f"comment id {path.stem!r} is not valid",
            path=display,
            line=1,
            hint="name comment files with letters, digits, - and _ only",
        )
    return _typed(doc, path, post_slug, tz)


def _typed(
    doc: Document, path: Path, post_slug: str, tz: tzinfo
) -> tuple[Comment, list[CssblogError]]:
    meta, warnings = doc.meta, []
    for key in meta:
        if key not in COMMENT_KEYS:
            warnings.append(
                CssblogError(
                    f"unknown comment key `{key}` ignored", path=doc.path, line=doc.line_of(key)
                )
            )
    text = {k: meta.get(k) for k in ("author", "email", "url", "moderation_note")}
    for key, value in text.items():
        if value is not None and not isinstance(value, str):
            raise CssblogError(f"`{key}` must be text", path=doc.path, line=doc.line_of(key))
    status = meta.get("status", "pending")
    if status not in STATUSES:
        warnings.append(
            CssblogError(
                f"unknown status {status!r}: treated as pending",
                path=doc.path,
                line=doc.line_of("status"),
                hint="use " + ", ".join(STATUSES),
            )
        )
        status = "pending"
    try:
        when = parse_date(meta.get("date"), tz)
    except ValueError:
        raise CssblogError(
            f"invalid or missing date {meta.get('date')!r}",
            path=doc.path,
            line=doc.line_of("date"),
            hint="use YYYY-MM-DD HH:MM or ISO 8601",
        ) from None
    refs = {k: meta.get(k) for k in ("parent", "duplicate_of")}
    for key, value in refs.items():
        if value is not None and not (isinstance(value, str) and ID_PATTERN.fullmatch(value)):
            raise CssblogError(
                f"`{key}` must be a comment id", path=doc.path, line=doc.line_of(key)
            )
    comment = Comment(
        post_slug=post_slug,
        id=path.stem,
        author=text["author"] or "",
        email=text["email"] or "",
        url=text["url"] or "",
        date=when,
        parent=refs["parent"],
        status=status,
        moderation_note=text["moderation_note"] or "",
        duplicate_of=refs["duplicate_of"],
        body=doc.body.strip("\n"),
        path=path,
    )
    return comment, warnings


_Dumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's when present
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _serialise(meta: Mapping[str, Any], body: bytes) -> bytes:
    front = yaml.dump(
        dict(meta),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=False,
        default_flow_style=False,
        width=10_000,
    )
    if _safe_load(front) != dict(meta):
        raise CssblogError(
            "comment fields do not survive being written as YAML",
            hint="remove control characters from the fields",
        )
    return b"---\n" + front.encode("ascii") + b"---\n" + body


def _safe_load(text: str) -> Any:
    loader = _Loader(text)  # a safe loader: plain data only
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def _verify(data: bytes, path: Path, comment: Comment) -> None:
    """Read ``data`` back as the build will, and refuse it unless it is ``comment``."""
    try:
        tz = comment.date.tzinfo or UTC
        read, _ = parse_comment(data, path, Path(path.name), comment.post_slug, tz)
    except CssblogError as exc:
        raise CssblogError(f"the comment would not be readable: {exc.message}") from exc
    expected = replace(comment, body=comment.body.replace("\r\n", "\n").replace("\r", "\n"))
    if replace(read, path=comment.path) != expected:
        raise CssblogError("the comment does not survive being written as a file")


def comment_meta(comment: Comment) -> dict[str, Any]:
    """The front matter of ``comment`` as it is written to disk."""
    meta: dict[str, Any] = {"author": comment.author, "email": comment.email}
    if comment.url:
        meta["url"] = comment.url
    meta["date"] = comment.date.isoformat()
    if comment.parent:
        meta["parent"] = comment.parent
    meta["status"] = comment.status
    if comment.moderation_note:
        meta["moderation_note"] = comment.moderation_note
    if comment.duplicate_of:
        meta["duplicate_of"] = comment.duplicate_of
    return meta


def create_comment(site_root: Path, comment: Comment, *, base: Path | None = None) -> Comment:
    """Write a new comment file; never overwrite one. Returns it with its final path.

    The file is written whole to a temporary dotfile (which nothing reads), flushed to disk,
    then linked to its name, which fails if the name exists; a crash at any point leaves either
    no comment or a whole one. ``base`` is the comment folder (default ``content/comments``).
    """
    root = comments_dir(site_root) if base is None else base
    folder = root / comment.post_slug
    path = folder / f"{comment.id}.md"
    if (
        not is_valid_slug(comment.post_slug)
        or not ID_PATTERN.fullmatch(comment.id)
        or not _inside(path, root)
    ):
        raise CssblogError(f"unsafe comment path {comment.key!r}")
    data = _serialise(comment_meta(comment), comment.body.encode("utf-8") + b"\n")
    _verify(data, path, comment)
    temp = folder / f".{comment.id}.{secrets.token_hex(4)}{TEMP_SUFFIX}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _write_synced(temp, data)
        os.link(temp, path)  # atomic and exclusive: fails if the id exists
        _sync_folder(folder)
    except FileExistsError:
        raise CssblogError("a comment with this id already exists", path=path) from None
    except OSError as exc:
        raise StorageError(f"cannot write the comment: {exc.strerror}", path=path) from exc
    finally:
        temp.unlink(missing_ok=True)
    return replace(comment, path=path)


def remove_stale_temps(base: Path, older_than: float, now: float) -> int:
    """Delete temporary files under ``base/<slug>/`` last changed before ``now - older_than``
    (seconds since the epoch): the leftovers of a writer that died mid-write. Returns how many."""
    removed = 0
    if not base.is_dir():
        return 0
    for folder in base.iterdir():
        if not folder.is_dir() or folder.is_symlink():
            continue
        for temp in folder.glob(f".*{TEMP_SUFFIX}"):
            try:
                if temp.is_file() and temp.stat().st_mtime < now - older_than:
                    temp.unlink()
                    removed += 1
            except FileNotFoundError:
                continue  # another process cleaned it
    return removed


def _write_synced(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def _sync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _inside(path: Path, root: Path) -> bool:
    return path.resolve().is_relative_to(root.resolve())


def set_status(
    comment: Comment, status: Status, note: str, now: datetime, *, duplicate_of: str | None = None
) -> Comment:
    """Change a comment's status and say why; the body is kept byte-for-byte."""
    raw = comment.path.read_bytes()
    lines = raw.split(b"\n")
    start = 1
    closing = next((i for i in range(start, len(lines)) if lines[i].rstrip(b"\r ") == b"---"), None)
    if closing is None or lines[0].lstrip(b"\xef\xbb\xbf").rstrip(b"\r ") != b"---":
        raise CssblogError("comment file has no front matter", path=comment.path, line=1)
    body = b"\n".join(lines[closing + 1 :])
    original = yaml.safe_load(b"\n".join(lines[1:closing]).decode("utf-8")) or {}
    meta = dict(original)
    meta["status"] = status
    meta["moderation_note"] = note
    meta["moderated_at"] = now.isoformat()
    if duplicate_of:
        meta["duplicate_of"] = duplicate_of
    data = _serialise(meta, body)
    temp = comment.path.with_name(f".{comment.path.name}.{secrets.token_hex(4)}.tmp")
    temp.write_bytes(data)
    temp.replace(comment.path)
    return replace(
        comment,
        status=status,
        moderation_note=note,
        duplicate_of=duplicate_of or comment.duplicate_of,
    )
