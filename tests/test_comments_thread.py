"""Threading edge cases (RELIABILITY §2c, C-01 to C-05)."""

from __future__ import annotations

from cssblog.comments.thread import thread_comments
from tests.comment_helpers import make_comment


def parents(threaded: object) -> dict[str, str | None]:
    return dict(threaded.parent_of)  # type: ignore[attr-defined]


def test_replies_nest_under_parents_oldest_first() -> None:
    a = make_comment("a", minute=1)
    b = make_comment("b", parent="a", minute=3)
    c = make_comment("c", parent="a", minute=2)
    threaded = thread_comments([b, a, c], {"a", "b", "c"}, max_depth=4)
    assert [x.id for x in threaded.children()["a"]] == ["c", "b"]
    assert threaded.problems == ()


def test_c01_missing_parent_goes_top_level_with_a_problem() -> None:
    reply = make_comment("r", parent="ghost")
    threaded = thread_comments([reply], {"r"}, max_depth=4)
    assert parents(threaded) == {"r": None}
    assert "does not exist" in threaded.problems[0].message


def test_c02_unapproved_parent_goes_top_level() -> None:
    reply = make_comment("r", parent="held")
    threaded = thread_comments([reply], {"r", "held"}, max_depth=4)
    assert parents(threaded) == {"r": None}
    assert "is not approved" in threaded.problems[0].message


def test_c03_self_parent_and_cycles_are_broken_deterministically() -> None:
    me = make_comment("me", parent="me")
    a = make_comment("a", parent="c", minute=1)
    b = make_comment("b", parent="a", minute=2)
    c = make_comment("c", parent="b", minute=3)
    threaded = thread_comments([me, c, b, a], {"me", "a", "b", "c"}, max_depth=10)
    assert parents(threaded) == {"me": None, "a": None, "b": "a", "c": "b"}
    assert len(threaded.problems) == 2
    assert any("cycle" in p.message for p in threaded.problems)


def test_c04_a_thousand_level_chain_is_capped_without_recursion() -> None:
    chain = [make_comment("n0")] + [
        make_comment(
            f"n{i}",
            parent=f"n{i - 1}",
            date=make_comment("x").date.replace(second=i % 60, minute=i // 60),
        )
        for i in range(1, 1000)
    ]
    threaded = thread_comments(chain, {c.id for c in chain}, max_depth=4)
    depth = {}
    for c in threaded.order:
        parent = threaded.parent_of[c.id]
        depth[c.id] = 1 if parent is None else depth[parent] + 1
    assert max(depth.values()) == 4
    assert depth["n3"] == 4 and threaded.parent_of["n3"] == "n2"
    assert threaded.parent_of["n4"] == "n2"  # attached at the cap, beside its parent
    assert sum(1 for d in depth.values() if d == 4) == 997


def test_depth_one_means_flat() -> None:
    a = make_comment("a")
    b = make_comment("b", parent="a", minute=1)
    threaded = thread_comments([a, b], {"a", "b"}, max_depth=1)
    assert parents(threaded) == {"a": None, "b": None}
