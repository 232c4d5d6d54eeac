"""``cached(macro, *args)``: a macro's output made once per build, and only for pure macros."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import jinja2
import pytest

from cssblog.build import build_site
from cssblog.errors import ContentErrors
from cssblog.fragments import Fragments
from cssblog.incremental import SiteRecorder
from cssblog.reads import Watcher
from cssblog.theme import BUNDLED_THEMES, Theme, make_environment
from tests.conftest import NOW, MakeSite, post, tree


@dataclass(frozen=True, slots=True)
class Card:
    title: str


@dataclass(frozen=True, slots=True)
class FakeSite:
    title: str
    motto: str


MACROS = """\
{% macro card(item) %}<b>{{ item.title }}</b>{{ badge() }}{% endmacro %}
{% macro badge() %}<i>{{ site.title }}</i>{% endmacro %}
{% macro nosy(item) %}{{ item.title }} on {{ page }}{% endmacro %}
{% macro sneaky(item) %}{{ nosy(item) }}{% endmacro %}
{% macro including(item) %}{% include "other.html" %}{% endmacro %}
"""
PAGE = """{% import "_m.html" as m with context %}{{ site.motto }}|\
{% for item in items %}{{ cached(m.card, item) }}{% endfor %}"""


def _env(tmp_path: Path, **templates: str) -> jinja2.Environment:
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    for name, text in {"_m.html": MACROS, "page.html": PAGE, "other.html": "", **templates}.items():
        (folder / name).write_text(text, encoding="utf-8")
    return make_environment(Theme("t", (folder,), ()))


def _render(
    env: jinja2.Environment,
    fragments: Fragments,
    items: tuple[object, ...],
    name: str = "page.html",
) -> tuple[str, set[str]]:
    used: set[str] = set()
    site = SiteRecorder(FakeSite("Blog", "Hi"), used)
    html = env.get_template(name).render(site=site, items=items, page="P", cached=fragments)
    return html, used


def test_a_macro_is_rendered_once_for_the_same_arguments(tmp_path: Path) -> None:
    env = _env(tmp_path)
    fragments = Fragments(env)
    a, b, c = Card("A"), Card("B"), Card("C")
    first, _ = _render(env, fragments, (a, b))
    second, _ = _render(env, fragments, (b, c, a))
    assert first == "Hi|<b>A</b><i>Blog</i><b>B</b><i>Blog</i>"
    assert second == "Hi|<b>B</b><i>Blog</i><b>C</b><i>Blog</i><b>A</b><i>Blog</i>"
    assert fragments.rendered == 3


def test_what_a_cached_macro_read_of_the_site_counts_for_every_page_showing_it(
    tmp_path: Path,
) -> None:
    env = _env(tmp_path, **{"bare.html": PAGE.replace("{{ site.motto }}|", "")})
    fragments = Fragments(env)
    card = Card("A")
    _, first = _render(env, fragments, (card,))
    _, second = _render(env, fragments, (card,), "bare.html")  # reuses the card
    assert first == {"motto", "title"}
    assert second == {"title"}
    assert fragments.rendered == 1


def test_equal_but_distinct_arguments_are_rendered_apart(tmp_path: Path) -> None:
    env = _env(tmp_path)
    fragments = Fragments(env)
    _render(env, fragments, (Card("A"), Card("A")))
    assert fragments.rendered == 2


def test_an_argument_of_no_immutable_kind_is_rendered_each_time(tmp_path: Path) -> None:
    env = _env(tmp_path)
    fragments = Fragments(env)
    watcher = Watcher(Card, frozenset())
    view = watcher.watched(Card("A"))
    for _ in range(2):
        html, _ = _render(env, fragments, (view,))
        assert html == "Hi|<b>A</b><i>Blog</i>"
    assert fragments.rendered == 0
    assert watcher.reads == {"title"}  # the page's reads of its articles are still noted


@pytest.mark.parametrize(
    ("macro", "problem"),
    [
        ("nosy", "macro 'nosy' of _m.html, line 3, reads `page`, which is not an argument"),
        ("sneaky", "macro 'sneaky' of _m.html, line 3 (through macro 'nosy'), reads `page`"),
        ("including", "macro 'including' of _m.html, line 5, includes or imports"),
    ],
)
def test_a_macro_that_reads_more_than_its_arguments_is_refused(
    tmp_path: Path, macro: str, problem: str
) -> None:
    env = _env(tmp_path, **{"page.html": PAGE.replace("m.card", f"m.{macro}")})
    with pytest.raises(jinja2.TemplateRuntimeError) as caught:
        _render(env, Fragments(env), (Card("A"),))
    assert problem in str(caught.value)
    assert "Pass what it needs as arguments" in str(caught.value)


def test_a_macro_not_from_a_file_is_called_directly() -> None:
    env = jinja2.Environment(
        loader=jinja2.DictLoader({"_m.html": MACROS, "page.html": PAGE}), autoescape=True
    )
    fragments = Fragments(env)
    for _ in range(2):
        html, _ = _render(env, fragments, (Card("A"),))
        assert html == "Hi|<b>A</b><i>Blog</i>"
    assert fragments.rendered == 0


def test_cached_outside_a_build_calls_the_macro(tmp_path: Path) -> None:
    env = _env(tmp_path)
    site = SiteRecorder(FakeSite("Blog", "Hi"), set())
    html = env.get_template("page.html").render(site=site, items=(Card("A"),))
    assert html == "Hi|<b>A</b><i>Blog</i>"


def test_cached_wants_a_macro(tmp_path: Path) -> None:
    env = _env(tmp_path, **{"page.html": "{{ cached(site.title) }}"})
    with pytest.raises(jinja2.TemplateRuntimeError, match="takes a macro"):
        _render(env, Fragments(env), ())


def _site(make_site: MakeSite, list_html: str | None = None) -> Path:
    files = {
        f"content/posts/2026-01-{n:02d}-p{n}.md": post(
            f"Post {n}",
            f"2026-01-{n:02d} 10:00",
            categories=["Customer Service"] if n % 2 else ["Notes"],
            tags=["a", "b"] if n % 3 else ["a"],
        )
        for n in range(1, 10)
    }
    if list_html is not None:
        files["themes/default/templates/list.html"] = list_html
    return make_site(files, name="direct" if list_html is not None else "cached")


def test_a_site_with_cached_cards_is_the_site_with_cards_called_directly(
    make_site: MakeSite,
) -> None:
    bundled = (BUNDLED_THEMES / "default/templates/list.html").read_text(encoding="utf-8")
    assert "cached(m.post_card, post)" in bundled
    cached = _site(make_site)
    direct = _site(make_site, bundled.replace("cached(m.post_card, post)", "m.post_card(post)"))
    build_site(cached, now=NOW, workers=1)
    build_site(direct, now=NOW, workers=1)
    built = tree(cached / "output")
    assert built == tree(direct / "output")
    assert sum(b"card-cs" in data for data in built.values()) > 5


def test_a_theme_caching_an_impure_macro_gets_an_error_naming_it(make_site: MakeSite) -> None:
    bundled = (BUNDLED_THEMES / "default/templates/list.html").read_text(encoding="utf-8")
    root = _site(
        make_site,
        "{% macro card(post) %}{{ page.title }}{% endmacro %}"
        + bundled.replace("cached(m.post_card, post)", "cached(card, post)"),
    )
    with pytest.raises(ContentErrors) as caught:
        build_site(root, now=NOW, workers=1)
    assert "macro 'card' of list.html, line 1, reads `page`" in str(caught.value)
    assert not (root / "output").exists()
