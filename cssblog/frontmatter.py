"""Split ``---`` YAML front matter from a Markdown body, strictly and with real line numbers.

A small strict splitter is used instead of python-frontmatter, whose failure modes are silent:
an unclosed ``---`` or a BOM turns the whole file into body, a list or scalar front matter is
dropped, a ``{`` line switches to JSON and duplicate keys keep the last value. Every one of those
is an error here, naming the file and line.

Most front matter is a few ``key: value`` lines of plain text, quoted text, ``YYYY-MM-DD HH:MM``
dates and short ``[a, b]`` lists. Such a block is read directly, as YAML reads it (a property
test holds the two to the same result); anything else, and anything that could be an error, goes
to the YAML parser. At 20,000 files (posts and their comments) that halves the time to parse them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cssblog.errors import CssblogError

MAX_SOURCE_BYTES = 10 * 1024 * 1024
_DELIMITER = "---"


@dataclass(frozen=True, slots=True)
class Document:
    """A source file split into its front matter and body."""

    path: Path
    meta: Mapping[str, Any]
    key_lines: Mapping[str, int]
    body: str
    body_line: int
    raw: Mapping[str, str] = field(default_factory=dict)
    """Each plain value as typed (``yes``, ``1.10``), for hints that quote it back."""

    def line_of(self, key: str) -> int:
        """The line of ``key`` in the file, or the first line when it is absent."""
        return self.key_lines.get(key, 1)


_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when present


class _StrictLoader(_BaseLoader):  # type: ignore[misc]
    """A safe loader that refuses aliases, duplicate keys and impossible dates.

    It parses with libyaml where available (ten times faster than PyYAML's own parser, which
    matters with tens of thousands of comment files); aliases are found by walking the composed
    nodes, since the C parser cannot be hooked while it composes.
    """

    def construct_yaml_timestamp(self, node: Any) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise yaml.MarkedYAMLError(
                problem=f"impossible date {node.value!r} ({exc})", problem_mark=node.start_mark
            ) from exc

    def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool | None):
                raise yaml.MarkedYAMLError(
                    problem="front-matter keys must be plain words",
                    problem_mark=key_node.start_mark,
                )
            if key in seen:
                raise yaml.MarkedYAMLError(
                    problem=f"duplicate key {key!r}", problem_mark=key_node.start_mark
                )
            seen.add(key)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _StrictLoader.construct_yaml_timestamp)


def _refuse_aliases(root: Any) -> None:
    """An alias makes the composer hand out one node twice: refuse any node met again."""
    seen: set[int] = set()
    stack = [(root, root.start_mark)]
    while stack:
        node, where = stack.pop()  # where: the key (or item) that holds this node
        if id(node) in seen:
            raise yaml.MarkedYAMLError(
                problem="YAML aliases (*name) are not allowed in front matter",
                problem_mark=where,
            )
        seen.add(id(node))
        children = []  # in document order; pushed reversed so they are visited in that order
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                children += [(key, key.start_mark), (value, key.start_mark)]
        elif isinstance(node, yaml.SequenceNode):
            children = [(item, node.start_mark) for item in node.value]
        stack.extend(reversed(children))


def _marked_error(
    exc: yaml.MarkedYAMLError, block: str, path: Path, first_line: int
) -> CssblogError:
    """A YAML error with its line in the file and, where it helps, how to fix it."""
    mark = exc.problem_mark or exc.context_mark
    # Count only \n: PyYAML also breaks lines at U+2028, U+2029 and NEL.
    line = first_line + block.count("\n", 0, mark.index) if mark is not None else first_line
    problem = exc.problem or "invalid YAML"
    lines = block.split("\n")
    offending = lines[line - first_line] if 0 <= line - first_line < len(lines) else ""
    hint = (
        "indent with spaces, not tabs"
        if "\t" in offending[: len(offending) - len(offending.lstrip())] or "tab" in problem
        else 'quote the value, e.g. title: "A: B"'
        if "mapping values" in problem
        else "unsupported YAML tag: front matter holds only plain values"
        if "constructor" in problem or "tag" in problem
        else None
    )
    return CssblogError(f"invalid YAML: {problem}", path=path, line=line, hint=hint)


def _control_character(
    exc: yaml.reader.ReaderError, block: str, path: Path, first_line: int
) -> CssblogError:
    return CssblogError(
        f"invalid YAML: control character {exc.character!r} is not allowed",
        path=path,
        line=first_line + block.count("\n", 0, exc.position),
        hint="remove control characters from the front matter",
    )


def decode_source(data: bytes, path: Path) -> str:
    """Decode a source file as UTF-8 (BOM allowed), normalising line endings to LF."""
    if len(data) > MAX_SOURCE_BYTES:
        raise CssblogError(
            f"file is larger than {MAX_SOURCE_BYTES // 1024 // 1024} MiB",
            path=path,
            hint="split it up, or move large files to content/static/",
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise CssblogError("file is UTF-16", path=path, line=1, hint="save it as UTF-8")
    if b"\x00" in data:
        raise CssblogError(
            "file contains NUL bytes (is it binary?)",
            path=path,
            line=data[: data.index(b"\x00")].count(b"\n") + 1,
            hint="only UTF-8 text belongs in content/posts and content/pages",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise CssblogError(
            f"file is not UTF-8 (bad byte 0x{data[exc.start]:02x} at offset {exc.start})",
            path=path,
            line=line,
            hint="re-save the file with UTF-8 encoding",
        ) from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_document(text: str, path: Path) -> Document:
    """Split and parse ``text``; raise :class:`CssblogError` with a line number on any problem."""
    if not text.strip():
        raise CssblogError(
            "file is empty",
            path=path,
            line=1,
            hint="add front matter between --- lines, then the text",
        )
    lines = text.split("\n")
    if lines[0].rstrip() != _DELIMITER:
        raise CssblogError(
            "file does not start with front matter",
            path=path,
            line=1,
            hint="the first line must be --- , followed by `title:` and `date:`, "
            "then a closing --- line",
        )
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() == _DELIMITER), None)
    if end is None:
        raise CssblogError(
            "front matter is not closed",
            path=path,
            line=1,
            hint="add a line with just --- after the last front-matter key",
        )
    block = "\n".join(lines[1:end])
    meta, key_lines, raw = _load_yaml(block, path, first_line=2)
    body = "\n".join(lines[end + 1 :])
    return Document(
        path=path, meta=meta, key_lines=key_lines, body=body, body_line=end + 2, raw=raw
    )


_FLAT_LINE = re.compile(r"([A-Za-z_][A-Za-z0-9_-]{0,127}): (.+)")
"""A short key (YAML refuses one of more than 1,024 characters) and its value."""
_PRINTABLE = re.compile(
    "[^\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]*"
)
_PLAIN = re.compile(r"[A-Za-z][^:#]*")
_FLOW_ITEM = re.compile(r"[A-Za-z][^:#,\[\]{}]*")
_MINUTE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d")
"""A date and time to the minute: YAML's timestamps have seconds, so YAML reads it as text."""
_WORDS = frozenset({"yes", "no", "true", "false", "on", "off", "null"})
"""Plain words YAML reads as booleans or null (in some capitalisation)."""


def _flat_yaml(
    block: str, first_line: int
) -> tuple[dict[str, Any], dict[str, int], dict[str, str]] | None:
    """What :func:`_load_yaml` makes of a block of ``key: value`` lines of plain text, quoted
    text, minute dates and flat lists; None for any other block, which YAML must read."""
    if not _PRINTABLE.fullmatch(block):
        return None
    meta: dict[str, Any] = {}
    key_lines: dict[str, int] = {}
    raw: dict[str, str] = {}
    for number, line in enumerate(block.split("\n"), start=first_line):
        matched = _FLAT_LINE.fullmatch(line)
        if matched is None:
            return None
        key, text = matched.groups()
        if key in meta or key.lower() in _WORDS:
            return None
        if text[0] == "[":
            items = _flow_items(text)
            if items is None:
                return None
            meta[key] = items
        else:
            value = _scalar(text, _PLAIN) if not _MINUTE.fullmatch(text) else text
            if value is None:
                return None
            meta[key] = raw[key] = value
        key_lines[key] = number
    return meta, key_lines, raw


def _scalar(text: str, plain: re.Pattern[str]) -> str | None:
    """The text of a quoted scalar with no escapes, or of a plain one that YAML reads as text."""
    quote = text[0]
    if quote in "\"'":
        inner = text[1:-1]
        ok = len(text) > 1 and text[-1] == quote and quote not in inner and "\\" not in inner
        return inner if ok else None
    if not plain.fullmatch(text) or text[-1] == " " or text.lower() in _WORDS:
        return None
    return text


def _flow_items(text: str) -> list[str] | None:
    """The items of ``[a, 'b c']``, each text, or None for any other flow sequence."""
    if text == "[]":
        return []
    if text[-1] != "]":
        return None
    items = []
    for part in text[1:-1].split(","):
        item = part.strip(" ")
        value = _scalar(item, _FLOW_ITEM) if item else None
        if value is None:  # a quoted item with a comma in it is cut in two, and refused here
            return None
        items.append(value)
    return items


def _load_yaml(
    block: str, path: Path, first_line: int
) -> tuple[dict[str, Any], dict[str, int], dict[str, str]]:
    flat = _flat_yaml(block, first_line)
    return flat if flat is not None else _yaml(block, path, first_line)


def _yaml(
    block: str, path: Path, first_line: int
) -> tuple[dict[str, Any], dict[str, int], dict[str, str]]:
    """The front matter as YAML reads it, or the error, with its line."""
    try:
        loader = _StrictLoader(block)
    except yaml.reader.ReaderError as exc:  # the reader refuses control characters up front
        raise _control_character(exc, block, path, first_line) from exc
    try:
        node = loader.get_single_node()
        if node is not None and "*" in block:  # an alias is written *name: none without a *
            _refuse_aliases(node)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        raise _marked_error(exc, block, path, first_line) from exc
    except yaml.reader.ReaderError as exc:  # libyaml reports bad characters while parsing
        raise _control_character(exc, block, path, first_line) from exc
    except yaml.YAMLError as exc:
        raise CssblogError(f"invalid YAML: {exc}", path=path, line=first_line) from exc
    finally:
        loader.dispose()
    if data is None:
        return {}, {}, {}
    return _checked_mapping(data, node, block, path, first_line)


def _checked_mapping(
    data: Any, node: Any, block: str, path: Path, first_line: int
) -> tuple[dict[str, Any], dict[str, int], dict[str, str]]:
    """The front matter as a mapping of text keys, with each key's line and raw value."""
    if not isinstance(data, dict):
        raise CssblogError(
            f"front matter must be a mapping of keys, not a {type(data).__name__}",
            path=path,
            line=first_line,
            hint="write one `key: value` per line",
        )
    key_lines: dict[str, int] = {}
    raw: dict[str, str] = {}
    for key_node, value_node in node.value if node is not None else ():
        line = first_line + block.count("\n", 0, key_node.start_mark.index)
        if key_node.tag != "tag:yaml.org,2002:str":
            raise CssblogError(
                f"front matter key {key_node.value!r} is not text",
                path=path,
                line=line,
                hint=f'quote it: "{key_node.value}":',
            )
        key_lines[key_node.value] = line
        if isinstance(value_node, yaml.ScalarNode):
            raw[key_node.value] = value_node.value
    return data, key_lines, raw
