"""Thread a post's approved comments: replies under parents, depth capped, cycles broken."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from cssblog.comments.model import Comment


@dataclass(frozen=True, slots=True)
class ThreadProblem:
    """Why a reply could not sit under its parent."""

    comment: Comment
    message: str


@dataclass(frozen=True, slots=True)
class Threaded:
    """Each comment's effective parent (``None``: top level), oldest first."""

    order: tuple[Comment, ...]
    parent_of: dict[str, str | None]
    problems: tuple[ThreadProblem, ...]

    def children(self) -> dict[str | None, list[Comment]]:
        """Comments by effective parent id, oldest first."""
        result: dict[str | None, list[Comment]] = defaultdict(list)
        for comment in self.order:
            result[self.parent_of[comment.id]].append(comment)
        return result


def thread_comments(comments: Sequence[Comment], all_ids: set[str], max_depth: int) -> Threaded:
    """Thread ``comments`` (the published ones of one post).

    ``all_ids`` holds every comment id of the post, published or not, to tell a reply to a
    removed comment from one to a comment that never existed.
    """
    order = tuple(sorted(comments, key=lambda c: (c.date, c.id)))
    shown = {c.id for c in order}
    parent_of: dict[str, str | None] = {}
    problems = []
    for c in order:
        if c.parent is None:
            parent_of[c.id] = None
        elif c.parent == c.id:
            parent_of[c.id] = None
            problems.append(ThreadProblem(c, "comment is its own parent; shown at top level"))
        elif c.parent not in shown:
            parent_of[c.id] = None
            why = "is not approved" if c.parent in all_ids else "does not exist on this post"
            problems.append(ThreadProblem(c, f"parent {c.parent} {why}; shown at top level"))
        else:
            parent_of[c.id] = c.parent
    problems.extend(_break_cycles(order, parent_of))
    _cap_depth(order, parent_of, max_depth)
    return Threaded(order=order, parent_of=parent_of, problems=tuple(problems))


def _break_cycles(
    order: Sequence[Comment], parent_of: dict[str, str | None]
) -> list[ThreadProblem]:
    """Detach the oldest comment of each parent cycle (iteratively, no recursion)."""
    problems = []
    by_id = {c.id: c for c in order}
    state: dict[str, int] = {}  # 1: on the current path, 2: known to reach the top
    for start in order:
        path: list[str] = []
        node: str | None = start.id
        while node is not None and state.get(node) != 2:
            if state.get(node) == 1:
                cycle = path[path.index(node) :]
                oldest = min(cycle, key=lambda i: (by_id[i].date, i))
                parent_of[oldest] = None
                problems.append(
                    ThreadProblem(
                        by_id[oldest],
                        "reply cycle through " + ", ".join(sorted(cycle)) + "; shown at top level",
                    )
                )
                break
            state[node] = 1
            path.append(node)
            node = parent_of[node]
        for visited in path:
            state[visited] = 2
    return problems


def _cap_depth(order: Sequence[Comment], parent_of: dict[str, str | None], max_depth: int) -> None:
    """Re-attach replies deeper than ``max_depth`` to their ancestor at the cap."""
    depth: dict[str, int] = {}
    remaining = list(order)
    while remaining:
        pending = []
        for c in remaining:
            parent = parent_of[c.id]
            if parent is None:
                depth[c.id] = 1
            elif parent in depth:
                ancestor: str | None = parent
                while ancestor is not None and depth[ancestor] >= max_depth:
                    ancestor = parent_of[ancestor]
                parent_of[c.id] = ancestor
                depth[c.id] = depth[ancestor] + 1 if ancestor is not None else 1
            else:
                pending.append(c)
        if len(pending) == len(remaining):
            for c in pending:  # cannot happen once cycles are broken; stay safe
                parent_of[c.id] = None
                depth[c.id] = 1
            break
        remaining = pending
