"""``cached(macro, *args)`` in templates: a macro's output, made once per build for its arguments.

Each post's card shows on about six listings (the home page, its categories, tags, author);
made once in each process of a build and reused, the default theme's cards cost a cold build at
5,000 posts 0.6 s of CPU less. Like Hugo's ``partialCached``, it is for macros whose output
depends on their arguments alone, and that is checked: a cached macro may read nothing but its
arguments and the other macros of its template (under the same rule). It then reads nothing the
page's own template does not hand it, and what the page reads to do so is noted for the page's
build fingerprint as ever. A macro that reads any other variable (``site``, ``page``, even a
global, which a page could shadow), includes a template or holds a block (which a template
extending its own could override) is refused with an error naming it; one that cannot be
checked (not defined once at the top of a template file, such as ``caller``) is called as it is.

A call with an argument that is not immutable all the way down (an article whose reads a page
notes, in the preview server; a frozen dataclass holding a list) renders the macro afresh.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path, PurePath
from types import CodeType
from typing import Any

import jinja2
from jinja2 import meta, nodes
from jinja2.runtime import Macro
from markupsafe import Markup

from cssblog.incremental import frozen_fields

_PLAIN = (str, Markup, int, float, bool, type(None), date, datetime)
"""Exactly these types (a subclass of text could show itself otherwise on every page)."""
_SPECIAL = frozenset({"self", "caller"})
"""Names Jinja gives a template or macro that no analysis of free names reports."""
_BINDING = (nodes.Import, nodes.FromImport, nodes.Macro)


def direct(*given: Any, **named: Any) -> Any:
    """``cached`` where no build's memo is at hand: the macro called as it is."""
    if not given or not callable(given[0]):
        raise jinja2.TemplateRuntimeError("cached() takes a macro and its arguments")
    return given[0](*given[1:], **named)


class Fragments:
    """The outputs of cached macro calls, for the pages of one build in one process."""

    def __init__(self, env: jinja2.Environment) -> None:
        self._env = env.overlay()
        self._env.globals = {}  # so that the check sees the globals a macro reads
        self._made: dict[tuple[int, ...], tuple[CodeType, tuple[Any, ...], Any]] = {}
        self._pure: dict[int, tuple[CodeType, bool]] = {}
        self._frozen: dict[int, tuple[Any, bool]] = {}
        self._kinds: dict[type, tuple[str, ...]] = {}
        self.rendered = 0
        """How many times a macro was rendered (the rest of the calls reused its output)."""

    def __call__(self, *given: Any, **named: Any) -> Any:
        if named or not given or not isinstance(given[0], Macro):
            raise jinja2.TemplateRuntimeError(
                "cached() takes a macro and its arguments by position, "
                "e.g. cached(m.post_card, post, site.customer_service)"
            )
        macro, args = given[0], given[1:]
        code = macro._func.__code__
        # Keyed by identity: the code (equal code objects of two templates are distinct
        # macros) and the arguments, all kept in the value so that no id is reused. A key
        # found is a call whose arguments and macro were checked when it was made.
        key = (id(code), *map(id, args))
        found = self._made.get(key)
        if found is not None:
            return found[2]
        if not all(map(self._immutable, args)) or not self._is_pure(code, macro.name):
            return macro(*args)
        self.rendered += 1
        html = macro(*args)
        self._made[key] = (code, args, html)
        return html

    def _immutable(self, value: Any) -> bool:
        """Whether ``value`` cannot change, nor show differently, while the build runs: plain
        values, and tuples and frozen dataclasses of nothing else, all the way down, the
        dataclasses with no method that Jinja would hand the page's context. Values found so
        are known by identity from then on."""
        if type(value) in _PLAIN:
            return True
        frozen, kinds = self._frozen, self._kinds
        known = frozen.get(id(value))
        if known is not None:
            return known[1]
        seen: list[Any] = []
        todo = [value]
        while todo:
            item = todo.pop()
            kind = type(item)
            if kind in _PLAIN or isinstance(item, PurePath):
                continue
            if kind is tuple:
                todo.extend(item)
                continue
            if id(item) in frozen and frozen[id(item)][1]:
                continue
            if kind not in kinds:
                kinds[kind] = frozen_fields(kind) if _asks_nothing(kind) else ()
            names = kinds[kind]
            if not names:
                frozen[id(value)] = (value, False)
                return False
            seen.append(item)
            todo.extend(getattr(item, name) for name in names)
        for item in (*seen, value):
            frozen[id(item)] = (item, True)  # the values kept: their ids stay unique
        return True

    def _is_pure(self, code: CodeType, name: str) -> bool:
        """Whether the macro reads nothing but its arguments and its template's macros; raise
        a template error naming what it reads when it reads more. False when it cannot be
        checked: its source is not a file, or it is not defined once at the top of it."""
        known = self._pure.get(id(code))
        if known is None:
            source = Path(code.co_filename)
            known = self._pure[id(code)] = (
                code,
                source.is_file() and _check(self._env, source, name),
            )
        return known[1]


def _check(env: jinja2.Environment, source: Path, name: str) -> bool:
    """True when macro ``name``, defined once at the top of ``source``, reads nothing but its
    arguments and macros of ``source`` that do the same; False when it is not so defined; a
    template error naming what it reads otherwise."""
    tree = env.parse(source.read_text(encoding="utf-8"), filename=str(source))
    top = [n for n in tree.body if isinstance(n, nodes.Macro)]
    names = [m.name for m in top]
    # A name bound anywhere else (set, for, import, a nested macro) may not be the macro.
    elsewhere = {n.name for n in tree.find_all(nodes.Name) if n.ctx == "store"}
    for node in tree.find_all(_BINDING):
        if isinstance(node, nodes.Macro) and all(node is not m for m in top):
            elsewhere.add(node.name)
        elif isinstance(node, nodes.Import):
            elsewhere.add(node.target)
        elif isinstance(node, nodes.FromImport):
            elsewhere.update(n if isinstance(n, str) else n[-1] for n in node.names)
    macros = {m.name: m for m in top if names.count(m.name) == 1 and m.name not in elsewhere}
    if name not in macros:
        return False
    todo, seen = [name], set()
    while todo:
        macro = macros[todo.pop()]
        if macro.name in seen:
            continue
        seen.add(macro.name)
        via = "" if macro.name == name else f" through macro {macro.name!r} (line {macro.lineno})"
        if any(True for _ in macro.find_all((nodes.Include, nodes.Import, nodes.FromImport))):
            raise _impure(source, macros[name], f"includes or imports another template{via}")
        if any(True for _ in macro.find_all(nodes.Block)):
            raise _impure(
                source, macros[name], f"holds a block, which a template can override{via}"
            )
        body = nodes.Template([macro], lineno=macro.lineno)
        body.set_environment(env)
        special = {
            n.name for n in macro.find_all(nodes.Name) if n.name in _SPECIAL and n.ctx == "load"
        }
        for read in sorted(meta.find_undeclared_variables(body) | special):
            if read not in macros:
                raise _impure(source, macros[name], f"reads `{read}`{via}, not an argument")
            todo.append(read)
    return True


def _impure(source: Path, macro: nodes.Macro, what: str) -> jinja2.TemplateError:
    return jinja2.TemplateRuntimeError(
        f"cached(): macro {macro.name!r} of {source.name}, line {macro.lineno}, {what}; its "
        "output could then differ from page to page. Pass what it needs as arguments, "
        "or call the macro directly"
    )


def _asks_nothing(kind: type) -> bool:
    """No method of ``kind`` asks Jinja for the context, the environment or the evaluation
    context (``pass_context`` and its kin), through which it could read the page."""
    return not any(hasattr(getattr(kind, name, None), "jinja_pass_arg") for name in dir(kind))
