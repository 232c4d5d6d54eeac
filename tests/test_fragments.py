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


@dataclass(frozen=True, slots=True)
class Box:
    items: object


@dataclass(frozen=True, slots=True)
class Labelled(Card):
    @jinja2.pass_context
    def label(self, context: object) -> str:
        return self.title


class Shown(str):
    pass


MACROS = """\
{% macro card(item) %}<b>{{ item.title }}</b>{{ badge(item) }}{% endmacro %}
{% macro badge(item) %}<i>{{ item.title|lower }}</i>{% endmacro %}
"""
PAGE = """{% import "_m.html" as m with context %}{{ page }}|\
{% for item in items %}{{ cached(m.card, item) }}{% endfor %}"""


def _env(tmp_path: Path, **templates: str) -> jinja2.Environment:
    folder = tmp_path / "templates"
    folder.mkdir(exist_ok=True)
    for name, text in {"_m.html": MACROS, "page.html": PAGE, "other.html": "", **templates}.items():
        (folder / name).write_text(text, encoding="utf-8")
    return make_environment(Theme("t", (folder,), ()))


def _render(
    env: jinja2.Environment, fragments: Fragments, items: tuple[object, ...], page: str = "P1"
) -> str:
    site = SiteRecorder(FakeSite("Blog"), set())
    template = env.get_template("page.html")
    return template.render(site=site, items=items, page=page, cached=fragments)


def test_a_macro_is_rendered_once_for_the_same_arguments(tmp_path: Path) -> None:
    env = _env(tmp_path)
    fragments = Fragments(env)
    a, b, c = Card("A"), Card("B"), Card("C")
    assert _render(env, fragments, (a, b)) == "P1|<b>A</b><i>a</i><b>B</b><i>b</i>"
    assert (
        _render(env, fragments, (b, c, a), "P2")
        == "P2|<b>B</b><i>b</i><b>C</b><i>c</i><b>A</b><i>a</i>"
    )
    assert fragments.rendered == 3


def test_equal_but_distinct_arguments_are_rendered_apart(tmp_path: Path) -> None:
    env = _env(tmp_path)
    fragments = Fragments(env)
    _render(env, fragments, (Card("A"), Card("A")))
    assert fragments.rendered == 2


def test_the_same_macro_text_in_two_templates_makes_two_macros(tmp_path: Path) -> None:
    text = "{% macro card(x) %}{{ x.title }} {{ badge() }}{% endmacro %}\n"
    env = _env(
        tmp_path,
        **{
            "_a.html": text + "{% macro badge() %}from A{% endmacro %}",
            "_b.html": text + "{% macro badge() %}from B{% endmacro %}",
            "page.html": '{% import "_a.html" as a %}{% import "_b.html" as b %}'
            "{% for i in items %}{{ cached(a.card, i) }} / {{ cached(b.card, i) }}{% endfor %}",
        },
    )
    assert _render(env, Fragments(env), (Card("A"),)) == "A from A / A from B"


def test_an_argument_of_no_immutable_kind_is_rendered_each_time(tmp_path: Path) -> None:
    env = _env(tmp_path)
    fragments = Fragments(env)
    watcher = Watcher(Card, frozenset())
    view = watcher.watched(Card("A"))
    for _ in range(2):
        assert _render(env, fragments, (view,)) == "P1|<b>A</b><i>a</i>"
    assert fragments.rendered == 0
    assert watcher.reads == {"title"}  # the page's reads of its articles are still noted


NOSY = {
    "site": ("{% macro card(x) %}{{ site.title }}{% endmacro %}", "reads `site`, not an"),
    "page": ("{% macro card(x) %}{{ x.title }} on {{ page }}{% endmacro %}", "reads `page`"),
    "through": (
        "{% macro card(x) %}{{ nosy(x) }}{% endmacro %}\n"
        "{% macro nosy(x) %}{{ page }}{% endmacro %}",
        "line 1, reads `page` through macro 'nosy' (line 2), not an argument",
    ),
    "global": ("{% macro card(x) %}{{ asset('a.css') }}{% endmacro %}", "reads `asset`"),
    "self": (
        "{% block b %}{{ page }}{% endblock %}{% macro card(x) %}{{ self.b() }}{% endmacro %}",
        "reads `self`",
    ),
    "nested name": (
        "{% macro card(x) %}{{ page() }}{% endmacro %}"
        "{% macro other() %}{% macro page() %}{% endmacro %}{% endmacro %}",
        "reads `page`",
    ),
    "rebound macro": (
        "{% macro card(x) %}{{ badge() }}{% endmacro %}{% macro badge() %}{% endmacro %}"
        "{% set badge = page %}",
        "reads `badge`",
    ),
    "default": ("{% macro card(x, y=page) %}{{ y }}{% endmacro %}", "reads `page`"),
    "include": ('{% macro card(x) %}{% include "other.html" %}{% endmacro %}', "includes"),
}


@pytest.mark.parametrize("case", sorted(NOSY))
def test_a_macro_that_reads_more_than_its_arguments_is_refused(tmp_path: Path, case: str) -> None:
    macros, problem = NOSY[case]
    env = _env(tmp_path, **{"_m.html": macros})
    with pytest.raises(jinja2.TemplateRuntimeError) as caught:
        _render(env, Fragments(env), (Card("A"),))
    message = str(caught.value)
    assert message.startswith("cached(): macro 'card' of _m.html, line 1, ")
    assert problem in message and "Pass what it needs as arguments" in message


@pytest.mark.parametrize(
    "macros",
    [
        # defined twice at the top, or also inside another macro: which one runs is not known
        "{% macro card(x) %}{{ page }}{% endmacro %}{% macro card(x) %}{{ page }}{% endmacro %}",
        "{% macro card(x) %}{{ page }}{% endmacro %}"
        "{% macro other() %}{% macro card(x) %}{% endmacro %}{% endmacro %}",
        "{% for i in [1] %}{% macro card(x) %}{{ page }}{% endmacro %}{% endfor %}",
    ],
)
def test_a_macro_that_cannot_be_checked_is_called_each_time(tmp_path: Path, macros: str) -> None:
    env = _env(tmp_path, **{"_m.html": macros})
    fragments = Fragments(env)
    if "{% for" in macros:  # a macro made in a loop is not exported: call it where it is
        page = macros.replace("{% endfor %}", "{{ cached(card, items[0]) }}{% endfor %}")
        env = _env(tmp_path, **{"page.html": page})
        fragments = Fragments(env)
        assert _render(env, fragments, (Card("A"),), "P1") == "P1"
        assert _render(env, fragments, (Card("A"),), "P2") == "P2"
    else:
        assert _render(env, fragments, (Card("A"),), "P1").endswith("|P1")
        assert _render(env, fragments, (Card("A"),), "P2").endswith("|P2")
    assert fragments.rendered == 0


def test_a_call_block_caller_is_called_each_time(tmp_path: Path) -> None:
    page = (
        "{% macro memo() %}{{ cached(caller) }}{% endmacro %}"
        "{% call memo() %}[{{ page }}]{% endcall %}"
    )
    env = _env(tmp_path, **{"page.html": page})
    fragments = Fragments(env)
    assert _render(env, fragments, (), "P1") == "[P1]"
    assert _render(env, fragments, (), "P2") == "[P2]"


def test_a_macro_not_from_a_file_is_called_directly() -> None:
    env = jinja2.Environment(
        loader=jinja2.DictLoader({"_m.html": MACROS, "page.html": PAGE}), autoescape=True
    )
    fragments = Fragments(env)
    for page in ("P1", "P2"):
        assert _render(env, fragments, (Card("A"),), page) == f"{page}|<b>A</b><i>a</i>"
    assert fragments.rendered == 0


def test_cached_outside_a_build_calls_the_macro(tmp_path: Path) -> None:
    env = _env(tmp_path)
    html = env.get_template("page.html").render(items=(Card("A"),), page="P")
    assert html == "P|<b>A</b><i>a</i>"


@pytest.mark.parametrize(
    "call",
    [
        "cached(page)",
        "cached(m.card, items[0], size='l')",
        "cached(m.card, x=items[0])",
        "cached()",
    ],
)
def test_cached_wants_a_macro_and_its_arguments_by_position(tmp_path: Path, call: str) -> None:
    env = _env(tmp_path, **{"page.html": '{% import "_m.html" as m %}{{ ' + call + " }}"})
    with pytest.raises(jinja2.TemplateRuntimeError, match="by position"):
        _render(env, Fragments(env), (Card("A"),))


LIST = (BUNDLED_THEMES / "default/templates/list.html").read_text(encoding="utf-8")
CACHED_CARD = "cached(m.post_card, post, site.customer_service)"


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
    assert CACHED_CARD in LIST
    cached = _site(make_site)
    direct = _site(make_site, LIST.replace(CACHED_CARD, "m.post_card(post, site.customer_service)"))
    build_site(cached, now=NOW, workers=1)
    build_site(direct, now=NOW, workers=1)
    built = tree(cached / "output")
    assert built == tree(direct / "output")
    assert sum(b"card-cs" in data for data in built.values()) > 5


def test_a_theme_caching_an_impure_macro_gets_an_error_naming_it(make_site: MakeSite) -> None:
    root = _site(
        make_site,
        "{% macro card(post) %}{{ page.title }}{% endmacro %}"
        + LIST.replace(CACHED_CARD, "cached(card, post)"),
    )
    with pytest.raises(ContentErrors) as caught:
        build_site(root, now=NOW, workers=1)
    assert "macro 'card' of list.html, line 1, reads `page`" in str(caught.value)
    assert not (root / "output").exists()


def test_a_build_renders_each_post_card_once(
    make_site: MakeSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default theme's cards are cached: the site's articles are immutable all the way
    down, so each of the 9 posts' cards is rendered once for its 3 to 5 listings."""
    from cssblog import render

    made: list[Fragments] = []

    class Counted(Fragments):
        def __init__(self, env: jinja2.Environment) -> None:
            super().__init__(env)
            made.append(self)

    monkeypatch.setattr(render, "Fragments", Counted)
    root = _site(make_site)
    build_site(root, now=NOW, workers=1)
    assert [f.rendered for f in made] == [9]
    cards = sum(data.count(b'class="card h-entry') for data in tree(root / "output").values())
    assert cards > 3 * 9


@pytest.mark.parametrize(
    "value",
    [
        Box([1]),  # a list inside, which can change between pages
        Box(len),  # a callable inside
        Box((1, (2, [3]))),  # deep inside
        Labelled("t"),  # a method Jinja would hand the page's context
        Shown("A"),  # a subclass of text, which could show itself otherwise
    ],
)
def test_an_argument_that_could_change_or_show_otherwise_is_rendered_each_time(
    tmp_path: Path, value: object
) -> None:
    env = _env(tmp_path, **{"_m.html": "{% macro card(item) %}x{% endmacro %}"})
    fragments = Fragments(env)
    for _ in range(2):
        _render(env, fragments, (value,))
    assert fragments.rendered == 0


def test_deeply_nested_immutable_arguments_are_cached(tmp_path: Path) -> None:
    env = _env(tmp_path, **{"_m.html": "{% macro card(item) %}x{% endmacro %}"})
    fragments = Fragments(env)
    deep: tuple[object, ...] = (Box(Card("A")),)
    for _ in range(100_000):
        deep = (deep,)
    for _ in range(2):
        assert _render(env, fragments, (deep,)) == "P1|x"
    assert fragments.rendered == 1


def test_a_macro_holding_a_block_is_refused(tmp_path: Path) -> None:
    base = (
        "{% macro card(x) %}<{% block inner %}default{% endblock %}{{ x.title }}>{% endmacro %}"
        "{{ cached(card, items[0]) }}"
    )
    env = _env(
        tmp_path,
        **{
            "base.html": base,
            "page.html": '{% extends "base.html" %}{% block inner %}{{ page }}{% endblock %}',
        },
    )
    with pytest.raises(jinja2.TemplateRuntimeError, match="holds a block, which a template"):
        _render(env, Fragments(env), (Card("A"),))


def test_a_parameter_named_caller_is_an_argument(tmp_path: Path) -> None:
    env = _env(
        tmp_path, **{"_m.html": "{% macro card(x, caller=none) %}{{ x.title }}{% endmacro %}"}
    )
    fragments, card = Fragments(env), Card("A")
    for _ in range(2):
        assert _render(env, fragments, (card,)) == "P1|A"
    assert fragments.rendered == 1
