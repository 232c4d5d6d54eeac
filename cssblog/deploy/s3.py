"""``type = "s3"``: upload to an S3 or S3-compatible bucket with boto3 (``cssblog[s3]``).

Objects are compared by their ETag, which for an object uploaded in one piece is the MD5 of
its bytes, so only files whose content changed are uploaded. New and changed objects go up
assets first, then feeds, then HTML pages last, so no page is served before what it links
to; stale objects are deleted last and only with ``--delete``. S3 cannot switch many objects
at once: a failure part-way leaves the assets and some pages new, and deploying again
finishes the job. Each object gets its ``Content-Type`` and a ``Cache-Control``:

- HTML, feeds, the sitemap and other text: ``public, max-age=0, must-revalidate`` (a CDN
  checks back every time, so a new post shows at once);
- fingerprinted files (a hex hash of 8 or more digits in the name, ``app.3f9a1c2e.css``):
  ``public, max-age=31536000, immutable``;
- other static files (the theme's ``/theme/style.css`` is not fingerprinted): one hour.

Keys come from boto3's standard chain (environment, ``~/.aws``, instance roles), never from
``cssblog.toml``.
"""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import re
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any

from cssblog.deploy.plan import Change, Entry, LocalTree, Plan, Progress, compare
from cssblog.deploy.process import DeployError
from cssblog.deploy.targets import S3Target

REVALIDATE = "public, max-age=0, must-revalidate"
IMMUTABLE = "public, max-age=31536000, immutable"
STATIC = "public, max-age=3600"
_FINGERPRINT = re.compile(r"[.-][0-9a-f]{8,}\.[A-Za-z0-9]+$")
_SHORT_LIVED = frozenset({".html", ".htm", ".xml", ".txt", ".json", ".webmanifest"})
_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".xml": "application/xml; charset=utf-8",
    ".svg": "image/svg+xml",
    ".webmanifest": "application/manifest+json",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".woff2": "font/woff2",
}
_FEEDS = {
    "feed.xml": "application/rss+xml; charset=utf-8",
    "atom.xml": "application/atom+xml; charset=utf-8",
}
DELETE_BATCH = 1000


def content_type(path: PurePosixPath) -> str:
    """The ``Content-Type`` of a published file."""
    if path.name in _FEEDS:
        return _FEEDS[path.name]
    suffix = path.suffix.lower()
    if suffix in _TYPES:
        return _TYPES[suffix]
    guessed, _encoding = mimetypes.guess_type(path.name, strict=False)
    return guessed or "application/octet-stream"


def cache_control(path: PurePosixPath) -> str:
    """The ``Cache-Control`` of a published file."""
    if path.suffix.lower() in _SHORT_LIVED:
        return REVALIDATE
    if _FINGERPRINT.search(path.name):
        return IMMUTABLE
    return STATIC


def plan(target: S3Target, tree: LocalTree, *, delete: bool) -> Plan:
    """Compare the built files with the bucket's objects under the prefix."""
    client = _client(target)
    local = {f.path: Entry(f.size, hashlib.md5(tree.read(f.path)).hexdigest()) for f in tree.files}
    remote = dict(_objects(client, target))
    return compare(local, remote, delete=delete)


def publish(
    target: S3Target, planned: Plan, tree: LocalTree, *, progress: Progress
) -> tuple[PurePosixPath, ...]:
    """Upload what the plan sends (HTML last), then delete what it removes; the uploads."""
    client = _client(target)
    total = planned.bytes_to_send
    done = 0
    progress(0, total)
    uploads = sorted(planned.sends, key=_upload_order)
    for change in uploads:
        data = tree.read(change.path)
        key = _key(target, change.path)
        _call(
            "PutObject",
            key,
            client.put_object,
            Bucket=target.bucket,
            Key=key,
            Body=data,
            ContentType=content_type(change.path),
            CacheControl=cache_control(change.path),
            ContentMD5=base64.b64encode(hashlib.md5(data).digest()).decode(),
        )
        done += len(data)
        progress(done, total)
    _delete(client, target, planned.removed)
    return tuple(c.path for c in uploads)


def _upload_order(change: Change) -> tuple[int, PurePosixPath]:
    suffix = change.path.suffix.lower()
    rank = 2 if suffix in (".html", ".htm") else 1 if suffix in _SHORT_LIVED else 0
    return rank, change.path


def _prefix(target: S3Target) -> str:
    return target.prefix.strip("/") + "/" if target.prefix.strip("/") else ""


def _key(target: S3Target, path: PurePosixPath) -> str:
    return _prefix(target) + str(path)


def _objects(client: Any, target: S3Target) -> Iterator[tuple[PurePosixPath, Entry]]:
    prefix = _prefix(target)
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=target.bucket, Prefix=prefix)
    for page in _call("ListObjectsV2", f"{prefix}*", lambda: list(pages)):
        for item in page.get("Contents", []):
            key = item["Key"]
            if key.endswith("/"):
                continue
            yield PurePosixPath(key[len(prefix) :]), Entry(item["Size"], item["ETag"].strip('"'))


def _delete(client: Any, target: S3Target, removed: tuple[Change, ...]) -> None:
    keys = [_key(target, c.path) for c in removed]
    for start in range(0, len(keys), DELETE_BATCH):
        batch = [{"Key": key} for key in keys[start : start + DELETE_BATCH]]
        answer = _call(
            "DeleteObjects",
            batch[0]["Key"],
            client.delete_objects,
            Bucket=target.bucket,
            Delete={"Objects": batch, "Quiet": True},
        )
        failed = answer.get("Errors", [])
        if failed:
            first = failed[0]
            where = f"s3://{target.bucket}/{first.get('Key')}"
            raise DeployError(
                f"DeleteObjects failed for {len(failed)} objects, first {where}: "
                f"{first.get('Code')}: {first.get('Message')}"
            )


def _client(target: S3Target) -> Any:
    try:
        import boto3
        from botocore.config import Config
    except ImportError as exc:
        raise DeployError(
            "the s3 target needs boto3, which is not installed",
            hint='install it with: pip install "cssblog[s3]"',
        ) from exc
    return boto3.client(
        "s3",
        endpoint_url=target.endpoint_url or None,
        region_name=target.region or None,
        config=Config(retries={"max_attempts": 5, "mode": "standard"}),
    )


def _call(operation: str, key: str, function: Any, /, **kwargs: Any) -> Any:
    """Call boto3; its errors become a :class:`DeployError` naming the operation and key."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    try:
        return function(**kwargs)
    except NoCredentialsError as exc:
        raise DeployError(
            f"{operation} {key}: {exc}",
            hint="set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE; "
            "keys never go in cssblog.toml",
        ) from exc
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise DeployError(
            f"{operation} {key} failed: {error.get('Code', '?')}: {error.get('Message', exc)}",
            hint=_hint(str(error.get("Code", ""))),
        ) from exc
    except BotoCoreError as exc:
        raise DeployError(f"{operation} {key} failed: {exc}", hint=_hint("")) from exc


def _hint(code: str) -> str:
    if code == "NoSuchBucket":
        return "create the bucket first, or check `bucket` in cssblog.toml"
    if code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
        return "check the keys in the environment or ~/.aws and the bucket's permissions"
    return "check `endpoint_url` and `region` in cssblog.toml, and the network"
