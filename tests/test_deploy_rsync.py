"""``type = "rsync"`` with the real rsync, to a local folder."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

import pytest

from cssblog.config import load_config
from cssblog.deploy import rsync
from cssblog.deploy.deployment import publish_deployment
from cssblog.deploy.process import DeployError
from cssblog.deploy.targets import RsyncTarget
from tests.conftest import MakeSite, tree
from tests.deploy_helpers import (
    deploy,
    deploy_site,
    edit_first_post,
    plan,
    publish,
    published,
    rewritten,
    stamps,
)


def rsync_site(make_site: MakeSite, destination: Path | str) -> Path:
    return deploy_site(make_site, f'[deploy.vps]\ntype = "rsync"\ndestination = "{destination}"\n')


def test_first_deploy_mirrors_the_site(make_site: MakeSite, tmp_path: Path) -> None:
    www = tmp_path / "srv/www"  # its parent does not exist yet either
    root = rsync_site(make_site, www)
    planned = plan(root)
    assert {str(c.path) for c in planned.plan.added} == set(published(root))
    report = publish(root, planned)
    assert tree(www) == published(root)
    assert set(map(str, report.sent)) == set(published(root))


def test_second_deploy_sends_only_the_changed_files(make_site: MakeSite, tmp_path: Path) -> None:
    www = tmp_path / "www"
    root = rsync_site(make_site, www)
    deploy(root)
    before = stamps(www)
    changed = edit_first_post(root)
    planned = plan(root)
    assert {c.path for c in planned.plan.changed} == changed
    assert planned.plan.unchanged == len(published(root)) - len(changed)
    report = publish(root, planned)
    assert set(report.sent) == changed  # as rsync itemized it
    assert rewritten(before, www) == changed  # the other files were not touched
    assert tree(www) == published(root)


def test_stale_files_are_deleted_and_dotfiles_left_alone(
    make_site: MakeSite, tmp_path: Path
) -> None:
    www = tmp_path / "www"
    root = rsync_site(make_site, www)
    deploy(root)
    (www / ".htaccess").write_text("Options -Indexes\n")
    (www / "old-page.html").write_text("gone soon")
    planned = plan(root)
    assert [str(c.path) for c in planned.plan.removed] == ["old-page.html"]
    assert planned.refusal is None
    assert [w.message for w in planned.check.warnings] == [
        "/old-page.html was published and will be removed"
    ]
    publish(root, planned)
    assert not (www / "old-page.html").exists()
    assert (www / ".htaccess").read_text() == "Options -Indexes\n"
    assert not (www / ".cssblog-output").exists()


def test_a_first_deploy_over_foreign_files_needs_force(make_site: MakeSite, tmp_path: Path) -> None:
    www = tmp_path / "www"
    www.mkdir()
    (www / "index.nginx-debian.html").write_text("Welcome to nginx")
    root = rsync_site(make_site, www)
    with pytest.raises(DeployError, match=r"holds 1 file that is not part of the site"):
        deploy(root)
    assert (www / "index.nginx-debian.html").exists()
    deploy(root, force=True)
    assert tree(www) == published(root)


def test_dry_run_changes_nothing(make_site: MakeSite, tmp_path: Path) -> None:
    www = tmp_path / "www"
    root = rsync_site(make_site, www)
    deploy(root)
    before = stamps(www)
    edit_first_post(root)
    assert plan(root).plan.changed
    assert stamps(www) == before


def test_an_rsync_failure_names_the_command_and_its_errors(
    make_site: MakeSite, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    root = rsync_site(make_site, tmp_path / "a-file/www")
    with pytest.raises(DeployError) as info:
        deploy(root)
    message = info.value.message
    assert message.startswith("rsync")
    assert "failed (exit status " in message
    assert f"'--out-format=%i %l %n' {root / 'output'}/ {tmp_path / 'a-file/www'}" in message
    assert "  | rsync" in message  # the tail of rsync's own error output
    assert (tmp_path / "a-file").read_text() == "not a folder"


def test_missing_rsync_is_a_clear_error(
    make_site: MakeSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = rsync_site(make_site, tmp_path / "www")
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(DeployError) as info:
        plan(root)
    assert info.value.message == "rsync is not installed (or not on PATH)"
    assert "apt-get install rsync" in (info.value.hint or "")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (">f+++++++++ 12 a/b c.html", (">f+++++++++", 12, PurePosixPath("a/b c.html"))),
        ("<fcs....... 7 index.html", ("<fcs.......", 7, PurePosixPath("index.html"))),
        ("*deleting   0 old.html", ("*deleting", 0, PurePosixPath("old.html"))),
        ("*deleting   0 old/", None),
        ("cd+++++++++ 4096 sub/", None),
        (".f..t...... 2 same.html", None),
        ("created directory /srv/www", None),
        (">f+++++++++ 3 tab\\#011name", (">f+++++++++", 3, PurePosixPath("tab\tname"))),
    ],
)
def test_itemized_lines(line: str, expected: object) -> None:
    assert rsync._item(line) == expected


@pytest.mark.parametrize(
    ("destination", "remote"),
    [
        ("jane@host.example.org:/var/www/blog/", True),
        ("host:blog", True),
        ("rsync://host/module/", True),
        ("/srv/www/blog", False),
        ("../www", False),
        ("./odd:name", False),
    ],
)
def test_remote_destinations(destination: str, remote: bool) -> None:
    assert rsync.is_remote(destination) is remote


def test_remote_destination_is_passed_as_written(tmp_path: Path) -> None:
    target = RsyncTarget(name="vps", destination="jane@host:/var/www/")
    assert rsync.destination(target, tmp_path) == "jane@host:/var/www/"
    local = RsyncTarget(name="vps", destination="../www")
    assert rsync.destination(local, tmp_path / "site") == os.fspath(tmp_path / "site/../www")


def test_progress_counts_the_bytes_rsync_sent(make_site: MakeSite, tmp_path: Path) -> None:
    root = rsync_site(make_site, tmp_path / "www")
    planned = plan(root)
    seen: list[tuple[int, int]] = []
    publish_deployment(load_config(root), planned, progress=lambda d, t: seen.append((d, t)))
    total = planned.plan.bytes_to_send
    assert seen[0] == (0, total) and seen[-1] == (total, total)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert len(seen) == len(planned.plan.added) + 1
