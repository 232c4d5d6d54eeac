"""Moderation rules and de-duplication."""

from __future__ import annotations

import dataclasses

import pytest

from cssblog.comments.dedupe import find_duplicates, is_duplicate, normalise_body
from cssblog.comments.moderation import bundled_blocked_words, moderate
from cssblog.comments.sanitize import CommentRenderer
from cssblog.config import CommentsSection
from tests.comment_helpers import make_comment

AUTHORS = frozenset({"jane@example.org"})
RENDERER = CommentRenderer()


def decide(config: CommentsSection | None = None, history: tuple = (), **fields: object):
    comment = make_comment("new", status="pending", **fields)
    return moderate(
        comment,
        config=config or CommentsSection(),
        author_emails=AUTHORS,
        history=history,
        renderer=RENDERER,
    )


def test_site_author_is_approved() -> None:
    decision = decide(email="JANE@example.org ", body="Thanks!")
    assert (decision.status, decision.note) == ("approved", "written by a site author")


@pytest.mark.parametrize("name", ["", "   ", "\u200b\u200e"])
def test_empty_name_is_rejected(name: str) -> None:
    assert decide(author=name).status == "rejected"
    assert decide(CommentsSection(require_name=False), author=name).status == "pending"


def fullwidth(text: str) -> str:
    """``text`` in full-width forms (NFKC folds them back to ASCII)."""
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


@pytest.mark.parametrize(
    "name", ["anonymous", "ANONYMOUS", "Anonymous\u200b", fullwidth("anonymous")]
)
def test_blocked_names_are_rejected_in_any_disguise(name: str) -> None:
    decision = decide(author=name)
    assert decision.status == "rejected" and "is blocked" in decision.note


def test_too_many_links_are_held_with_the_reason() -> None:
    body = "See https://a.example and <https://b.example> and [c](https://c.example)."
    decision = decide(body=body.replace("https://a.example", "[a](https://a.example)"))
    assert decision.status == "pending"
    assert "3 links (more than max_links = 2)" in decision.note
    assert decide(CommentsSection(max_links=3), body=body).status == "pending"
    assert "links" not in decide(CommentsSection(max_links=3), body=body).note


def test_blocked_words_hold_as_whole_words_only() -> None:
    assert "blocked words: shit" in decide(body="This is SHIT.").note
    assert "blocked" not in decide(body="Shitake mushrooms and a Scunthorpe trip.").note
    custom = CommentsSection(blocked_words=("refund",))
    assert "blocked words: refund" in decide(custom, body="Give me a Refund now").note
    assert "fuck" in bundled_blocked_words()


def test_several_spam_signals_make_spam() -> None:
    body = "BUY CHEAP WATCHES [HERE](https://x.example) [NOW](https://y.example) [!](https://z.example)"
    decision = decide(body=body, author="www.cheap.example")
    assert decision.status == "spam"
    assert "a link in the name" in decision.note and "written in capitals" in decision.note


def test_moderation_modes() -> None:
    approved_before = make_comment("old", status="approved", email="DANA@example.com")
    assert decide(CommentsSection(moderation="none")).status == "approved"
    assert decide(CommentsSection(moderation="all"), history=(approved_before,)).status == "pending"
    first = decide(CommentsSection(moderation="first-time"))
    assert (first.status, first.note) == ("pending", "first comment from this email address")
    returning = decide(CommentsSection(moderation="first-time"), history=(approved_before,))
    assert returning.status == "approved"
    rejected_before = dataclasses.replace(approved_before, status="rejected")
    assert decide(history=(rejected_before,)).status == "pending"


def test_normalisation_ignores_case_space_punctuation_markdown_and_unicode_form() -> None:
    same = [
        "Great post!",
        "great  post ",
        "**Great** post.",
        "GREAT POST",
        fullwidth("Great") + " post",
    ]
    assert {normalise_body(s) for s in same} == {"great post"}
    assert normalise_body("Cafe\u0301 time") == normalise_body("Caf\u00e9 time")


def test_duplicates_need_same_post_and_same_person() -> None:
    a = make_comment("a", body="Great post!", minute=1)
    assert is_duplicate(
        a, make_comment("b", body="great  post", author="DANA", email="other@x.org"), 0.9
    )
    assert is_duplicate(
        a, make_comment("c", body="Great post", author="Someone", email="dana@example.com"), 0.9
    )
    assert not is_duplicate(
        a, make_comment("d", body="Great post", author="Other", email="o@x.org"), 0.9
    )
    assert not is_duplicate(a, make_comment("e", body="Great post", post_slug="q"), 0.9)


def test_near_duplicates_by_threshold() -> None:
    a = make_comment("a", body="Thank you for this guide, it helped our whole team this week")
    b = make_comment("b", body="Thank you for this guide, it helped our whole team this month")
    assert is_duplicate(a, b, 0.9)
    assert not is_duplicate(a, b, 0.99)


def test_groups_keep_the_earliest_approved_copy() -> None:
    first = make_comment("a", body="Same words", status="pending", minute=1)
    second = make_comment("b", body="same words!", status="approved", minute=2)
    third = make_comment("c", body="Same words.", status="approved", minute=3)
    spam = make_comment("d", body="Same words", status="spam", minute=4)
    (group,) = find_duplicates([third, spam, first, second], 0.9)
    assert group.keep.id == "b"
    assert [c.id for c in group.copies] == ["a", "c"]
