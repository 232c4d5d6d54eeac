"""The command line through Click's CliRunner."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from cssblog import __version__
from cssblog.cli import main
from tests.conftest import MakeSite, post


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_version(runner: CliRunner) -> None:
    result = runner.invoke(main, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_init_then_build_gives_a_working_site(runner: CliRunner, tmp_path: Path) -> None:
    site = tmp_path / "mysite"
    result = runner.invoke(main, ["init", str(site)])
    assert result.exit_code == 0, result.output
    assert (site / "cssblog.toml").is_file()
    result = runner.invoke(main, ["build", "--site", str(site)])
    assert result.exit_code == 0, result.output
    assert re.search(r"Built \d+ pages \(1 posts\)", result.output)
    home = (site / "output/index.html").read_text()
    assert "Welcome to your new blog" in home
    assert (site / "output/category/customer-service/feed.xml").is_file()


def test_init_refuses_a_non_empty_folder(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken/notes.txt").write_text("mine")
    result = runner.invoke(main, ["init", str(tmp_path / "taken")])
    assert result.exit_code == 1
    assert "not empty" in result.output
    assert (tmp_path / "taken/notes.txt").read_text() == "mine"


def test_new_writes_a_post_with_front_matter(runner: CliRunner, make_site: MakeSite) -> None:
    root = make_site()
    result = runner.invoke(
        main,
        [
            "new",
            'Saying "no": kindly',
            "--category",
            "Customer Service",
            "--category",
            "Writing",
            "--draft",
            "--site",
            str(root),
        ],
    )
    assert result.exit_code == 0, result.output
    path = Path(result.output.strip())
    assert path.parent == root / "content/posts"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}-saying-no-kindly\.md", path.name)
    meta = yaml.safe_load(path.read_text().split("---")[1])
    assert meta["title"] == 'Saying "no": kindly'
    assert meta["categories"] == ["Customer Service", "Writing"]
    assert meta["draft"] is True
    again = runner.invoke(main, ["new", 'Saying "no": kindly', "--site", str(root)])
    assert again.exit_code == 1 and "already exists" in again.output


def test_build_reports_counts(runner: CliRunner, make_site: MakeSite) -> None:
    root = make_site({"content/posts/a.md": post("A", "2026-01-01")})
    first = runner.invoke(main, ["build", "--site", str(root)])
    assert first.exit_code == 0, first.output
    assert re.search(r"\d+ written, 0 unchanged, 0 removed, 0 warnings", first.output)
    second = runner.invoke(main, ["build", "--site", str(root)])
    assert re.search(r" 0 written, \d+ unchanged", second.output)


def test_build_errors_exit_1_and_list_every_problem(runner: CliRunner, make_site: MakeSite) -> None:
    root = make_site(
        {
            "content/posts/a.md": "---\ntitle: [unclosed\n---\n",
            "content/posts/b.md": "---\ndate: 2026-01-01\n---\n",
            "content/pages/c.md": b"---\ntitle: caf\xe9\n---\n",
        }
    )
    result = runner.invoke(main, ["build", "--site", str(root)])
    assert result.exit_code == 1
    assert "content/posts/a.md:" in result.output
    assert "content/posts/b.md:1: missing `title`" in result.output
    assert "content/pages/c.md:2: file is not UTF-8" in result.output
    assert "3 errors; nothing was written." in result.output
    assert not (root / "output").exists()


def test_config_error_suggests_the_key(runner: CliRunner, make_site: MakeSite) -> None:
    root = make_site(config='[site]\nurl = "https://x.org"\ntitel = "Oops"\n')
    result = runner.invoke(main, ["build", "--site", str(root)])
    assert result.exit_code == 1
    assert "cssblog.toml:3: [site] unknown key `titel`" in result.output
    assert "did you mean `title`?" in result.output


def test_strict_turns_warnings_into_failure(runner: CliRunner, make_site: MakeSite) -> None:
    root = make_site({"content/posts/a.md": post("A", "2026-01-01", body="[x](nope.md)\n")})
    loose = runner.invoke(main, ["build", "--site", str(root)])
    assert loose.exit_code == 0 and "Warning:" in loose.output and "nope.md" in loose.output
    strict = runner.invoke(main, ["build", "--site", str(root), "--strict"])
    assert strict.exit_code == 1


def test_bad_usage_exits_2(runner: CliRunner) -> None:
    assert runner.invoke(main, ["build", "--no-such-flag"]).exit_code == 2
    assert runner.invoke(main, ["frobnicate"]).exit_code == 2


def test_many_warnings_are_summarised_unless_verbose(
    runner: CliRunner, make_site: MakeSite
) -> None:
    root = make_site(
        {
            f"content/posts/p{i}.md": post(f"P{i}", "2026-01-01", body=f"[x](gone{i}.md)\n")
            for i in range(25)
        }
    )
    short = runner.invoke(main, ["build", "--site", str(root)])
    assert short.output.count("Warning:") == 20
    assert "... and 5 more warnings (--verbose shows all)" in short.output
    assert "25 warnings" in short.output
    full = runner.invoke(main, ["build", "--site", str(root), "--verbose"])
    assert full.output.count("Warning:") == 25


def test_a_build_loads_no_other_command_and_every_command_is_listed(make_site: MakeSite) -> None:
    root = make_site({"content/posts/a.md": post("A post", "2026-01-01")})
    script = (
        "import sys; from cssblog.cli import main, LAZY_COMMANDS\n"
        "try:\n    main(['build', '--site', sys.argv[1]])\nexcept SystemExit as end:\n"
        "    assert not end.code, end.code\n"
        "print(sorted(m for m in sys.modules if m in LAZY_COMMANDS.values() "
        "or m in ('cssblog.serve', 'cssblog.deploy.deployment', 'cssblog.intake')))"
    )
    built = subprocess.run(
        [sys.executable, "-c", script, str(root)], capture_output=True, text=True, check=True
    )
    assert (root / "output/index.html").is_file()
    assert built.stdout.strip().splitlines()[-1] == "[]"
    listed = CliRunner().invoke(main, ["--help"]).output
    for name in ("build", "comments", "deploy", "init", "intake", "new", "serve"):
        assert re.search(rf"^  {name} ", listed, re.MULTILINE), name
    assert CliRunner().invoke(main, ["serve", "--help"]).exit_code == 0
    assert CliRunner().invoke(main, ["nonesuch"]).exit_code == 2
