"""Noting which fields of its articles a page reads."""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from typing import Any

import jinja2
import pytest

from cssblog import comments, render, site
from cssblog.reads import ALL, ArticleView, Watcher


@dataclass(frozen=True)
class Item:
    title: str
    body: str


@dataclass(frozen=True)
class Shelf:
    name: str
    items: tuple[Item, ...]


def _render(source: str, **context: Any) -> tuple[str, set[str]]:
    watcher = Watcher(Item, frozenset())
    watched = {name: watcher.watched(value) for name, value in context.items()}
    html = jinja2.Environment(autoescape=True).from_string(source).render(**watched)
    return html, watcher.reads


def test_the_fields_a_template_reads_are_noted() -> None:
    shelf = Shelf("s", (Item("A", "aaa"), Item("B", "bbb")))
    html, reads = _render("{% for i in shelf.items %}{{ i.title }};{% endfor %}", shelf=shelf)
    assert html == "A;B;"
    assert reads == {"title"}
    _, reads = _render("{{ shelf.items|map(attribute='body')|join }}", shelf=shelf)
    assert reads == {"body"}
    html, reads = _render("{{ item.missing is defined }}", item=Item("A", "aaa"))
    assert html == "False" and reads == set()  # no such field: nothing to compare later


@pytest.mark.parametrize(
    "source",
    [
        "{{ item }}",  # printed whole
        "{{ item == other }}",
        "{{ item in [other] }}",
        "{{ item|string }}",
        "{{ item|pprint }}",
        "{{ {item: 1}|length }}",  # hashed
        "{{ item.__class__ and item.__repr__() }}",
    ],
)
def test_using_an_article_whole_counts_as_reading_all_of_it(source: str) -> None:
    _, reads = _render(source, item=Item("A", "aaa"), other=Item("A", "aaa"))
    assert ALL in reads


def test_a_view_behaves_like_its_article() -> None:
    a = Item("A", "aaa")
    watcher = Watcher(Item, frozenset())
    view = watcher.watched(a)
    assert isinstance(view, ArticleView)
    assert view == a and view == watcher.watched(Item("A", "aaa"))
    assert watcher.watched(a) is view  # one view for each article
    assert hash(view) == hash(a) and repr(view) == repr(a)
    nested = watcher.watched(("x", Shelf("s", (a,)), [a]))
    assert nested[1].items[0] is view
    assert ALL in watcher.reads  # a list may hold articles it does not see


def test_values_with_no_articles_are_left_as_they_are() -> None:
    watcher = Watcher(Item, frozenset({Shelf}))
    shelf = Shelf("s", (Item("A", "aaa"),))
    assert watcher.watched(shelf) is shelf  # a leaf: not walked
    value = ("a", 1, None)
    assert Watcher(Item, frozenset()).watched(value) is value


def _types_in(hint: Any) -> set[type]:
    found: set[type] = set()
    for arg in typing.get_args(hint) or (hint,):
        if isinstance(arg, type):
            found.add(arg)
        elif typing.get_args(arg):
            found |= _types_in(arg)
    return found


def test_the_types_left_unwalked_cannot_hold_an_article() -> None:
    """If a field that may hold an article is ever added to one of them, this fails."""
    article, leaves = render.WATCHED
    assert article is site.Article
    namespace = {**vars(site), **vars(comments.publish), **vars(render)}
    for leaf in leaves:
        seen: set[type] = set()
        todo = [leaf]
        while todo:
            kind = todo.pop()
            if kind in seen or not dataclasses.is_dataclass(kind):
                continue
            seen.add(kind)
            hints = typing.get_type_hints(kind, globalns=namespace)
            for hint in hints.values():
                todo.extend(_types_in(hint))
        assert article not in seen, leaf
