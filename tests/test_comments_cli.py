"""`cssblog comments ...` through Click's CliRunner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from cssblog.cli import main
from tests.comment_helpers import comment_file
from tests.conftest import BASE_CONFIG, MakeSite, post

CONFIG = BASE_CONFIG + '\n[comments]\nmoderation = "first-time"\nreply_within_hours = 48\n'


@pytest.fixture
def site(make_site: MakeSite) -> Path:
    return make_site(
        {
            "content/posts/p.md": post("Open post", "2026-01-01"),
            "content/posts/shut.md": post("Closed post", "2026-01-02", comments="closed"),
        },
        config=CONFIG,
    )


def run(site: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["comments", *args, "--site", str(site)])
    return result.exit_code, result.output


def add(site: Path, body: str, author: str = "Dana", email: str = "dana@example.com", *extra: str):
    return run(site, "add", "p", "--author", author, "--email", email, "--body", body, *extra)


def stored(site: Path) -> list[dict[str, object]]:
    code, out = run(site, "list", "--json")
    assert code == 0, out
    return json.loads(out)


def test_add_moderates_and_writes_one_file(site: Path) -> None:
    code, out = add(site, "Very useful, thank you.")
    assert code == 0, out
    assert "pending (first comment from this email address)" in out
    (only,) = stored(site)
    assert only["status"] == "pending" and only["author"] == "Dana"
    text = Path(str(only["path"])).read_text()
    assert "moderation_note: first comment from this email address" in text


def test_add_refuses_a_duplicate_with_exit_3_and_writes_nothing(site: Path) -> None:
    add(site, "Very useful, thank you.")
    code, out = add(site, "very useful -- thank you!", "dana")
    assert code == 3
    assert "duplicates p/" in out and "nothing was written" in out
    assert len(stored(site)) == 1


def test_add_refuses_closed_and_unknown_posts_and_bad_fields(site: Path) -> None:
    code, out = run(site, "add", "shut", "--author", "A", "--email", "a@b.co", "--body", "x")
    assert code == 1 and "comments are closed on 'shut'" in out
    code, out = run(site, "add", "nope", "--author", "A", "--email", "a@b.co", "--body", "x")
    assert code == 1 and "no post with slug 'nope'" in out
    code, out = add(site, "x", "A", "a@b.co\r\nBcc: x@y.z", "--url", "javascript:alert(1)")
    assert code == 1
    assert "not an email address" in out and "not an http(s) address" in out
    assert stored(site) == []


def test_reply_needs_an_approved_parent(site: Path) -> None:
    add(site, "Question about escalation?")
    (first,) = stored(site)
    cid = str(first["id"]).split("/")[1]
    code, out = add(site, "Answer", "Jane Writer", "jane@example.org", "--parent", cid)
    assert code == 1 and "no approved comment" in out
    assert run(site, "approve", cid)[0] == 0
    code, out = add(site, "Answer", "Jane Writer", "jane@example.org", "--parent", cid)
    assert code == 0 and "approved (written by a site author)" in out


def test_status_commands_record_why_and_keep_files(site: Path) -> None:
    add(site, "First one")
    add(site, "Second one", "Eve", "eve@example.com")
    first, second = (str(c["id"]) for c in stored(site))
    assert run(site, "approve", first)[0] == 0
    assert run(site, "spam", second.split("/")[1], "--note", "link farm")[0] == 0
    statuses = {c["id"]: (c["status"], c["moderation_note"]) for c in stored(site)}
    assert statuses == {
        first: ("approved", "approved by the moderator"),
        second: ("spam", "link farm"),
    }
    assert run(site, "reject", "no-such-id")[0] == 1


def test_list_show_and_filters(site: Path) -> None:
    add(site, "Readable **body**")
    code, out = run(site, "list")
    assert code == 0 and "pending" in out and "Readable **body**" in out and "1 comment" in out
    assert run(site, "list", "--status", "approved", "--json")[1].strip() == "[]"
    (only,) = stored(site)
    code, out = run(site, "show", str(only["id"]))
    assert "dana@example.com" in out and "Readable **body**" in out


def test_inbox_lists_pending_and_unanswered_oldest_first(site: Path) -> None:
    folder = site / "content/comments/p"
    folder.mkdir(parents=True)
    (folder / "a.md").write_text(comment_file("Old reader", "Unanswered", date="2026-01-02 10:00"))
    (folder / "b.md").write_text(comment_file("Asker", "Answered", date="2026-01-03 10:00"))
    (folder / "c.md").write_text(
        comment_file(
            "Jane Writer", "Reply", email="jane@example.org", parent="b", date="2026-01-04 10:00"
        )
    )
    (folder / "d.md").write_text(
        comment_file("New", "Held", status="pending", date="2026-01-05 10:00")
    )
    code, out = run(site, "inbox", "--json")
    items = json.loads(out)
    assert [(i["id"], i["kind"], i["overdue"]) for i in items] == [
        ("p/d", "pending", True),
        ("p/a", "unanswered", True),
    ]
    code, out = run(site, "inbox")
    assert code == 0 and "OVERDUE" in out and "1 to moderate, 1 to answer" in out


def test_an_answer_on_one_post_does_not_answer_a_comment_of_that_id_on_another(
    site: Path,
) -> None:
    """Comment ids are unique within a post only: ``p/b`` answered leaves ``q/b`` to answer."""
    for slug, body in (("p", "Asked here"), ("q", "Asked there")):
        folder = site / "content/comments" / slug
        folder.mkdir(parents=True)
        (folder / "b.md").write_text(comment_file(f"Asker {slug}", body, date="2026-01-03 10:00"))
    (site / "content/comments/p/c.md").write_text(
        comment_file(
            "Jane Writer", "Reply", email="jane@example.org", parent="b", date="2026-01-04 10:00"
        )
    )
    code, out = run(site, "inbox", "--json")
    assert code == 0
    assert [(i["id"], i["kind"]) for i in json.loads(out)] == [("q/b", "unanswered")]


def test_moderate_applies_rules_to_pending(site: Path) -> None:
    folder = site / "content/comments/p"
    folder.mkdir(parents=True)
    (folder / "ok.md").write_text(comment_file("Returning", "Earlier one", date="2026-01-02 10:00"))
    (folder / "new.md").write_text(comment_file("Returning", "Another thought", status="pending"))
    (folder / "anon.md").write_text(
        comment_file("anonymous", "Hi", email="x@y.z", status="pending")
    )
    code, out = run(site, "moderate")
    assert code == 0
    assert "p/new: approved (returning commenter" in out and "p/anon: rejected" in out
    assert "2 comments changed" in out


def test_dupes_lists_then_marks_without_deleting(site: Path) -> None:
    folder = site / "content/comments/p"
    folder.mkdir(parents=True)
    (folder / "a.md").write_text(comment_file(body="Great post!", date="2026-01-02 10:00"))
    (folder / "b.md").write_text(comment_file(body="great post", date="2026-01-02 10:01"))
    code, out = run(site, "dupes")
    assert "p/a (Dana Reader, approved) kept; copies: b" in out and "--apply" in out
    assert "status: approved" in (folder / "b.md").read_text()
    code, out = run(site, "dupes", "--apply")
    assert code == 0 and "1 marked duplicate" in out
    meta = yaml.safe_load((folder / "b.md").read_text().split("---")[1])
    assert (meta["status"], meta["duplicate_of"]) == ("duplicate", "a")
    assert sorted(p.name for p in folder.iterdir()) == ["a.md", "b.md"]
    assert run(site, "dupes")[1].strip() == "No duplicates."
