"""``[deploy.NAME]`` tables in ``cssblog.toml``: types, defaults and errors with their lines."""

from __future__ import annotations

from pathlib import Path

import pytest

from cssblog.deploy.targets import DirTarget, GitTarget, RsyncTarget, S3Target, describe
from tests.test_config import MINIMAL, load, problem, problems

FOUR = (
    MINIMAL
    + """
[deploy.production]
type = "git"
repository = "git@github.com:jane/jane.github.io.git"
branch = "gh-pages"
cname = "blog.example.org"

[deploy.vps]
type = "rsync"
destination = "jane@host.example.org:/var/www/blog/"

[deploy.cdn]
type = "s3"
bucket = "blog-example-org"
prefix = ""
endpoint_url = ""        # empty for AWS; set for S3-compatible hosts

[deploy.folder]
type = "dir"
path = "/srv/www/blog"
"""
)


def test_the_four_targets_of_the_issue_load_in_order(tmp_path: Path) -> None:
    config = load(tmp_path, FOUR)
    assert config.deploy == (
        GitTarget(
            name="production",
            repository="git@github.com:jane/jane.github.io.git",
            branch="gh-pages",
            cname="blog.example.org",
        ),
        RsyncTarget(name="vps", destination="jane@host.example.org:/var/www/blog/"),
        S3Target(name="cdn", bucket="blog-example-org", prefix="", endpoint_url="", region=""),
        DirTarget(name="folder", path="/srv/www/blog"),
    )


def test_no_deploy_tables_means_no_targets(tmp_path: Path) -> None:
    assert load(tmp_path, MINIMAL).deploy == ()


def test_defaults(tmp_path: Path) -> None:
    config = load(tmp_path, MINIMAL + '[deploy.p]\ntype = "git"\nrepository = "../x.git"\n')
    assert config.deploy == (GitTarget(name="p", repository="../x.git"),)
    assert config.deploy[0].branch == "gh-pages" and config.deploy[0].cname == ""


def test_unknown_key_suggests_the_closest_with_its_line(tmp_path: Path) -> None:
    text = MINIMAL + '[deploy.production]\ntype = "git"\nrepository = "r.git"\nbrnach = "main"\n'
    error = problem(tmp_path, text)
    assert error.message == "[deploy.production] unknown key `brnach`"
    assert error.hint == "did you mean `branch`?"
    assert error.line == 6


def test_a_key_of_another_target_type_is_unknown(tmp_path: Path) -> None:
    text = MINIMAL + '[deploy.vps]\ntype = "rsync"\ndestination = "/srv"\nbucket = "b"\n'
    error = problem(tmp_path, text)
    assert error.message == "[deploy.vps] unknown key `bucket`"
    assert error.line == 6


def test_unknown_type_suggests_the_closest(tmp_path: Path) -> None:
    error = problem(tmp_path, MINIMAL + '[deploy.vps]\ntype = "rsinc"\ndestination = "/srv"\n')
    assert error.message == "[deploy.vps] unknown type 'rsinc'"
    assert error.hint == 'did you mean "rsync"?'
    assert error.line == 4


def test_missing_type_lists_the_types(tmp_path: Path) -> None:
    error = problem(tmp_path, MINIMAL + '[deploy.vps]\ndestination = "/srv"\n')
    assert error.message == "[deploy.vps] needs `type`"
    assert error.hint == 'one of "git", "rsync", "s3", "dir"'
    assert error.line == 3


def test_missing_required_key_points_at_the_table(tmp_path: Path) -> None:
    error = problem(tmp_path, MINIMAL + '\n[deploy.cdn]\ntype = "s3"\nprefix = "blog/"\n')
    assert error.message == "[deploy.cdn] needs `bucket`"
    assert error.line == 4
    assert error.hint is not None and error.hint.startswith("add `bucket = ...`")


def test_wrong_types_are_reported_with_their_lines(tmp_path: Path) -> None:
    text = MINIMAL + '[deploy.p]\ntype = "git"\nrepository = "r.git"\nbranch = 3\ncname = true\n'
    errors = problems(tmp_path, text)
    assert [(e.message, e.line) for e in errors] == [
        ("[deploy.p] branch must be str, not 3", 6),
        ("[deploy.p] cname must be str, not True", 7),
    ]


def test_deploy_must_hold_tables(tmp_path: Path) -> None:
    for text in ('deploy = "git"\n' + MINIMAL, MINIMAL + '[deploy]\ntype = "git"\n'):
        error = problem(tmp_path, text)
        assert error.message == "`deploy` must hold one table per target"


def test_errors_in_several_targets_are_all_reported(tmp_path: Path) -> None:
    text = MINIMAL + (
        '[deploy.a]\ntype = "git"\n\n[deploy.b]\ntype = "dir"\npath = ""\n\n'
        '[deploy.c]\ntype = "s3"\nbucket = "Not_A_Bucket"\n'
    )
    messages = [e.message for e in problems(tmp_path, text)]
    assert messages == [
        "[deploy.a] needs `repository`",
        "[deploy.b] `path` is empty",
        "[deploy.c] 'Not_A_Bucket' is not a valid bucket name",
    ]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('type = "git"\nrepository = "https://jane:ghp_token@github.com/j/j.git"', "password"),
        ('type = "git"\nrepository = "https://ghp_token@github.com/j/j.git"', "password"),
        ('type = "rsync"\ndestination = "rsync://jane:pw@host/module/"', "password"),
        ('type = "s3"\nbucket = "b-1"\nendpoint_url = "https://key:secret@s3.example.com"', "cred"),
        ('type = "rsync"\ndestination = "--rsh=sh -c evil"', "must not start with '-'"),
        ('type = "git"\nrepository = "--upload-pack=evil"', "must not start with '-'"),
        ('type = "git"\nrepository = "r.git"\nbranch = "../main"', "not a valid branch name"),
        ('type = "git"\nrepository = "r.git"\nbranch = "main.lock"', "not a valid branch name"),
        ('type = "git"\nrepository = "r.git"\ncname = "https://blog.example.org"', "host name"),
        ('type = "s3"\nbucket = "b-1"\nprefix = "/blog"', "invalid prefix"),
        ('type = "s3"\nbucket = "b-1"\nprefix = "a/../b"', "invalid prefix"),
        ('type = "s3"\nbucket = "b-1"\nendpoint_url = "s3.example.com"', "http(s) URL"),
        ('type = "s3"\nbucket = "b-1"\nregion = "EU West"', "invalid region"),
    ],
)
def test_bad_values(tmp_path: Path, table: str, message: str) -> None:
    error = problem(tmp_path, MINIMAL + f"[deploy.t]\n{table}\n")
    assert message in error.message


def test_a_secret_is_never_echoed_in_the_error(tmp_path: Path) -> None:
    text = (
        MINIMAL
        + '[deploy.t]\ntype = "s3"\nbucket = "b-1"\nendpoint_url = "ftp://k:s3cr3tT0ken@h"\n'
    )
    error = problem(tmp_path, text)
    assert "s3cr3tT0ken" not in str(error)
    assert "ftp://***@h" in error.message


def test_target_names_are_simple(tmp_path: Path) -> None:
    error = problem(tmp_path, MINIMAL + '[deploy."my site"]\ntype = "dir"\npath = "/srv"\n')
    assert (
        error.message == "[deploy.my site] target name 'my site' must be letters, digits, - and _"
    )


def test_describe_shows_no_credentials() -> None:
    target = GitTarget(name="p", repository="https://jane:tok@example.org/x.git")
    assert describe(target) == "https://***@example.org/x.git, branch gh-pages"
    assert describe(
        S3Target(name="c", bucket="b", prefix="blog/", endpoint_url="https://h.example")
    ) == ("s3://b/blog/ at h.example")
