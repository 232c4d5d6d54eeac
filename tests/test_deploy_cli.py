"""``cssblog deploy`` through Click's CliRunner."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cssblog.cli import main
from tests.conftest import BASE_CONFIG, MakeSite, post, tree
from tests.deploy_helpers import SITE_FILES, git, published

TWO = (
    '[deploy.folder]\ntype = "dir"\npath = "../www"\n\n'
    '[deploy.mirror]\ntype = "rsync"\ndestination = "../mirror/"\n'
)


def site(make_site: MakeSite, deploy_config: str = TWO, **files: str) -> Path:
    return make_site({**SITE_FILES, **files}, config=BASE_CONFIG + "\n" + deploy_config)


def run(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["deploy", "--site", str(root), *args])


def test_deploy_builds_plans_checks_and_publishes(make_site: MakeSite) -> None:
    root = site(make_site)
    result = run(root, "--target", "folder")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert re.fullmatch(r"Built \d+ pages \(2 posts\): \d+ written, 0 removed", lines[0])
    assert lines[1] == "Deploying to folder (dir: ../www)"
    count = len(published(root))
    assert re.fullmatch(
        rf"Plan: {count} added \(\d+\.\d KiB\), 0 changed \(0 B\), 0 removed, 0 unchanged", lines[2]
    )
    assert "  + index.html (" in result.output
    assert f"  + ... and {count - 20} more (--verbose lists all)" in result.output
    assert re.search(
        rf"Check: {count} files; no draft or future post \(0 held back\), no unapproved "
        r"comment \(0 held back\), no email address: passed",
        result.output,
    )
    assert re.search(
        rf"Published to folder in \d+\.\d\d s: {count} added, 0 changed", result.output
    )
    assert tree(root.parent / "www") == published(root)


def test_a_second_deploy_shows_and_sends_only_the_change(make_site: MakeSite) -> None:
    root = site(make_site)
    assert run(root, "--target", "mirror").exit_code == 0
    path = root / "content/posts/2026-02-07-second.md"
    path.write_text(path.read_text().replace("happens next", "happens after that"))
    result = run(root, "--target", "mirror", "--verbose")
    assert result.exit_code == 0, result.output
    assert "  ~ 2026/02/second/index.html (" in result.output
    assert "  ~ 2026/01/first/index.html" not in result.output
    assert re.search(r"Published to mirror in .*: 0 added, \d+ changed, 0 removed", result.output)


def test_nothing_to_do(make_site: MakeSite) -> None:
    root = site(make_site)
    run(root, "--target", "folder")
    result = run(root, "--target", "folder")
    assert result.exit_code == 0
    assert "Nothing to publish: folder already has this site." in result.output


def test_dry_run_shows_the_plan_and_changes_nothing(make_site: MakeSite) -> None:
    root = site(make_site)
    result = run(root, "--target", "folder", "--dry-run")
    assert result.exit_code == 0, result.output
    assert "Plan: " in result.output and "Check: " in result.output
    assert result.output.rstrip().endswith("Dry run: nothing was published.")
    assert not (root.parent / "www").exists()


def test_dry_run_to_git_leaves_the_remote_without_the_branch(
    make_site: MakeSite, tmp_path: Path
) -> None:
    remote = tmp_path / "remote.git"
    git("init", "--quiet", "--bare", str(remote))
    root = site(make_site, f'[deploy.pages]\ntype = "git"\nrepository = "{remote}"\n')
    result = run(root, "--dry-run")
    assert result.exit_code == 0, result.output
    assert re.search(r"Commit [0-9a-f]{12} on gh-pages, pushed when published", result.output)
    assert git("--git-dir", str(remote), "branch", "--list").strip() == ""


def test_a_build_error_stops_before_anything(make_site: MakeSite) -> None:
    root = site(make_site, **{"content/posts/bad.md": "---\ntitle: [\n---\n"})
    result = run(root, "--target", "folder")
    assert result.exit_code == 1
    assert "Error: content/posts/bad.md:2: invalid YAML" in result.output
    assert "Deploying" not in result.output
    assert not (root.parent / "www").exists()


def test_drafts_are_never_built_for_a_deploy(make_site: MakeSite) -> None:
    draft = {"content/posts/2026-03-01-secret.md": post("Secret", "2026-03-01", draft=True)}
    root = site(make_site, **draft)
    CliRunner().invoke(main, ["build", "--site", str(root), "--drafts"])
    assert (root / "output/2026/03/secret/index.html").is_file()
    result = run(root, "--target", "folder")
    assert result.exit_code == 0, result.output
    assert "draft or future post (1 held back)" in result.output
    assert not (root.parent / "www/2026/03/secret").exists()


def test_no_build_with_drafts_in_the_output_is_refused(make_site: MakeSite) -> None:
    draft = {"content/posts/2026-03-01-secret.md": post("Secret", "2026-03-01", draft=True)}
    root = site(make_site, **draft)
    CliRunner().invoke(main, ["build", "--site", str(root), "--drafts"])
    result = run(root, "--target", "folder", "--no-build")
    assert result.exit_code == 1
    assert "Built" not in result.output
    assert "no email address: 1 problem" in result.output
    assert (
        "Error: content/posts/2026-03-01-secret.md: draft would be published at /2026/03/secret/"
        in result.output
    )
    assert "Nothing was published." in result.output
    assert not (root.parent / "www").exists()


def test_no_build_needs_a_built_output(make_site: MakeSite) -> None:
    root = site(make_site)
    result = run(root, "--target", "folder", "--no-build")
    assert result.exit_code == 1
    assert "is not a site built by cssblog" in result.output


def test_a_refused_first_deploy_says_force(make_site: MakeSite) -> None:
    root = site(make_site)
    (root.parent / "www").mkdir()
    (root.parent / "www/notes.txt").write_text("mine")
    result = run(root, "--target", "folder")
    assert result.exit_code == 1
    assert "holds 1 file that is not part of the site" in result.output
    assert "--force deploys anyway" in result.output
    assert (root.parent / "www/notes.txt").read_text() == "mine"
    assert run(root, "--target", "folder", "--force").exit_code == 0
    assert not (root.parent / "www/notes.txt").exists()


def test_a_failure_exits_1_with_the_command(make_site: MakeSite, tmp_path: Path) -> None:
    (tmp_path / "not-a-repo").mkdir()
    root = site(make_site, f'[deploy.pages]\ntype = "git"\nrepository = "{tmp_path}/not-a-repo"\n')
    result = run(root)
    assert result.exit_code == 1
    assert "Error: reading the repository failed (exit status 128): git -C " in result.output
    assert "  | fatal: " in result.output
    assert "hint: check `repository` in cssblog.toml" in result.output


@pytest.mark.parametrize(
    ("config", "args", "message"),
    [
        ("", [], "cssblog.toml: no [deploy.NAME] target"),
        (TWO, [], "2 deploy targets: choose one with --target"),
        (
            TWO,
            ["--target", "foldr"],
            "no deploy target called 'foldr'\n  hint: did you mean 'folder'?",
        ),
    ],
)
def test_choosing_a_target(make_site: MakeSite, config: str, args: list[str], message: str) -> None:
    root = site(make_site, config)
    result = run(root, *args)
    assert result.exit_code == 1
    assert message in result.output
    assert not (root / "output").exists()


def test_delete_is_for_s3_only(make_site: MakeSite) -> None:
    result = run(site(make_site), "--target", "folder", "--delete")
    assert result.exit_code == 2
    assert "--delete is for s3 targets" in result.output


def test_deploy_is_in_the_help(make_site: MakeSite) -> None:
    result = CliRunner().invoke(main, ["deploy", "--help"])
    assert result.exit_code == 0
    for option in ("--target", "--dry-run", "--no-build", "--force", "--delete"):
        assert option in result.output
