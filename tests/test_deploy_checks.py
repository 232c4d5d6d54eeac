"""The publish check: drafts, unapproved comments and addresses never leave the machine."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cssblog.build import build_site
from cssblog.deploy.process import DeployError
from cssblog.errors import CssblogError
from tests.comment_helpers import comment_file
from tests.conftest import BASE_CONFIG, NOW, MakeSite, post, tree
from tests.deploy_helpers import (
    COMMENT_BODY,
    COMMENT_ID,
    SITE_FILES,
    deploy_site,
    plan,
    publish,
)

DIR = '[deploy.folder]\ntype = "dir"\npath = "../www"\n'
COMMENT = "content/comments/first/" + COMMENT_ID + ".md"


def checked(make_site: MakeSite, **files: str | bytes) -> tuple[Path, list[str], list[str]]:
    root = deploy_site(make_site, DIR, **files)
    return root, *messages(root)


def messages(root: Path) -> tuple[list[str], list[str]]:
    check = plan(root).check
    return [str(e) for e in check.errors], [str(w) for w in check.warnings]


def test_a_normal_site_passes(make_site: MakeSite) -> None:
    root, errors, warnings = checked(make_site)
    assert errors == [] and warnings == []
    check = plan(root).check
    assert check.passed and check.files == len(tree(root / "output")) - 1


def test_a_draft_built_into_the_output_is_caught_and_nothing_published(
    make_site: MakeSite,
) -> None:
    root = deploy_site(
        make_site,
        DIR,
        **{"content/posts/2026-03-01-secret.md": post("Secret plans", "2026-03-01", draft=True)},
    )
    assert plan(root).check.passed  # the normal build leaves it out
    build_site(root, now=NOW, drafts=True)  # as a preview build into output/ would
    planned = plan(root)
    [error] = planned.check.errors
    assert error.message == "draft would be published at /2026/03/secret/"
    assert error.path == Path("content/posts/2026-03-01-secret.md")
    with pytest.raises(DeployError, match="publish check failed"):
        publish(root, planned)
    assert not (root.parent / "www").exists()


def test_a_future_post_is_caught(make_site: MakeSite) -> None:
    future = {"content/posts/2027-05-01-soon.md": post("Coming soon", "2027-05-01")}
    root = deploy_site(make_site, DIR, **future)
    build_site(root, now=NOW, drafts=True)
    errors, _ = messages(root)
    assert errors == [
        "content/posts/2027-05-01-soon.md: future post (not due yet) would be published at "
        "/2027/05/soon/\n  hint: deploy builds without drafts: leave out --no-build, or run "
        "`cssblog build` without --drafts"
    ]


def test_a_draft_page_is_caught(make_site: MakeSite) -> None:
    page = {"content/pages/plans.md": '---\ntitle: "Plans"\ndraft: true\n---\nSoon.\n'}
    root = deploy_site(make_site, DIR, **page)
    build_site(root, now=NOW, drafts=True)
    errors, _ = messages(root)
    assert [e.splitlines()[0] for e in errors] == [
        "content/pages/plans.md: draft would be published at /plans/"
    ]


def test_a_link_to_a_scheduled_post_is_a_warning(make_site: MakeSite) -> None:
    files = {
        "content/posts/2027-05-01-soon.md": post("Coming soon", "2027-05-01"),
        "content/posts/2026-03-01-teaser.md": post(
            "Teaser", "2026-03-01", "Read [what is next](/2027/05/soon/).\n"
        ),
    }
    _, errors, warnings = checked(make_site, **files)
    assert errors == []
    assert warnings == [
        "content/posts/2027-05-01-soon.md: 'Coming soon' is not published, but "
        "2026/03/teaser/index.html (and 4 more) links to it\n"
        "  hint: the link leads nowhere until it is published"
    ]


def unapprove(root: Path, status: str = "pending") -> None:
    path = root / COMMENT
    path.write_text(path.read_text().replace("status: approved", f"status: {status}"))


def test_a_comment_unapproved_since_the_last_build_is_caught(make_site: MakeSite) -> None:
    root = deploy_site(make_site, DIR)
    page = (root / "output/2026/01/first/index.html").read_text()
    assert f'id="comment-{COMMENT_ID}"' in page
    unapprove(root, "spam")
    errors, _ = messages(root)
    assert [e.splitlines()[0] for e in errors] == [
        f"{COMMENT}: comment first/{COMMENT_ID} is spam but would be published in "
        "2026/01/first/index.html"
    ]


def test_an_unapproved_comment_is_found_by_its_text_without_the_anchor(
    make_site: MakeSite,
) -> None:
    root = deploy_site(make_site, DIR)
    unapprove(root)
    for path in (root / "output").rglob("*.*"):  # a theme without the comment-<id> hook
        if path.suffix in (".html", ".xml"):
            text = path.read_text()
            path.write_text(re.sub(r"comment-" + COMMENT_ID, "c", text))
    errors, _ = messages(root)
    assert len(errors) == 1 and "is pending but would be published" in errors[0]


def test_a_comment_feed_entry_is_found(make_site: MakeSite) -> None:
    root = deploy_site(make_site, DIR)
    unapprove(root)
    page = root / "output/2026/01/first/index.html"
    page.write_text(page.read_text().replace(COMMENT_BODY.split()[1], "x"))
    page.write_text(
        re.sub(r'<article class="comment.*?</article>', "", page.read_text(), flags=re.S)
    )
    errors, _ = messages(root)
    assert len(errors) == 1 and "would be published in comments/feed.xml" in errors[0]


def test_a_duplicate_of_an_approved_comment_is_not_a_false_alarm(make_site: MakeSite) -> None:
    duplicate = {
        "content/comments/first/20260110T100500-bbbbbbbbbbbb.md": comment_file(
            "Priya Raman",
            COMMENT_BODY,
            email="priya@example.com",
            date="2026-01-10 10:05",
            status="duplicate",
        )
    }
    root, errors, _ = checked(make_site, **duplicate)
    assert errors == []
    assert plan(root).check.held_back_comments == 1


@pytest.mark.parametrize(
    ("static", "kind"),
    [
        ("Write to priya@example.com", "a commenter's address"),
        ("Write to jane@example.org", "an [[authors]] address"),
        ("Write to JANE@Example.org", "an [[authors]] address"),
        ("Write to someone@elsewhere.example", "an address the site's posts do not give"),
        ("<a href='mailto:priya&#64;example.com'>x</a>", "a commenter's address"),
    ],
)
def test_an_address_in_any_output_file_is_caught(
    make_site: MakeSite, static: str, kind: str
) -> None:
    root, errors, _ = checked(make_site, **{"content/static/contact.txt": "Hello.\n" + static})
    [error] = errors
    address = re.search(r"address (\S+) would", error)
    assert address is not None
    assert error.startswith(f"{root / 'output/contact.txt'}:2: email address ")
    assert f"would be published: {kind}" in error


def test_an_address_in_many_files_is_one_error(make_site: MakeSite) -> None:
    files = {f"content/static/c{i}.txt": "priya@example.com\n" for i in range(3)}
    _, errors, _ = checked(make_site, **files)
    [error] = errors
    assert "(and 2 more files)" in error


def test_addresses_the_author_wrote_into_a_post_are_allowed(make_site: MakeSite) -> None:
    root, errors, _ = checked(make_site)
    about = (root / "output/about/index.html").read_text()
    assert "mailto:hello@blog.example.org" in about
    assert "logo@2x.png" in about
    assert errors == []


def test_an_authors_address_is_refused_even_when_a_post_gives_it(make_site: MakeSite) -> None:
    files = {"content/pages/contact.md": '---\ntitle: "Contact"\n---\nMail jane@example.org.\n'}
    _, errors, _ = checked(make_site, **files)
    assert len(errors) == 1 and "jane@example.org would be published" in errors[0]


def test_binary_files_are_not_searched(make_site: MakeSite) -> None:
    data = b"\x00\x01 priya@example.com \x00"
    _, errors, _ = checked(make_site, **{"content/static/blob.bin": data})
    assert errors == []


def test_a_removed_post_is_a_warning_not_an_error(make_site: MakeSite) -> None:
    root = deploy_site(make_site, DIR)
    www = root.parent / "www"
    publish(root, plan(root))
    assert (www / "2026/02/second/index.html").is_file()
    (root / "content/posts/2026-02-07-second.md").unlink()
    build_site(root, now=NOW)
    errors, warnings = messages(root)
    assert errors == []
    assert "/2026/02/second/ was published and will be removed" in warnings
    assert "/tag/tone/ was published and will be removed" in warnings


def test_content_errors_stop_the_check(make_site: MakeSite) -> None:
    root = deploy_site(make_site, DIR)
    (root / "content/posts/bad.md").write_text("---\ntitle: [\n---\n")
    with pytest.raises(CssblogError):
        plan(root)


def test_an_address_in_the_configuration_is_allowed(make_site: MakeSite) -> None:
    config = (
        BASE_CONFIG.replace(
            'bio = "Jane runs a **support** team."', 'bio = "Find me at @jane@social.example.net."'
        )
        + "\n"
        + DIR
    )
    root = make_site(SITE_FILES, config=config)
    build_site(root, now=NOW)
    assert "jane@social.example.net" in (root / "output/2026/01/first/index.html").read_text()
    assert plan(root).check.errors == ()


def test_a_readers_address_in_an_approved_comment_is_caught(make_site: MakeSite) -> None:
    body = {COMMENT: comment_file("Priya Raman", "Write to me: priya.r@mail.example.net, thanks!")}
    _, errors, _ = checked(make_site, **body)
    assert len(errors) == 1
    assert "priya.r@mail.example.net would be published" in errors[0]
