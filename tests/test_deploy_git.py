"""``type = "git"`` against a real bare repository in ``tmp_path``."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path, PurePosixPath

import pytest

from cssblog.build import build_site
from cssblog.deploy.deployment import DeployOptions
from cssblog.deploy.git import GitPlan
from cssblog.deploy.plan import Change
from cssblog.deploy.process import DeployError
from tests.conftest import NOW, MakeSite
from tests.deploy_helpers import deploy, deploy_site, edit_first_post, git, plan, publish, published


@pytest.fixture(autouse=True)
def _no_user_git_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The user's ~/.gitconfig (identity, hooks, signing) must not matter."""
    empty = tmp_path / "gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    path = tmp_path / "remote.git"
    git("init", "--quiet", "--bare", str(path))
    return path


def git_site(make_site: MakeSite, remote: Path, **extra: str) -> Path:
    lines = [f'repository = "{remote}"', *(f'{k} = "{v}"' for k, v in extra.items())]
    return deploy_site(make_site, '[deploy.pages]\ntype = "git"\n' + "\n".join(lines) + "\n")


def files_on(remote: Path, ref: str = "gh-pages") -> set[str]:
    return set(git("--git-dir", str(remote), "ls-tree", "-r", "--name-only", ref).split())


def show(remote: Path, spec: str) -> bytes:
    return git("--git-dir", str(remote), "show", spec).encode()


def test_first_deploy_creates_the_branch_with_nojekyll_and_cname(
    make_site: MakeSite, remote: Path
) -> None:
    root = git_site(make_site, remote, cname="blog.example.org")
    report = deploy(root)
    assert files_on(remote) == set(published(root)) | {".nojekyll", "CNAME"}
    assert show(remote, "gh-pages:CNAME") == b"blog.example.org\n"
    assert show(remote, "gh-pages:.nojekyll") == b""
    assert show(remote, "gh-pages:index.html") == (root / "output/index.html").read_bytes()
    assert ".cssblog-output" not in files_on(remote)
    log = git("--git-dir", str(remote), "log", "--format=%H %an %s", "gh-pages").splitlines()
    assert len(log) == 1
    assert log[0].split()[0] == report.revision
    assert "cssblog Publish Test Blog" in log[0]
    assert report.plan.first


def test_second_deploy_is_one_commit_touching_only_what_changed(
    make_site: MakeSite, remote: Path
) -> None:
    root = git_site(make_site, remote)
    first = deploy(root)
    changed = edit_first_post(root)
    assert PurePosixPath("2026/01/first/index.html") in changed
    assert PurePosixPath("2026/02/second/index.html") not in changed
    planned = plan(root)
    assert {c.path for c in planned.plan.changed} == changed
    assert not planned.plan.added and not planned.plan.removed
    second = publish(root, planned)
    log = git("--git-dir", str(remote), "log", "--format=%H", "gh-pages").split()
    assert log == [second.revision, first.revision]  # history kept, one new commit
    diff = git("--git-dir", str(remote), "diff", "--name-only", f"{log[1]}..{log[0]}").split()
    assert {PurePosixPath(p) for p in diff} == changed
    assert set(second.sent) == changed


def test_nothing_changed_makes_no_commit(make_site: MakeSite, remote: Path) -> None:
    root = git_site(make_site, remote)
    first = deploy(root)
    again = deploy(root)
    assert again.plan.empty and again.sent == ()
    assert git("--git-dir", str(remote), "rev-list", "--count", "gh-pages").strip() == "1"
    assert again.revision == first.revision


def test_a_removed_post_leaves_the_branch_and_stays_in_history(
    make_site: MakeSite, remote: Path
) -> None:
    root = git_site(make_site, remote)
    deploy(root)
    (root / "content/posts/2026-02-07-second.md").unlink()
    build_site(root, now=NOW)
    planned = plan(root)
    assert PurePosixPath("2026/02/second/index.html") in {c.path for c in planned.plan.removed}
    assert any("/2026/02/second/ was published" in w.message for w in planned.check.warnings)
    publish(root, planned)
    assert "2026/02/second/index.html" not in files_on(remote)
    assert "2026/02/second/index.html" in files_on(remote, "gh-pages~1")


def test_a_branch_that_moved_after_the_plan_is_refused_without_force(
    make_site: MakeSite, remote: Path, tmp_path: Path
) -> None:
    root = git_site(make_site, remote)
    first = deploy(root)
    edit_first_post(root)
    planned = plan(root)
    intruder = _push_other_commit(remote, tmp_path)
    with pytest.raises(DeployError) as info:
        publish(root, planned)
    assert "git push failed" in info.value.message
    assert "[rejected]" in info.value.message
    assert info.value.hint is not None and "--force" in info.value.hint
    assert _tip(remote) == intruder  # the remote is untouched
    forced = publish(root, replace(planned, options=DeployOptions(force=True)))
    assert isinstance(planned.plan, GitPlan)
    assert _tip(remote) == forced.revision == planned.plan.commit
    history = git("--git-dir", str(remote), "log", "--format=%H", "gh-pages").split()
    assert history == [forced.revision, first.revision]
    assert files_on(remote) == set(published(root)) | {".nojekyll"}


def test_planning_again_builds_on_what_someone_else_pushed(
    make_site: MakeSite, remote: Path, tmp_path: Path
) -> None:
    root = git_site(make_site, remote)
    deploy(root)
    intruder = _push_other_commit(remote, tmp_path)
    report = deploy(root)
    assert report.plan.changed == (
        Change(PurePosixPath("index.html"), report.plan.changed[0].size),
    )
    history = git("--git-dir", str(remote), "log", "--format=%H", "gh-pages").split()
    assert history[:2] == [report.revision, intruder]


def test_a_path_that_is_not_a_repository_fails_with_the_command_and_its_errors(
    make_site: MakeSite, tmp_path: Path
) -> None:
    (tmp_path / "not-a-repo").mkdir()
    root = git_site(make_site, tmp_path / "not-a-repo")
    with pytest.raises(DeployError) as info:
        plan(root)
    message = info.value.message
    assert "reading the repository failed (exit status 128): git -C" in message
    assert f"ls-remote --heads -- {tmp_path / 'not-a-repo'}" in message
    assert "  | fatal: " in message and "does not appear to be a git repository" in message


def test_a_rejected_push_reports_the_remote_refusal(make_site: MakeSite, tmp_path: Path) -> None:
    checkout = tmp_path / "checkout"
    git("init", "--quiet", "-b", "gh-pages", str(checkout))
    git(
        "-C",
        str(checkout),
        "-c",
        "user.name=O",
        "-c",
        "user.email=o@o",
        "commit",
        "-qm",
        "start",
        "--allow-empty",
    )
    root = git_site(make_site, checkout)
    planned = plan(root)
    with pytest.raises(DeployError) as info:
        publish(root, planned)  # a non-bare repository refuses a push to its checked-out branch
    assert "git push failed" in info.value.message
    assert "refusing to update checked out branch" in info.value.message
    assert git("-C", str(checkout), "log", "--format=%s").split() == ["start"]


def test_relative_repository_paths_are_from_the_site_folder(
    make_site: MakeSite, remote: Path
) -> None:
    root = deploy_site(make_site, '[deploy.pages]\ntype = "git"\nrepository = "../remote.git"\n')
    deploy(root)
    assert "index.html" in files_on(remote)


def _push_other_commit(remote: Path, tmp_path: Path) -> str:
    """Someone else publishes to the branch."""
    other = tmp_path / "other"
    git("clone", "--quiet", "--branch", "gh-pages", str(remote), str(other))
    (other / "index.html").write_text("someone else's site")
    git("-C", str(other), "-c", "user.name=O", "-c", "user.email=o@o", "commit", "-qam", "other")
    git("-C", str(other), "push", "--quiet", "origin", "gh-pages")
    return _tip(remote)


def _tip(remote: Path) -> str:
    return git("--git-dir", str(remote), "rev-parse", "gh-pages").strip()


def test_dot_paths_on_the_branch_are_kept(
    make_site: MakeSite, remote: Path, tmp_path: Path
) -> None:
    root = git_site(make_site, remote)
    deploy(root)
    other = tmp_path / "other"
    git("clone", "--quiet", "--branch", "gh-pages", str(remote), str(other))
    (other / ".github/workflows").mkdir(parents=True)
    (other / ".github/workflows/check.yml").write_text("on: push\n")
    (other / ".github/run.sh").write_text("#!/bin/sh\n")
    (other / ".github/run.sh").chmod(0o755)
    git("-C", str(other), "add", ".github")
    git("-C", str(other), "-c", "user.name=O", "-c", "user.email=o@o", "commit", "-qm", "ci")
    git("-C", str(other), "push", "--quiet", "origin", "gh-pages")
    edit_first_post(root)
    planned = plan(root)
    assert not any(str(c.path).startswith(".github") for c in planned.plan.removed)
    publish(root, planned)
    assert show(remote, "gh-pages:.github/workflows/check.yml") == b"on: push\n"
    mode = git("--git-dir", str(remote), "ls-tree", "gh-pages", ".github/run.sh").split()[0]
    assert mode == "100755"
