"""``type = "s3"`` against moto's standalone S3 server on 127.0.0.1 (real HTTP, no mocks)."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from click.testing import CliRunner

from cssblog.cli import main
from cssblog.config import load_config
from cssblog.deploy import s3
from cssblog.deploy.deployment import publish_deployment
from cssblog.deploy.process import DeployError
from tests.conftest import MakeSite
from tests.deploy_helpers import deploy, deploy_site, edit_first_post, plan, publish, published

boto3 = pytest.importorskip("boto3")
SECRET = "wJalrXUtnFEMI-test-secret-never-printed"


class MotoServer:
    """moto's S3 server in a child process, and the requests it logged."""

    def __init__(self, log: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)]
        with log.open("wb") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        self.process.kill()
        raise RuntimeError(f"moto server did not start: {log.read_text()}")

    def mark(self) -> int:
        return self.log.stat().st_size

    def puts(self, bucket: str, since: int) -> list[str]:
        """Keys written with PUT since ``mark()``, in order."""
        with self.log.open("rb") as handle:
            handle.seek(since)
            text = handle.read().decode()
        return re.findall(rf'"PUT /{bucket}/(\S+) HTTP/1\.1" 200', text)


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = MotoServer(tmp_path_factory.mktemp("moto") / "requests.log")
    yield server
    server.process.terminate()
    server.process.wait(timeout=10)


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDTESTING")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def bucket(moto: MotoServer, request: pytest.FixtureRequest) -> str:
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:50].strip("-")
    client(moto).create_bucket(Bucket=name)
    return name


def client(moto: MotoServer) -> Any:
    return boto3.client("s3", endpoint_url=moto.url, region_name="us-east-1")


def s3_site(
    make_site: MakeSite, moto: MotoServer, bucket: str, prefix: str = "", **files: Any
) -> Path:
    config = (
        f'[deploy.cdn]\ntype = "s3"\nbucket = "{bucket}"\nprefix = "{prefix}"\n'
        f'endpoint_url = "{moto.url}"\nregion = "us-east-1"\n'
    )
    return deploy_site(make_site, config, **files)


def objects(moto: MotoServer, bucket: str) -> dict[str, bytes]:
    s3c = client(moto)
    listed = s3c.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {o["Key"]: s3c.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}


FINGERPRINTED = {"content/static/js/app.3f9a1c2e7b.js": "console.log('hi');\n"}


def test_first_deploy_uploads_every_file_with_its_type_and_caching(
    make_site: MakeSite, moto: MotoServer, bucket: str
) -> None:
    root = s3_site(make_site, moto, bucket, prefix="blog/", **FINGERPRINTED)
    deploy(root)
    assert objects(moto, bucket) == {f"blog/{k}": v for k, v in published(root).items()}
    s3c = client(moto)

    def head(key: str) -> tuple[str, str]:
        answer = s3c.head_object(Bucket=bucket, Key=f"blog/{key}")
        return answer["ContentType"], answer["CacheControl"]

    assert head("index.html") == ("text/html; charset=utf-8", s3.REVALIDATE)
    assert head("feed.xml") == ("application/rss+xml; charset=utf-8", s3.REVALIDATE)
    assert head("atom.xml") == ("application/atom+xml; charset=utf-8", s3.REVALIDATE)
    assert head("sitemap.xml") == ("application/xml; charset=utf-8", s3.REVALIDATE)
    assert head("robots.txt") == ("text/plain; charset=utf-8", s3.REVALIDATE)
    assert head("theme/style.css") == ("text/css; charset=utf-8", s3.STATIC)
    assert head("theme/favicon.svg") == ("image/svg+xml", s3.STATIC)
    assert head("images/logo@2x.png") == ("image/png", s3.STATIC)
    assert head("js/app.3f9a1c2e7b.js") == ("text/javascript; charset=utf-8", s3.IMMUTABLE)


def test_html_goes_up_last(make_site: MakeSite, moto: MotoServer, bucket: str) -> None:
    root = s3_site(make_site, moto, bucket)
    mark = moto.mark()
    deploy(root)
    keys = moto.puts(bucket, mark)
    assert sorted(keys) == sorted(published(root))
    kinds = [2 if k.endswith(".html") else 1 if k.endswith((".xml", ".txt")) else 0 for k in keys]
    assert kinds == sorted(kinds)


def test_second_deploy_uploads_only_the_changed_objects(
    make_site: MakeSite, moto: MotoServer, bucket: str
) -> None:
    root = s3_site(make_site, moto, bucket)
    deploy(root)
    changed = edit_first_post(root)
    planned = plan(root)
    assert {c.path for c in planned.plan.changed} == changed
    assert planned.plan.unchanged == len(published(root)) - len(changed)
    mark = moto.mark()
    report = publish(root, planned)
    assert {PurePosixPath(k) for k in moto.puts(bucket, mark)} == changed  # what the server saw
    assert set(report.sent) == changed
    assert objects(moto, bucket) == published(root)


def test_stale_objects_stay_unless_delete(
    make_site: MakeSite, moto: MotoServer, bucket: str
) -> None:
    root = s3_site(make_site, moto, bucket)
    s3c = client(moto)
    s3c.put_object(Bucket=bucket, Key="old/index.html", Body=b"an old page")
    s3c.put_object(Bucket=bucket, Key=".well-known/security.txt", Body=b"Contact: x")
    planned = plan(root)
    assert [str(c.path) for c in planned.plan.kept] == ["old/index.html"]
    assert planned.plan.removed == ()
    assert any("/old/ is no longer part of the site" in w.message for w in planned.check.warnings)
    publish(root, planned)
    assert "old/index.html" in objects(moto, bucket)
    deleting = plan(root, delete=True)
    assert [str(c.path) for c in deleting.plan.removed] == ["old/index.html"]
    publish(root, deleting)
    left = objects(moto, bucket)
    assert "old/index.html" not in left
    assert left[".well-known/security.txt"] == b"Contact: x"  # dot paths are never touched
    assert {k: v for k, v in left.items() if not k.startswith(".")} == published(root)


def test_a_missing_bucket_is_reported_with_the_operation(
    make_site: MakeSite, moto: MotoServer
) -> None:
    root = s3_site(make_site, moto, "no-such-bucket-here")
    with pytest.raises(DeployError) as info:
        plan(root)
    assert info.value.message.startswith("ListObjectsV2 * failed: NoSuchBucket")
    assert "create the bucket" in (info.value.hint or "")


def test_an_unreachable_endpoint_fails_cleanly(make_site: MakeSite, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again: nothing listens there
    config = (
        f'[deploy.cdn]\ntype = "s3"\nbucket = "blog"\nendpoint_url = "http://127.0.0.1:{port}"\n'
        'region = "us-east-1"\n'
    )
    root = deploy_site(make_site, config)
    with pytest.raises(DeployError, match=r"ListObjectsV2 \* failed: Could not connect"):
        plan(root)


def test_without_boto3_the_error_says_how_to_install_it(
    make_site: MakeSite, moto: MotoServer, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = s3_site(make_site, moto, bucket)
    monkeypatch.setitem(sys.modules, "boto3", None)
    with pytest.raises(DeployError) as info:
        plan(root)
    assert 'pip install "cssblog[s3]"' in (info.value.hint or "")


def test_cli_deploy_never_prints_the_keys(
    make_site: MakeSite, moto: MotoServer, bucket: str
) -> None:
    root = s3_site(make_site, moto, bucket)
    result = CliRunner().invoke(main, ["deploy", "--site", str(root)])
    assert result.exit_code == 0, result.output
    assert "Published to cdn" in result.output
    assert f"s3://{bucket}/ at 127.0.0.1" in result.output
    assert SECRET not in result.output and "AKIDTESTING" not in result.output
    for data in objects(moto, bucket).values():
        assert SECRET.encode() not in data and b"AKIDTESTING" not in data
    assert not any(SECRET.encode() in p.read_bytes() for p in root.rglob("*") if p.is_file())


def test_cli_delete_and_force_belong_to_their_targets(
    make_site: MakeSite, moto: MotoServer, bucket: str
) -> None:
    root = s3_site(make_site, moto, bucket)
    result = CliRunner().invoke(main, ["deploy", "--site", str(root), "--force"])
    assert result.exit_code == 2
    assert "--force is for git, rsync and dir targets" in result.output


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("index.html", "text/html; charset=utf-8"),
        ("site.webmanifest", "application/manifest+json"),
        ("comments/feed.xml", "application/rss+xml; charset=utf-8"),
        ("font.woff2", "font/woff2"),
        ("file.unknown-kind", "application/octet-stream"),
    ],
)
def test_content_types(name: str, expected: str) -> None:
    assert s3.content_type(PurePosixPath(name)) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("2026/01/post/index.html", s3.REVALIDATE),
        ("style.3f9a1c2e.css", s3.IMMUTABLE),
        ("app-5d41402abc4b2a76.js", s3.IMMUTABLE),
        ("theme/style.css", s3.STATIC),
        ("images/photo-2026.jpg", s3.STATIC),
        ("data.0123abcd.json", s3.REVALIDATE),
    ],
)
def test_cache_control(name: str, expected: str) -> None:
    assert s3.cache_control(PurePosixPath(name)) == expected


def test_progress_counts_the_bytes_uploaded(
    make_site: MakeSite, moto: MotoServer, bucket: str
) -> None:
    root = s3_site(make_site, moto, bucket)
    planned = plan(root)
    seen: list[tuple[int, int]] = []
    publish_deployment(load_config(root), planned, progress=lambda d, t: seen.append((d, t)))
    total = planned.plan.bytes_to_send
    assert total == sum(len(v) for v in published(root).values())
    assert seen[0] == (0, total) and seen[-1] == (total, total)
    assert len(seen) == len(published(root)) + 1
