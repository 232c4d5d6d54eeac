"""A tiny site to deploy, and the steps of a deploy, for the deploy tests."""

from __future__ import annotations

import subprocess
from pathlib import Path, PurePosixPath

from cssblog.build import build_site
from cssblog.config import load_config
from cssblog.deploy.deployment import (
    Deployment,
    DeployOptions,
    DeployReport,
    choose_target,
    plan_deployment,
    publish_deployment,
)
from tests.comment_helpers import comment_file
from tests.conftest import BASE_CONFIG, NOW, MakeSite, post, tree

COMMENT_ID = "20260110T100000-aaaaaaaaaaaa"
COMMENT_BODY = "The escalation table is going straight onto our team wiki today."
SITE_FILES = {
    "content/posts/2026-01-05-first.md": post(
        "First reply", "2026-01-05", "Answer the question that was asked.\n", categories=["Service"]
    ),
    "content/posts/2026-02-07-second.md": post(
        "Second thoughts", "2026-02-07", "Say what happens next.\n", tags=["tone"]
    ),
    "content/pages/about.md": (
        '---\ntitle: "About"\n---\nWrite to [us](mailto:hello@blog.example.org).\n\n'
        "![Our logo](/images/logo@2x.png)\n"
    ),
    "content/static/images/logo@2x.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)),
    f"content/comments/first/{COMMENT_ID}.md": comment_file(
        "Priya Raman", COMMENT_BODY, email="priya@example.com"
    ),
}


def deploy_site(make_site: MakeSite, deploy_config: str, **files: str | bytes) -> Path:
    """A built tiny site whose cssblog.toml has ``deploy_config`` appended."""
    root = make_site({**SITE_FILES, **files}, config=BASE_CONFIG + "\n" + deploy_config)
    build_site(root, now=NOW)
    return root


def plan(root: Path, target: str | None = None, **options: bool) -> Deployment:
    """Plan a deploy of the built site at ``root``."""
    config = load_config(root)
    return plan_deployment(
        config, choose_target(config, target), now=NOW, options=DeployOptions(**options)
    )


def publish(root: Path, deployment: Deployment) -> DeployReport:
    """Publish a planned deploy."""
    return publish_deployment(load_config(root), deployment)


def deploy(root: Path, target: str | None = None, **options: bool) -> DeployReport:
    """Plan and publish."""
    return publish(root, plan(root, target, **options))


def published(root: Path) -> dict[str, bytes]:
    """What a deploy publishes: the built files without the build's marker."""
    return {k: v for k, v in tree(root / "output").items() if not k.startswith(".")}


def edit_first_post(root: Path) -> set[PurePosixPath]:
    """Change one post's text, rebuild, and return the output files whose bytes changed."""
    before = published(root)
    path = root / "content/posts/2026-01-05-first.md"
    path.write_text(path.read_text().replace("was asked", "was really asked"))
    build_site(root, now=NOW)
    after = published(root)
    return {PurePosixPath(k) for k in after if before.get(k) != after[k]}


def stamps(root: Path) -> dict[str, tuple[int, int]]:
    """Inode and modification time of every file below ``root``."""
    return {
        str(p.relative_to(root)): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file()
    }


def rewritten(before: dict[str, tuple[int, int]], root: Path) -> set[PurePosixPath]:
    """Files below ``root`` that are new or were written again since ``before``."""
    return {PurePosixPath(k) for k, v in stamps(root).items() if before.get(k) != v}


def git(*args: str, cwd: Path | None = None) -> str:
    """Run git; its output."""
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout
