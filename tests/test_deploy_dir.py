"""``type = "dir"``: a local folder replaced whole, by a swap."""

from __future__ import annotations

import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from cssblog.deploy import folder
from cssblog.deploy.deployment import Deployment
from cssblog.deploy.process import DeployError
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


def dir_site(make_site: MakeSite, path: Path | str) -> Path:
    return deploy_site(make_site, f'[deploy.folder]\ntype = "dir"\npath = "{path}"\n')


def test_first_deploy_copies_the_site_without_the_build_marker(
    make_site: MakeSite, tmp_path: Path
) -> None:
    www = tmp_path / "www"
    root = dir_site(make_site, www)
    report = deploy(root)
    assert tree(www) == published(root)
    assert not (www / ".cssblog-output").exists()
    assert set(map(str, report.sent)) == set(published(root))
    assert not list(tmp_path.glob(".www.*")), "no staging folder is left behind"


def test_second_deploy_copies_only_what_changed_and_keeps_the_rest(
    make_site: MakeSite, tmp_path: Path
) -> None:
    www = tmp_path / "www"
    root = dir_site(make_site, www)
    deploy(root)
    (www / ".well-known").mkdir()
    (www / ".well-known/security.txt").write_text("Contact: https://example.org/security\n")
    before = stamps(www)
    changed = edit_first_post(root)
    report = deploy(root)
    assert set(report.sent) == changed
    assert {c.path for c in report.plan.changed} == changed
    assert rewritten(before, www) == changed  # the rest are links to the files already there
    assert {k: v for k, v in tree(www).items() if not k.startswith(".")} == published(root)
    assert (www / ".well-known/security.txt").read_text().startswith("Contact:")


@dataclass
class Edited:
    """A site deployed once, then edited and planned again."""

    root: Path
    www: Path
    before: dict[str, bytes]
    planned: Deployment


@pytest.fixture
def edited(make_site: MakeSite, tmp_path: Path) -> Edited:
    www = tmp_path / "www"
    root = dir_site(make_site, www)
    deploy(root)
    before = tree(www)
    edit_first_post(root)
    return Edited(root, www, before, plan(root))


def test_a_failure_while_assembling_leaves_the_folder_as_it_was(
    edited: Edited, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = []

    def failing_copy(source: Path, target: Path) -> None:
        calls.append(source)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(shutil, "copy2", failing_copy)
    with pytest.raises(DeployError) as info:
        publish(edited.root, edited.planned)
    assert "No space left on device" in info.value.message
    assert info.value.hint == "free some disk space"
    assert calls
    assert tree(edited.www) == edited.before
    assert not list(edited.www.parent.glob(".www.*"))


def test_a_failed_swap_puts_the_old_site_back(
    edited: Edited, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(folder, "_rename_exchange", lambda a, b: False)  # no renameat2
    real_rename = Path.rename

    def rename(self: Path, target: Path) -> Path:
        if self.name.startswith(".www.deploy-"):
            raise OSError(5, "Input/output error")
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    with pytest.raises(OSError, match="Input/output error"):
        publish(edited.root, edited.planned)
    assert tree(edited.www) == edited.before
    assert not list(edited.www.parent.glob(".www.*"))


def test_two_renames_where_renameat2_is_missing(
    edited: Edited, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(folder, "_rename_exchange", lambda a, b: False)
    publish(edited.root, edited.planned)
    assert tree(edited.www) == published(edited.root)
    assert not list(edited.www.parent.glob(".www.*"))


@pytest.mark.skipif(sys.platform != "linux", reason="renameat2 is Linux's")
def test_rename_exchange_swaps_two_folders(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a/x").write_text("a")
    (tmp_path / "b").mkdir()
    assert folder._rename_exchange(tmp_path / "a", tmp_path / "b")
    assert (tmp_path / "b/x").read_text() == "a"
    assert list((tmp_path / "a").iterdir()) == []


def test_leftovers_of_a_killed_deploy_are_cleared(edited: Edited) -> None:
    leftover = edited.www.parent / ".www.deploy-999999-abcd"
    leftover.mkdir()
    (leftover / "index.html").write_text("half")
    publish(edited.root, edited.planned)
    assert not leftover.exists()
    assert tree(edited.www) == published(edited.root)


def test_a_deploy_killed_between_two_renames_gets_the_old_site_back(
    make_site: MakeSite, tmp_path: Path
) -> None:
    www = tmp_path / "www"
    root = dir_site(make_site, www)
    deploy(root)
    www.rename(tmp_path / ".www.old-999999-abcd")
    folder.reclaim_leftovers(www)
    assert tree(www) == published(root)
    assert not list(tmp_path.glob(".www.*"))


def test_two_deploys_to_one_folder_never_mix(edited: Edited) -> None:
    with folder._locked(edited.www.parent), pytest.raises(DeployError, match="another deploy"):
        publish(edited.root, edited.planned)
    assert tree(edited.www) == edited.before


@pytest.mark.parametrize("where", [".", "content", "output", "..", "themes", ".cssblog-cache"])
def test_folders_that_hold_the_site_are_refused(make_site: MakeSite, where: str) -> None:
    root = dir_site(make_site, where)
    before = tree(root / "content")
    with pytest.raises(DeployError, match="refusing to deploy"):
        plan(root)
    assert tree(root / "content") == before


def test_a_folder_inside_content_is_refused(make_site: MakeSite) -> None:
    root = dir_site(make_site, "content/static/site")
    with pytest.raises(DeployError, match="inside the site's content/"):
        plan(root)


def test_a_first_deploy_over_foreign_files_needs_force(make_site: MakeSite, tmp_path: Path) -> None:
    www = tmp_path / "www"
    www.mkdir()
    (www / "notes.txt").write_text("mine")
    root = dir_site(make_site, www)
    planned = plan(root)
    assert planned.refusal is not None
    assert "notes.txt" in planned.refusal.message and "--force" in (planned.refusal.hint or "")
    with pytest.raises(DeployError, match="has not deployed there before"):
        publish(root, planned)
    assert tree(www) == {"notes.txt": b"mine"}
    deploy(root, force=True)
    assert tree(www) == published(root)
    (www / "extra.html").write_text("stale")
    assert plan(root).refusal is None  # deployed there before: stale files just go
