"""Values kept in the build cache pickle as calls of their classes, and come back equal."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

import cssblog.comments.publish
import cssblog.content
import cssblog.markup
from cssblog.build import build_site
from cssblog.cache import CacheData, cache_file, shard_files
from cssblog.comments.publish import CommentView
from cssblog.pickling import CachedValue
from tests.comment_helpers import comment_file
from tests.conftest import NOW, MakeSite, post

MODULES = (cssblog.content, cssblog.markup, cssblog.comments.publish)


def _cached_classes() -> list[type]:
    found = []
    stack = list(CachedValue.__subclasses__())
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return found


@pytest.mark.parametrize("cls", _cached_classes(), ids=lambda c: c.__qualname__)
def test_every_field_of_a_cached_class_is_an_init_argument(cls: type) -> None:
    names = tuple(f.name for f in dataclasses.fields(cls))
    assert cls.__match_args__ == names  # type: ignore[attr-defined]
    assert all(f.init for f in dataclasses.fields(cls))


def test_a_built_sites_cache_round_trips_equal(make_site: MakeSite) -> None:
    root = make_site({
        "content/posts/hello.md": post("Hello", "2026-01-02", body="Hi [x](other.md).\n"),
        "content/posts/other.md": post("Other", "2026-01-03", body="```python\nx = 1\n```\n"),
        "content/comments/hello/c1.md": comment_file("Ann", "First!"),
        "content/comments/hello/c2.md": comment_file("Ben", "Reply", parent="c1"),
    })  # fmt: skip
    build_site(root, now=NOW)
    data = CacheData("")
    for file in shard_files(cache_file(root / ".cssblog-cache", root / "output")).values():
        for name, value in pickle.loads(file.read_bytes())[2].items():
            setattr(data, name, value)
    kinds = set()
    for memo in (
        data.sources,
        data.markdown,
        data.articles,
        data.comment_sources,
        data.comment_threads,
    ):
        for key, value in memo.items():
            assert pickle.loads(pickle.dumps((key, value))) == (key, value)
            kinds.add(type(value).__name__)
    assert {"Post", "RenderedMarkdown", "tuple"} <= kinds
    assert len(data.articles) == 2 and len(data.article_digests) == 2
    assert len(data.comment_digests) == 2
    views = [v for *_, (_, threads, _) in data.comment_threads.values() for v in threads]
    assert views and all(isinstance(v, CommentView) for v in views)
