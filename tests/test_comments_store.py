"""Comment files: strict loading, fail-closed status, exclusive create, byte-exact status edits."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from cssblog.comments.model import new_comment_id
from cssblog.comments.store import (
    MAX_COMMENT_BYTES,
    create_comment,
    load_comments,
    parse_comment_source,
    read_comment,
    set_status,
)
from cssblog.errors import CssblogError
from cssblog.sources import SourceFile
from tests.comment_helpers import comment_file, make_comment

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def write(root: Path, slug: str, cid: str, text: str | bytes) -> Path:
    path = root / "content/comments" / slug / f"{cid}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


def test_loads_typed_comments_in_stable_order(tmp_path: Path) -> None:
    write(tmp_path, "p", "b", comment_file("Bea", parent="a"))
    write(tmp_path, "p", "a", comment_file("Al", url="https://al.example"))
    loaded = load_comments(tmp_path, UTC)
    assert [c.id for c in loaded.comments] == ["a", "b"]
    a, b = loaded.comments
    assert (a.author, a.url, a.post_slug, a.key) == ("Al", "https://al.example", "p", "p/a")
    assert b.parent == "a"
    assert a.date == datetime(2026, 1, 10, 10, 0, tzinfo=UTC)
    assert loaded.errors == () and loaded.warnings == ()


@pytest.mark.parametrize("status", [None, "Approved", "yes", "published", "true"])
def test_c12_missing_or_unknown_status_is_pending(tmp_path: Path, status: str | None) -> None:
    write(tmp_path, "p", "a", comment_file(status=status))
    loaded = load_comments(tmp_path, UTC)
    assert loaded.comments[0].status == "pending"
    assert bool(loaded.warnings) == (status is not None)


def test_c13_unknown_keys_are_ignored_with_a_warning(tmp_path: Path) -> None:
    write(tmp_path, "p", "a", comment_file(trusted=True, html=True))
    loaded = load_comments(tmp_path, UTC)
    assert loaded.comments[0].status == "approved"
    assert sorted(w.message for w in loaded.warnings) == [
        "unknown comment key `html` ignored",
        "unknown comment key `trusted` ignored",
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("---\nauthor: A\nstatus: approved\n---\nx\n", "invalid or missing date"),
        (comment_file(date="yesterday"), "invalid or missing date"),
        (comment_file(parent="../../etc"), "`parent` must be a comment id"),
        (comment_file(author=["a"]), "`author` must be text"),
        ("no front matter", "does not start with front matter"),
    ],
)
def test_broken_comment_files_are_errors_naming_the_file(
    tmp_path: Path, text: str, message: str
) -> None:
    write(tmp_path, "p", "bad", text)
    loaded = load_comments(tmp_path, UTC)
    assert loaded.comments == ()
    (error,) = loaded.errors
    assert message in error.message
    assert str(error.path) == "content/comments/p/bad.md"


def test_oversized_comment_file_is_refused_not_truncated(tmp_path: Path) -> None:
    write(tmp_path, "p", "big", comment_file(body="x" * MAX_COMMENT_BYTES))
    (error,) = load_comments(tmp_path, UTC).errors
    assert f"larger than {MAX_COMMENT_BYTES // 1024} KiB" in error.message


def test_invalid_file_name_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "p", "bad name!", comment_file())
    (error,) = load_comments(tmp_path, UTC).errors
    assert "comment id 'bad name!' is not valid" in error.message


def test_dotfiles_and_editor_leftovers_are_not_comments(tmp_path: Path) -> None:
    write(tmp_path, "p", ".a.1234.tmp", comment_file())
    (tmp_path / "content/comments/p/.hidden.md").write_text(comment_file())
    assert load_comments(tmp_path, UTC).comments == ()


def test_new_ids_sort_by_time_and_are_not_guessable() -> None:
    earlier = new_comment_id(NOW)
    later = new_comment_id(NOW.replace(second=1))
    assert earlier < later
    assert new_comment_id(NOW) != new_comment_id(NOW)
    assert len(earlier.split("-")[1]) == 12


def test_create_never_overwrites(tmp_path: Path) -> None:
    comment = make_comment("c1", post_slug="p", body="First")
    stored = create_comment(tmp_path, comment)
    assert stored.path == tmp_path / "content/comments/p/c1.md"
    with pytest.raises(CssblogError, match="already exists"):
        create_comment(tmp_path, make_comment("c1", post_slug="p", body="Second"))
    assert "First" in stored.path.read_text()
    assert [p.name for p in stored.path.parent.iterdir()] == ["c1.md"]  # no temp left


def test_status_edit_keeps_the_body_byte_for_byte(tmp_path: Path) -> None:
    body = "Line one\r\n\r\n  indented `code`   \r\n---\nnot front matter\n\n\n"
    path = write(
        tmp_path, "p", "a", comment_file(status="pending", body="").encode() + body.encode()
    )
    original_body = path.read_bytes().split(b"---\n", 2)[2]
    comment = read_comment(path, Path("x.md"), "p", UTC)[0]
    set_status(comment, "approved", "looks fine", NOW)
    data = path.read_bytes()
    assert data.split(b"---\n", 2)[2] == original_body
    again = read_comment(path, Path("x.md"), "p", UTC)[0]
    assert (again.status, again.moderation_note) == ("approved", "looks fine")
    assert b"moderated_at: '2026-11-23T12:00:00+00:00'" in data
    assert [p.name for p in path.parent.iterdir()] == ["a.md"]


def test_status_edit_is_atomic_when_the_write_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "p", "a", comment_file(status="pending"))
    before = path.read_bytes()
    comment = read_comment(path, Path("x.md"), "p", UTC)[0]

    def fail(self: Path, target: Path) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "replace", fail)
    with pytest.raises(OSError):
        set_status(comment, "approved", "", NOW)
    assert path.read_bytes() == before


def test_hostile_author_names_round_trip_as_names(tmp_path: Path) -> None:
    for index, name in enumerate(
        ["Bob\nstatus: approved", "Eve\r\n---\r\n<script>", "yes", "2024-01-01", "#c", "a: b"]
    ):
        stored = create_comment(
            tmp_path, make_comment(f"h{index}", post_slug="p", author=name, status="pending")
        )
        again = read_comment(stored.path, Path("x.md"), "p", UTC)[0]
        assert (again.author, again.status) == (name, "pending")


@pytest.mark.parametrize("root", ["/srv/blog", "blog", ".", "/"])
def test_a_comment_is_named_below_the_site_as_relative_to_names_it(root: str) -> None:
    site = Path(root)
    location = str(site / "content/comments/a-post/c1.md")
    source = SourceFile("comment", location, "a-post/c1.md", b"---\nauthor: [\n---\n", "d")
    problem = parse_comment_source(source, site, UTC)
    assert isinstance(problem, CssblogError)
    assert problem.path == Path(location).relative_to(site)
    assert problem.path == Path("content/comments/a-post/c1.md")
