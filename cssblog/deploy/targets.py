"""Where a site can be published: the ``[deploy.NAME]`` tables of ``cssblog.toml``.

Each target type is a frozen dataclass whose field docs are the configuration reference.
Credentials never belong here: git and rsync use SSH keys or a credential helper, and the
``s3`` target takes its keys from boto3's standard environment and profile chain.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import MISSING, dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlsplit

from cssblog.deploy.process import redact

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")
_BRANCH = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._/-]*")
_HOST = re.compile(
    r"(?=.{1,253}$)(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_REGION = re.compile(r"[a-z0-9-]*")


def _doc(text: str, default: Any = MISSING) -> Any:
    """A dataclass field whose docstring lives in its metadata (for the reference)."""
    if default is MISSING:
        return field(metadata={"doc": text})
    return field(default=default, metadata={"doc": text})


_NAME_DOC = "The target's name, from its table header: `[deploy.NAME]`."


@dataclass(frozen=True, slots=True)
class GitTarget:
    """``type = "git"``: commit the site onto a branch of a repository and push it."""

    kind: ClassVar[str] = "git"
    name: str = _doc(_NAME_DOC)
    repository: str = _doc(
        "Repository to push to: `git@github.com:jane/jane.github.io.git`, an https URL "
        "(credentials come from git's credential helper) or a local path."
    )
    branch: str = _doc("Branch that holds the published site; history is kept.", "gh-pages")
    cname: str = _doc("Custom domain written to a `CNAME` file (GitHub Pages); empty: none.", "")


@dataclass(frozen=True, slots=True)
class RsyncTarget:
    """``type = "rsync"``: mirror the site with rsync to a folder here or on a server."""

    kind: ClassVar[str] = "rsync"
    name: str = _doc(_NAME_DOC)
    destination: str = _doc(
        "A local folder, or `user@host:/path/` over SSH (keys and ports from ~/.ssh/config)."
    )


@dataclass(frozen=True, slots=True)
class S3Target:
    """``type = "s3"``: upload to an S3 or S3-compatible bucket (needs `cssblog[s3]`)."""

    kind: ClassVar[str] = "s3"
    name: str = _doc(_NAME_DOC)
    bucket: str = _doc("Bucket name.")
    prefix: str = _doc("Folder inside the bucket, e.g. `blog/`; empty: the bucket's root.", "")
    endpoint_url: str = _doc(
        "Endpoint of an S3-compatible host (`https://...`); empty: AWS. Keys come from the "
        "environment or ~/.aws, never from this file.",
        "",
    )
    region: str = _doc("Region, e.g. `eu-west-1` or `auto`; empty: boto3's default.", "")


@dataclass(frozen=True, slots=True)
class DirTarget:
    """``type = "dir"``: replace a local folder that a web server or host picks up."""

    kind: ClassVar[str] = "dir"
    name: str = _doc(_NAME_DOC)
    path: str = _doc("The folder; relative paths are from the site folder.")


DeployTarget = GitTarget | RsyncTarget | S3Target | DirTarget
TARGET_TYPES: dict[str, type[DeployTarget]] = {
    cls.kind: cls for cls in (GitTarget, RsyncTarget, S3Target, DirTarget)
}


@dataclass(frozen=True, slots=True)
class Problem:
    """A value a target's table cannot have."""

    key: str | None
    message: str
    hint: str | None = None


def target_problems(target: DeployTarget) -> Iterator[Problem]:
    """What is wrong with the values of ``target`` (types are checked by the config loader)."""
    if not _NAME.fullmatch(target.name):
        yield Problem(
            None,
            f"target name {target.name!r} must be letters, digits, - and _",
            "for example [deploy.production]",
        )
    if isinstance(target, GitTarget):
        yield from _git_problems(target)
    elif isinstance(target, RsyncTarget):
        yield from _location_problems("destination", target.destination)
    elif isinstance(target, S3Target):
        yield from _s3_problems(target)
    else:
        yield from _location_problems("path", target.path)


def _git_problems(target: GitTarget) -> Iterator[Problem]:
    yield from _location_problems("repository", target.repository)
    branch = target.branch
    if (
        not _BRANCH.fullmatch(branch)
        or ".." in branch
        or "//" in branch
        or branch.endswith(("/", ".", ".lock"))
    ):
        yield Problem("branch", f"{branch!r} is not a valid branch name", 'e.g. "gh-pages"')
    if target.cname and not _HOST.fullmatch(target.cname):
        yield Problem(
            "cname", f"cname must be a host name, not {target.cname!r}", 'e.g. "blog.example.org"'
        )


def _location_problems(key: str, value: str) -> Iterator[Problem]:
    if not value.strip():
        yield Problem(key, f"`{key}` is empty")
    elif value.startswith("-"):
        yield Problem(key, f"`{key}` must not start with '-'", "write ./ in front of the name")
    elif _has_secret(value):
        yield Problem(
            key,
            f"`{key}` holds a password or token",
            "keep credentials out of cssblog.toml: use SSH keys or git's credential helper",
        )


def _s3_problems(target: S3Target) -> Iterator[Problem]:
    if not _BUCKET.fullmatch(target.bucket) or ".." in target.bucket:
        yield Problem("bucket", f"{target.bucket!r} is not a valid bucket name")
    parts = target.prefix.split("/")
    if (
        target.prefix.startswith("/")
        or any(p in (".", "..") for p in parts)
        or "//" in (target.prefix)
    ):
        yield Problem("prefix", f"invalid prefix {target.prefix!r}", 'e.g. "" or "blog/"')
    if target.endpoint_url:
        url = urlsplit(target.endpoint_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            yield Problem(
                "endpoint_url",
                f"endpoint_url must be an http(s) URL, not {redact(target.endpoint_url)!r}",
                'e.g. "https://s3.eu-central-1.example.com"; empty for AWS',
            )
        elif url.username is not None or url.password is not None:
            yield Problem(
                "endpoint_url",
                "endpoint_url holds credentials",
                "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or use a profile in ~/.aws",
            )
    if not _REGION.fullmatch(target.region):
        yield Problem("region", f"invalid region {target.region!r}", 'e.g. "eu-west-1"')


def _has_secret(location: str) -> bool:
    """A URL with a password, or an http(s) URL with any user information (a token)."""
    if "://" not in location:
        return False
    url = urlsplit(location)
    if url.password is not None:
        return True
    return url.scheme in ("http", "https") and url.username is not None


def describe(target: DeployTarget) -> str:
    """Where ``target`` publishes, fit to print (no credentials)."""
    if isinstance(target, GitTarget):
        return f"{redact(target.repository)}, branch {target.branch}"
    if isinstance(target, RsyncTarget):
        return redact(target.destination)
    if isinstance(target, S3Target):
        where = f"s3://{target.bucket}/{target.prefix}"
        host = urlsplit(target.endpoint_url).hostname
        return f"{where} at {host}" if host else where
    return target.path
