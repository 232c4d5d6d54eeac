"""Plans, the output a deploy reads, and how failing commands are reported."""

from __future__ import annotations

import sys
from pathlib import Path, PurePosixPath

import pytest

from cssblog.deploy.plan import Change, Entry, compare, scan_output
from cssblog.deploy.process import DeployError, redact, run, stream
from cssblog.errors import CssblogError

P = PurePosixPath


def test_compare_sorts_files_into_added_changed_removed() -> None:
    local = {P("a.html"): Entry(3, "x"), P("b.html"): Entry(4, "y"), P("c.css"): Entry(5, "z")}
    remote = {
        P("a.html"): Entry(3, "x"),
        P("b.html"): Entry(4, "old"),
        P("gone.html"): Entry(9, "g"),
        P(".well-known/x"): Entry(1, "w"),
    }
    plan = compare(local, remote)
    assert plan.added == (Change(P("c.css"), 5),)
    assert plan.changed == (Change(P("b.html"), 4),)
    assert plan.removed == (Change(P("gone.html"), 9),)
    assert plan.unchanged == 1 and plan.kept == ()
    assert plan.bytes_to_send == 9 and not plan.empty and not plan.first


def test_compare_without_delete_keeps_stale_files() -> None:
    plan = compare({P("a"): Entry(1, "x")}, {P("old"): Entry(2, "o")}, delete=False)
    assert plan.removed == () and plan.kept == (Change(P("old"), 2),)
    assert plan.first is False


def test_an_empty_destination_is_a_first_deploy() -> None:
    plan = compare({P("a"): Entry(1, "x")}, {P(".htaccess"): Entry(2, "o")})
    assert plan.first and plan.removed == ()


def test_scan_output_leaves_out_marker_journal_and_dotfiles(tmp_path: Path) -> None:
    out = tmp_path / "output"
    (out / "sub").mkdir(parents=True)
    (out / ".cssblog-output").write_text("marker")
    (out / "index.html").write_text("home")
    (out / "sub/.DS_Store").write_text("junk")
    (out / "sub/page.html").write_text("page")
    (out / "link.html").symlink_to(out / "index.html")
    tree = scan_output(out)
    assert [(f.path, f.size) for f in tree.files] == [(P("index.html"), 4), (P("sub/page.html"), 4)]
    assert tree.size == 8 and tree.root == out.resolve()


def test_scan_output_refuses_a_folder_cssblog_did_not_build(tmp_path: Path) -> None:
    (tmp_path / "output").mkdir()
    with pytest.raises(CssblogError, match="is not a site built by cssblog"):
        scan_output(tmp_path / "output")


def test_scan_output_refuses_an_unfinished_build(tmp_path: Path) -> None:
    out = tmp_path / "output"
    out.mkdir()
    (out / ".cssblog-output").write_text("marker")
    (out / ".cssblog-journal").write_text("{}")
    with pytest.raises(CssblogError, match="did not finish"):
        scan_output(out)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://jane:ghp_123@github.com/j/j.git", "https://***@github.com/j/j.git"),
        ("fatal: 'https://tok@host/x' not found", "fatal: 'https://***@host/x' not found"),
        ("git@github.com:jane/site.git", "git@github.com:jane/site.git"),
        ("rsync://u:p@h/m and s3://k:s@b/", "rsync://***@h/m and s3://***@b/"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_a_failing_command_is_named_with_the_tail_of_its_errors() -> None:
    script = "import sys; [print('line', i, file=sys.stderr) for i in range(30)]; sys.exit(3)"
    args = [sys.executable, "-c", script, "https://user:s3cret@example.org/"]
    with pytest.raises(DeployError) as info:
        run(args, what="the test", hint="try again")
    message = info.value.message
    assert message.startswith("the test failed (exit status 3): ")
    assert "https://***@example.org/" in message and "s3cret" not in message
    lines = message.splitlines()[1:]
    assert lines == [f"  | line {i}" for i in range(10, 30)]
    assert info.value.hint == "try again"


def test_stream_hands_over_lines_and_reports_failures() -> None:
    seen: list[str] = []
    stream([sys.executable, "-c", "print('a'); print('b')"], seen.append, what="echo")
    assert seen == ["a", "b"]
    code = "import sys; print('x' * 100000, file=sys.stderr); sys.exit(2)"
    with pytest.raises(DeployError, match=r"loud failed \(exit status 2\)"):
        stream([sys.executable, "-c", code], seen.append, what="loud")


def test_a_missing_program_says_how_to_install_it() -> None:
    with pytest.raises(DeployError) as info:
        run(["cssblog-no-such-program"], what="x")
    assert info.value.message == "cssblog-no-such-program is not installed (or not on PATH)"
