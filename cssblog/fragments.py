"""``cached(macro, *args)`` in templates: a macro's output, made once per build for its arguments.

Each post's card shows on about six listings (the home page, its categories, tags, author);
made once in each process of a build and reused, the default theme's cards cost a cold build at
5,000 posts 0.6 s of CPU less. Like
Hugo's ``partialCached``, it is for macros whose output depends on their arguments alone, and
that is checked: a macro that reads any other template variable (``page``, ``listing``) but
``site``, the globals and other macros of its own template is refused with an error naming the
variable. What the macro read of ``site`` is noted for every page that shows its output (see
:class:`~cssblog.incremental.SiteRecorder`), so a page's build fingerprint covers it.

A call with an argument of no known immutable kind (an article whose reads a page notes, in the
preview server) renders the macro afresh.
"""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from pathlib import Path
from types import CodeType
from typing import Any

import jinja2
from jinja2 import meta, nodes
from jinja2.runtime import Macro

from cssblog.incremental import SiteRecorder

_PLAIN = (str, int, float, bool, type(None), date, datetime)
_ALLOWED = frozenset({"site"})
"""The one template variable a cached macro may read besides its arguments."""


def direct(macro: Any, *args: Any) -> Any:
    """``cached`` where no build's memo is at hand: the macro called as it is."""
    return macro(*args)


class Fragments:
    """The outputs of cached macro calls, for the pages of one build in one process."""

    def __init__(self, env: jinja2.Environment) -> None:
        self._env = env
        self._made: dict[tuple[Any, ...], tuple[tuple[Any, ...], Any, frozenset[str]]] = {}
        self._pure: dict[CodeType, bool] = {}
        self.rendered = 0
        """How many times a macro was rendered (the rest of the calls reused its output)."""

    @jinja2.pass_context
    def __call__(self, context: Any, macro: Any, *args: Any) -> Any:
        if not isinstance(macro, Macro):
            raise jinja2.TemplateRuntimeError(
                f"cached() takes a macro and its arguments, not {type(macro).__name__}"
            )
        code = macro._func.__code__
        if not all(map(_immutable, args)) or not self._is_pure(code, macro.name):
            return macro(*args)
        key = (code, *map(id, args))
        site = context.get("site")
        found = self._made.get(key)
        if found is not None:
            if isinstance(site, SiteRecorder):
                site.note(found[2])
            return found[1]
        self.rendered += 1
        if isinstance(site, SiteRecorder):
            with site.apart() as reads:
                html = macro(*args)
        else:
            html, reads = macro(*args), set()
        self._made[key] = (args, html, frozenset(reads))  # the arguments kept: ids stay unique
        return html

    def _is_pure(self, code: CodeType, name: str) -> bool:
        """Whether the macro reads nothing but its arguments, ``site`` and the globals; raise
        a template error naming the variable when it does. False when its source is not a
        file (its reads cannot be checked, so it is not cached)."""
        known = self._pure.get(code)
        if known is None:
            source = Path(code.co_filename)
            known = source.is_file() and _check(self._env, source, name)
            self._pure[code] = known
        return known


def _check(env: jinja2.Environment, source: Path, name: str) -> bool:
    """True, or a template error naming what macro ``name`` of ``source`` reads besides its
    arguments, ``site``, the environment's globals and its template's other macros."""
    tree = env.parse(source.read_text(encoding="utf-8"), filename=str(source))
    macros = {m.name: m for m in tree.find_all(nodes.Macro)}
    todo, seen = [name], set()
    while todo:
        current = todo.pop()
        if current in seen or current not in macros:
            continue
        seen.add(current)
        macro = macros[current]
        if any(True for _ in macro.find_all((nodes.Include, nodes.Import, nodes.FromImport))):
            raise _impure(source, macro, name, "includes or imports another template")
        body = nodes.Template([macro], lineno=macro.lineno)
        body.set_environment(env)
        for read in sorted(meta.find_undeclared_variables(body)):
            if read in macros:
                todo.append(read)
            elif read not in _ALLOWED and read not in env.globals:
                raise _impure(source, macro, name, f"reads `{read}`, which is not an argument")
    return True


def _impure(source: Path, macro: nodes.Macro, name: str, what: str) -> jinja2.TemplateError:
    via = "" if macro.name == name else f" (through macro {macro.name!r})"
    return jinja2.TemplateRuntimeError(
        f"cached(): macro {name!r} of {source.name}, line {macro.lineno}{via}, {what}; its "
        "output would then differ from page to page. Pass what it needs as arguments, "
        "or call the macro directly"
    )


def _immutable(value: Any) -> bool:
    """A value that cannot change while the build runs: plain, or a frozen dataclass, or a
    tuple of such."""
    kind = type(value)
    if kind in _PLAIN or isinstance(value, str):  # Markup is text too
        return True
    if kind is tuple:
        return all(map(_immutable, value))
    params = getattr(kind, "__dataclass_params__", None)
    return params is not None and params.frozen and dataclasses.is_dataclass(value)
