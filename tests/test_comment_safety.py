"""Hostile comment bodies, names, URLs and emails through the real build (RELIABILITY.md §2a).

Every payload is written as a comment file (front matter via ``yaml.safe_dump`` so the hostile
string is stored exactly), the site is built with ``build_site`` and the post page and feeds are
checked with the oracles O1-O5 below. Each site also carries a pending comment whose marker
must never reach ``output/`` (invariant 3).
"""

from __future__ import annotations

import html
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import feedparser
import pytest
import yaml

import cssblog
from cssblog.build import BuildReport, build_site
from cssblog.comments.model import Comment, clean_name
from cssblog.comments.sanitize import CommentRenderer
from cssblog.comments.store import create_comment, read_comment
from cssblog.errors import CssblogError
from tests.conftest import NOW, MakeSite, post

J = "window.__x=1"
POST_PAGE = Path("2026/01/p/index.html")
FEEDS = ("comments/feed.xml", "feed.xml", "atom.xml")
COMMENTS_TEMPLATE = Path(cssblog.__file__).parent / "themes/default/templates/_comments.html"

# O1: what a rendered comment body may contain, and the theme's own wrappers around it.
BODY_TAGS = frozenset(
    {"p", "br", "a", "em", "strong", "code", "pre", "blockquote", "ul", "ol", "li"}
)
THEME_WRAPPERS = frozenset({"article", "header", "span", "time", "div", "a"})
COMMENT_TAGS = BODY_TAGS | THEME_WRAPPERS
# O2
FORBIDDEN_ATTRS = frozenset({"style", "srcdoc", "formaction", "xlink:href", "srcset"})
BODY_LINK_ATTRS = frozenset({"href", "title", "rel"})
# O3
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
URL_ATTRS = ("href", "src", "action", "formaction", "poster", "xlink:href")
_C0_AND_SPACE = "".join(chr(i) for i in range(0x21))
_TAB_LF_CR = re.compile("[\t\n\r]")
_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")
# Backstop for the parser: executable or resource-loading tags as raw markup in the section.
_RAW_TAG = re.compile(
    r"<\s*/?\s*(script|img|svg|math|iframe|object|embed|style|base|meta|link|form|noscript"
    r"|input|button|textarea|frame|frameset|video|audio|source|template|xmp|set|animate)\b",
    re.IGNORECASE,
)

# The pending comment every test site carries: its marker must never be published.
PENDING_MARKER = "zqxpend"


# --------------------------------------------------------------------------------------------
# A small HTML tree on the standard library's tokenizer (attribute values and text decoded).
# --------------------------------------------------------------------------------------------

VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
    | {"track", "wbr", "param", "keygen"}
)


@dataclass(eq=False)
class Node:
    tag: str
    attrs: list[tuple[str, str | None]]
    parent: Node | None = None
    children: list[Node | str] = field(default_factory=list)

    def get(self, name: str) -> str | None:
        return next((v for k, v in self.attrs if k == name), None)

    def has(self, name: str) -> bool:
        return any(k == name for k, _ in self.attrs)

    @property
    def classes(self) -> list[str]:
        return (self.get("class") or "").split()

    def descendants(self) -> Iterator[Node]:
        stack = [c for c in reversed(self.children) if isinstance(c, Node)]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(c for c in reversed(node.children) if isinstance(c, Node))

    def find_all(self, tag: str | None = None, cls: str | None = None) -> list[Node]:
        return [
            n
            for n in self.descendants()
            if (tag is None or n.tag == tag) and (cls is None or cls in n.classes)
        ]

    def find(self, tag: str | None = None, cls: str | None = None) -> Node:
        found = self.find_all(tag, cls)
        assert found, f"no <{tag} class={cls}> found"
        return found[0]

    def text(self) -> str:
        out: list[str] = []
        stack: list[Node | str] = [self]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                out.append(item)
            else:
                stack.extend(reversed(item.children))
        return "".join(out)


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", [])
        self.stack = [self.root]

    def _add(self, tag: str, attrs: list[tuple[str, str | None]]) -> Node:
        node = Node(tag, attrs, self.stack[-1])
        self.stack[-1].children.append(node)
        return node

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = self._add(tag, attrs)
        if tag not in VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._add(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)

    def handle_comment(self, data: str) -> None:
        self._add("#comment", [("data", data)])

    def handle_decl(self, decl: str) -> None:
        if self.stack[-1] is not self.root:
            self._add("#decl", [("data", decl)])

    def unknown_decl(self, data: str) -> None:
        self._add("#decl", [("data", data)])

    def handle_pi(self, data: str) -> None:
        self._add("#pi", [("data", data)])


def parse_html(text: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


# --------------------------------------------------------------------------------------------
# The oracles.
# --------------------------------------------------------------------------------------------


def url_problem(value: str) -> str | None:
    """O3 for one decoded href/src value: ``None`` when it is safe."""
    v = _TAB_LF_CR.sub("", value.strip(_C0_AND_SPACE)).lower()
    match = _SCHEME.match(v)
    if match:
        scheme = match.group(1)
        return None if scheme in SAFE_SCHEMES else f"scheme {scheme!r} in {value!r}"
    if v.replace("\\", "/").startswith("//"):
        return f"protocol-relative URL {value!r}"
    return None


def o1_problems(articles: Sequence[Node]) -> list[str]:
    """Only allow-listed elements inside comments; only body tags inside a comment's body."""
    problems = []
    for article in articles:
        for node in article.descendants():
            if node.tag not in COMMENT_TAGS:
                problems.append(f"<{node.tag}> inside {article.get('id')}")
        for body in (n for n in article.children if isinstance(n, Node)):
            if body.tag == "div" and "comment-body" in body.classes:
                problems.extend(body_o1_problems(body))
    return problems


def body_o1_problems(body: Node) -> list[str]:
    return [f"<{n.tag}> in a comment body" for n in body.descendants() if n.tag not in BODY_TAGS]


def o2_problems(nodes: Sequence[Node]) -> list[str]:
    """No event handlers or other dangerous attributes; body links carry href/title/rel only."""
    problems = []
    for top in nodes:
        for node in [top, *top.descendants()]:
            for name, value in node.attrs:
                if name.startswith("on") or name in FORBIDDEN_ATTRS:
                    problems.append(f"<{node.tag} {name}={value!r}>")
    return problems


def body_o2_problems(body: Node) -> list[str]:
    problems = o2_problems([body])
    for node in body.descendants():
        names = {k for k, _ in node.attrs}
        allowed = BODY_LINK_ATTRS if node.tag == "a" else frozenset()
        if names - allowed:
            problems.append(f"<{node.tag}> has attributes {sorted(names - allowed)}")
        if node.tag == "a" and node.has("href"):
            rel = (node.get("rel") or "").split()
            if not {"noopener", "noreferrer"} <= set(rel):
                problems.append(f"link {node.get('href')!r} has rel={rel}")
    return problems


def o3_problems(doc: Node) -> list[str]:
    problems = []
    for node in doc.descendants():
        for name, value in node.attrs:
            if name in URL_ATTRS and value is not None:
                problem = url_problem(value)
                if problem:
                    problems.append(f"<{node.tag} {name}>: {problem}")
    return problems


def comment_bodies(article: Node) -> list[Node]:
    return [
        n
        for n in article.children
        if isinstance(n, Node) and n.tag == "div" and "comment-body" in n.classes
    ]


def author_node(article: Node) -> Node:
    header = next(n for n in article.children if isinstance(n, Node) and n.tag == "header")
    return header.find(cls="comment-author")


def files_containing(output: Path, needles: Sequence[str]) -> list[tuple[str, str]]:
    """(file, needle) for every needle found in any file of ``output`` (raw, decoded, unquoted)."""
    hits = []
    lowered = [n.casefold() for n in needles]
    for path in sorted(output.rglob("*")):
        if not path.is_file():
            continue
        raw = path.read_bytes().decode("utf-8", "replace")
        forms = {raw, html.unescape(raw), unquote(raw), html.unescape(unquote(raw))}
        haystack = "\n".join(forms).casefold()
        hits.extend((str(path.relative_to(output)), n) for n in lowered if n in haystack)
    return hits


def check_feeds(output: Path, items: int, author: str | None = None) -> list[ET.Element]:
    """O5: feeds are strict XML and feedparser-clean; comment HTML in them passes O1-O3."""
    for name in FEEDS:
        data = (output / name).read_bytes()
        ET.fromstring(data)
        parsed = feedparser.parse(data)
        assert parsed.bozo == 0, (name, parsed.get("bozo_exception"))
    data = (output / "comments/feed.xml").read_bytes()
    assert b"<![CDATA[" not in data
    entries = ET.fromstring(data).findall("./channel/item")
    assert len(entries) == items
    for entry in entries:
        body = parse_html(entry.findtext("description") or "")
        problems = body_o1_problems(body) + body_o2_problems(body) + o3_problems(body)
        assert not problems, problems
        if author is not None:
            assert (entry.findtext("title") or "").startswith(f"{author} on ")
    return entries


# --------------------------------------------------------------------------------------------
# Sites.
# --------------------------------------------------------------------------------------------


def comment_text(
    *,
    author: str = "Mallory",
    email: str = "mallory@readers.example",
    url: str | None = None,
    date: str = "2026-01-06 10:00",
    status: str | None = "approved",
    parent: str | None = None,
    body: str = "A comment.",
    raw_meta: str = "",
) -> str:
    meta: dict[str, str] = {"author": author, "email": email}
    if url is not None:
        meta["url"] = url
    meta["date"] = date
    if parent is not None:
        meta["parent"] = parent
    if status is not None:
        meta["status"] = status
    front = yaml.safe_dump(meta, sort_keys=False, width=10_000)
    assert yaml.safe_load(front) == meta  # the hostile strings are stored exactly
    return "---\n" + front + raw_meta + "---\n" + body + "\n"


def add_comment(root: Path, cid: str, **fields: str | None) -> Path:
    path = root / "content/comments/p" / f"{cid}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(comment_text(**fields).encode("utf-8"))  # type: ignore[arg-type]
    return path


def new_site(make_site: MakeSite) -> Path:
    """One January 2026 post (``/2026/01/p/``) and a pending comment that must stay hidden."""
    root = make_site({"content/posts/p.md": post("P", "2026-01-05", "Post body.")})
    add_comment(
        root,
        f"{PENDING_MARKER}-canary",
        author=f"Pending {PENDING_MARKER}",
        email=f"{PENDING_MARKER}@readers.example",
        url=f"https://{PENDING_MARKER}.example/",
        status="pending",
        body=f"Pending body {PENDING_MARKER}.",
        date="2026-01-06 09:00",
    )
    return root


@dataclass
class Built:
    report: BuildReport
    output: Path
    page: str
    doc: Node
    section_html: str
    articles: list[Node]
    feed_items: list[ET.Element]


def build_and_check(
    root: Path, *, approved: int, forbidden: Sequence[str] = (), feed_author: str | None = None
) -> Built:
    """Build, then run O1, O2, O3 and O5 (and the pending-marker check) on the result."""
    report = build_site(root, now=NOW)
    output = root / "output"
    page = (output / POST_PAGE).read_text(encoding="utf-8")
    doc = parse_html(page)
    sections = [s for s in doc.find_all("section") if s.get("id") == "comments"]
    assert len(sections) == 1
    assert sections[0].get("data-count") == str(approved)
    articles = [a for a in doc.find_all("article", "comment")]
    assert len(articles) == approved
    problems = o1_problems(articles) + o2_problems(articles) + o3_problems(doc)
    for article in articles:
        for body in comment_bodies(article):
            problems += body_o2_problems(body)
    assert not problems, problems
    start = page.index('<section id="comments"')
    section_html = page[start : page.index("</section>", start)]
    assert not _RAW_TAG.findall(section_html), _RAW_TAG.findall(section_html)
    items = check_feeds(output, approved, feed_author)
    assert files_containing(output, [PENDING_MARKER, *forbidden]) == []
    return Built(report, output, page, doc, section_html, articles, items)


def build_one(make_site: MakeSite, **fields: str | None) -> Built:
    root = new_site(make_site)
    add_comment(root, "c1", **fields)
    author = fields.get("author", "Mallory")
    assert author is not None
    built = build_and_check(root, approved=1, feed_author=clean_name(author) or "A reader")
    assert author_node(built.articles[0]).text() == (clean_name(author) or "A reader")  # O4
    return built


# --------------------------------------------------------------------------------------------
# The oracles catch what they are meant to catch.
# --------------------------------------------------------------------------------------------


def _article(inner: str) -> list[Node]:
    doc = parse_html(f'<article class="comment" id="comment-t">{inner}</article>')
    return doc.find_all("article", "comment")


@pytest.mark.parametrize(
    "inner",
    [
        '<div class="comment-body"><img src=x onerror="x"></div>',
        '<div class="comment-body"><svg><a>x</a></svg></div>',
        '<div class="comment-body"><p><span>theme tag in a body</span></p></div>',
        '<div class="comment-body"><!-- a comment --></div>',
    ],
)
def test_oracle_o1_flags_foreign_elements(inner: str) -> None:
    assert o1_problems(_article(inner))


@pytest.mark.parametrize(
    "inner",
    [
        '<p onmouseover="x">a</p>',
        '<p style="color:red">a</p>',
        '<a xlink:href="https://x.example">a</a>',
        '<iframe srcdoc="x"></iframe>',
    ],
)
def test_oracle_o2_flags_dangerous_attributes(inner: str) -> None:
    assert o2_problems(_article(inner))


@pytest.mark.parametrize(
    "href",
    [
        "javascript:x",
        " \x0e JaVaScRiPt:x",
        "java\tscript:x",
        "jav&#x09;ascript:x",
        "&#106;avascript:x",
        "data:text/html,x",
        "vbscript:x",
        "//evil.example/",
        "/\\evil.example/",
    ],
)
def test_oracle_o3_flags_unsafe_urls(href: str) -> None:
    doc = parse_html(f'<a href="{href}">x</a>')
    assert o3_problems(doc)


@pytest.mark.parametrize(
    "href", ["https://x.example/", "mailto:a@b.example", "/a/b/", "#c", "x", "java%0ascript:x"]
)
def test_oracle_o3_accepts_safe_urls(href: str) -> None:
    assert o3_problems(parse_html(f'<a href="{href}">x</a>')) == []


def test_oracle_o2_wants_noopener_on_body_links() -> None:
    body = parse_html('<div><a href="https://x.example" rel="nofollow">x</a></div>')
    assert body_o2_problems(body)


def test_theme_wrappers_are_the_tags_of_the_comment_macro() -> None:
    template = COMMENTS_TEMPLATE.read_text(encoding="utf-8")
    macro = template[template.index("{% macro comment_article") : template.index("{% endmacro")]
    tags = set(re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", macro))
    assert tags == set(THEME_WRAPPERS)


# --------------------------------------------------------------------------------------------
# X rows: hostile comment bodies (J = window.__x=1).
# --------------------------------------------------------------------------------------------

X_BODIES = {
    "X-01": f"<script>{J}</script>",
    "X-02": f"<img src=x onerror={J}>",
    "X-03": f"<svg/onload={J}>",
    "X-04": f'<svg><a><set attributeName="href" to="javascript:{J}"/>'
    f'<text y="20">click</text></a></svg>',
    "X-05": f"<math><mtext><table><mglyph><style><img src=x onerror={J}>",
    "X-06": "<form><math><mtext></form><form><mglyph><svg><mtext><style>"
    f'<path id="</style><img onerror={J} src>">',
    "X-07": f'<noscript><p title="</noscript><img src=x onerror={J}>">',
    "X-08": "<svg><annotation-xml><foreignobject><style><!--</style>"
    f"<p id=\"--><img src='x' onerror='{J}'>\">",
    "X-09": f'<a href="javascript:{J}">x</a>',
    "X-10": f'<a href="JaVaScRiPt:{J}">x</a>',
    "X-11": f'<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;{J}">x</a>',
    "X-12": f'<a href="&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A;{J}">x</a>',
    "X-13": f'<a href="jav&#x09;ascript:{J}">x</a>',
    "X-14": f'<a href=" &#14;  javascript:{J}">x</a>',
    "X-15": '<a href="vbscript:msgbox(1)">x</a>',
    "X-16": '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "X-17": f'<iframe src="javascript:{J}"></iframe>'
    f'<iframe srcdoc="&lt;script&gt;{J}&lt;/script&gt;">',
    "X-18": f'<object data="javascript:{J}"></object><embed src="javascript:{J}">',
    "X-19": '<base href="javascript:/a/"><a href="x">x</a>',
    "X-20": f'<meta http-equiv="refresh" content="0;url=javascript:{J}">',
    "X-21": f'<p style="background:url(javascript:{J})">x</p>',
    "X-22": f'<div style="width:expression({J})">x</div>'
    "<style>@import 'https://evil.example/x.css';</style>",
    "X-23": f'<IMG """><SCRIPT>{J}</SCRIPT>">',
    "X-24": f"<<SCRIPT>{J};//<</SCRIPT>",
    "X-25": '<SCRIPT/XSS SRC="https://evil.example/x.js"></SCRIPT>',
    "X-26": f"<BODY onload!#$%&()*~+-_.,:;?@[/\\|\\]^`={J}>",
    "X-27": f"</textarea></title></style></script><script>{J}</script>",
    "X-28": "javascript:/*--></title></style></textarea></script></xmp>"
    f"<svg/onload='+/\"`/+/onmouseover=1/+/[*/[]/+{J}//'>",
    "X-29": '<a href="https://example.com" target="_blank">x</a>',
    "X-30": '<img src="https://tracker.example/p.gif">',
    "X-31": f"[x](javascript:{J})",
    "X-32": f"[x](JaVaScRiPt:{J})",
    "X-33": f"[x](javascript&#58{J})",
    "X-34": f"[x](&#x6A;avascript:{J})",
    "X-35-newline": f"[x](java%0ascript:{J})",
    "X-35-tab": f"[x](java\tscript:{J})",
    "X-36": f"![x](javascript:{J})",
    "X-37": "![x](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "X-38": f"<javascript:{J}>",
    "X-39": f"[x][r]\n\n[r]: javascript:{J}",
    "X-40": f'[a](https://x.example "t\\" onmouseover=\\"{J}")',
    "X-41": f'<https://x.example/"onmouseover="{J}>',
    "X-42": f"\\<!--<img src onerror={J}//>-->",
    "X-43": f"<http:[<script>{J};//]()><http:[</script>]()>",
    "X-44": f"<http:|><x| oncontentvisibilityautostatechange={J} "
    "style=display:block;content-visibility:auto>",
    "X-47": f"]]><script>{J}</script><![CDATA[",
    "X-48": "<![",
    # Markdown-built links of every form, to make sure links that are kept pass O2/O3 too.
    "links": "[a](https://a.example/) <https://b.example/> [m](mailto:m@x.example) [r](/rel/)",
}


@pytest.mark.parametrize("body", list(X_BODIES.values()), ids=list(X_BODIES))
def test_hostile_body_is_inert_in_page_and_feeds(make_site: MakeSite, body: str) -> None:
    built = build_one(make_site, body=body)
    assert comment_bodies(built.articles[0])  # the comment was rendered, not dropped


def test_X19_relative_link_stays_relative_and_no_base(make_site: MakeSite) -> None:
    built = build_one(make_site, body="<base href='javascript:/a/'> and [x](x)")
    assert built.doc.find_all("base") == []
    link = comment_bodies(built.articles[0])[0].find("a")
    assert link.get("href") == "x"


def test_X29_kept_links_get_noopener_and_no_target(make_site: MakeSite) -> None:
    built = build_one(make_site, body="[x](https://example.com)")
    link = comment_bodies(built.articles[0])[0].find("a")
    assert not link.has("target")
    assert {"nofollow", "ugc", "noopener", "noreferrer"} <= set((link.get("rel") or "").split())


def test_X40_title_quote_stays_inside_the_title(make_site: MakeSite) -> None:
    built = build_one(make_site, body=X_BODIES["X-40"])
    link = comment_bodies(built.articles[0])[0].find("a")
    assert {k for k, _ in link.attrs} == {"href", "title", "rel"}
    assert link.get("title") == f't" onmouseover="{J}'
    assert link.get("href") == "https://x.example"


def test_X41_quote_stays_inside_the_href(make_site: MakeSite) -> None:
    built = build_one(make_site, body=X_BODIES["X-41"])
    link = comment_bodies(built.articles[0])[0].find("a")
    assert {k for k, _ in link.attrs} == {"href", "rel"}
    assert (link.get("href") or "").startswith("https://x.example/")
    assert "onmouseover" in unquote(link.get("href") or "")


def test_X45_code_is_escaped_not_stripped(make_site: MakeSite) -> None:
    body = f"Use `<script>` like this:\n\n```html\n<script>{J}</script>\n```\n"
    built = build_one(make_site, body=body)
    content = comment_bodies(built.articles[0])[0]
    codes = content.find_all("code")
    assert [c.text() for c in codes] == ["<script>", f"<script>{J}</script>\n"]
    assert codes[1].parent is not None and codes[1].parent.tag == "pre"
    assert "<code>&lt;script&gt;</code>" in built.section_html
    assert f"&lt;script&gt;{J}&lt;/script&gt;" in built.section_html


def test_X47_X48_cdata_and_bogus_markup_show_as_text(make_site: MakeSite) -> None:
    built = build_one(make_site, body=f"{X_BODIES['X-47']} and {X_BODIES['X-48']}")
    shown = comment_bodies(built.articles[0])[0].text()
    assert f"]]><script>{J}</script><![CDATA[ and <![" in shown
    description = built.feed_items[0].findtext("description") or ""
    assert "]]&gt;&lt;script&gt;" in description  # escaped text inside the escaped HTML


SSTI = "{{ 7*7 }} {% if true %}SSTI{% endif %} {{ ''.__class__ }}"


def test_X46_template_syntax_is_literal_in_body_and_name(make_site: MakeSite) -> None:
    built = build_one(make_site, author=SSTI, body=SSTI)
    article = built.articles[0]
    assert author_node(article).text() == SSTI
    shown = comment_bodies(article)[0].text()
    # Markdown may turn __class__ into <strong>class</strong>; the Jinja syntax stays literal.
    assert "{{ 7*7 }} {% if true %}SSTI{% endif %} {{ ''." in shown
    assert "49" not in built.section_html
    assert "<class" not in built.section_html and "&lt;class" not in built.section_html
    item = built.feed_items[0]
    assert "49" not in (item.findtext("title") or "") + (item.findtext("description") or "")
    assert (item.findtext("title") or "").startswith(SSTI)


def test_X56_entity_text_in_a_name_is_shown_as_typed(make_site: MakeSite) -> None:
    built = build_one(make_site, author="&lt;script&gt;")
    assert author_node(built.articles[0]).text() == "&lt;script&gt;"
    assert ">&amp;lt;script&amp;gt;<" in built.section_html
    assert (built.feed_items[0].findtext("title") or "").startswith("&lt;script&gt; on ")


POLYGLOT = X_BODIES["X-28"]


def test_X28_polyglot_in_name_and_url(make_site: MakeSite) -> None:
    built = build_one(make_site, author=POLYGLOT, url=POLYGLOT, body=POLYGLOT)
    node = author_node(built.articles[0])
    assert node.tag == "span"
    assert node.text() == POLYGLOT


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Eve\u202egnp.exe", "Evegnp.exe"),
        ("\u2066Mallory\u2069", "Mallory"),
        ("Mal\u200blory", "Mallory"),
        ("Mal\u200e\u200flory", "Mallory"),
        ("Mal\u061clory", "Mallory"),
        ("\ufeffMallory", "Mallory"),
        ("\u202aMal\u202blo\u202cry\u202d", "Mallory"),
    ],
    ids=["RLO", "isolates", "ZWSP", "LRM-RLM", "ALM", "BOM", "embeddings"],
)
def test_X54_bidi_and_invisible_controls_are_stripped_from_names(
    make_site: MakeSite, name: str, shown: str
) -> None:
    built = build_one(make_site, author=name)
    assert author_node(built.articles[0]).text() == shown
    assert (built.feed_items[0].findtext("title") or "").startswith(f"{shown} on ")


def test_X54_body_is_isolated_with_dir_auto(make_site: MakeSite) -> None:
    body = "abc \u202e\u2066 fdp.exe and \u200f\u061c more"
    built = build_one(make_site, body=body)
    article = built.articles[0]
    wrapper = comment_bodies(article)[0]
    assert wrapper.get("dir") == "auto"
    assert "fdp.exe" in wrapper.text()
    header = next(n for n in article.children if isinstance(n, Node) and n.tag == "header")
    assert not re.search("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]", header.text())


@pytest.mark.parametrize(
    "name",
    ["", "   ", "\u200b\u200b", "\u202e", "\x1b\x7f"],
    ids=["empty", "spaces", "zw", "rlo", "c0"],
)
def test_N01_empty_or_invisible_name_gets_the_default(make_site: MakeSite, name: str) -> None:
    built = build_one(make_site, author=name)
    assert author_node(built.articles[0]).text() == "A reader"


# --------------------------------------------------------------------------------------------
# X-52 control characters, X-53 bytes a comment file cannot hold.
# --------------------------------------------------------------------------------------------

X52_CHARS = "\x00\x08\x0b\x0c\x1b\x7f\ufffe\uffff"
X52_IN_BODY = X52_CHARS.replace("\x00", "")  # a raw NUL byte makes the file unreadable
# Of those, the ones HTML itself treats as parse errors (form feed is HTML whitespace):
# "control-character-in-input-stream" and "noncharacter-in-input-stream".
X52_NOT_IN_HTML = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


def test_X52_control_chars_keep_feeds_valid(make_site: MakeSite) -> None:
    root = new_site(make_site)
    add_comment(root, "c1", author=f"Eve{X52_CHARS}Name", body=f"he{X52_IN_BODY}llo")
    built = build_and_check(root, approved=1)  # strict XML + feedparser bozo == 0
    assert (built.feed_items[0].findtext("title") or "").startswith("EveName on ")


def test_X52_control_chars_are_stripped_from_the_shown_name(make_site: MakeSite) -> None:
    root = new_site(make_site)
    add_comment(root, "c1", author=f"Eve{X52_CHARS}Name")
    built = build_and_check(root, approved=1)
    shown = author_node(built.articles[0]).text()
    assert not X52_NOT_IN_HTML.search(shown), repr(shown)
    assert shown == "EveName"


def test_X52_control_chars_are_stripped_from_the_shown_body(make_site: MakeSite) -> None:
    root = new_site(make_site)
    add_comment(root, "c1", body=f"he{X52_IN_BODY}llo")
    built = build_and_check(root, approved=1)
    shown = comment_bodies(built.articles[0])[0].text()
    assert "he" in shown and "llo" in shown
    assert not X52_NOT_IN_HTML.search(shown), repr(shown)


@pytest.mark.parametrize(
    "raw",
    [b"hello\x00world", b"caf\xe9 latin-1", b"lone \xed\xa0\x80 surrogate"],
    ids=["NUL", "latin1", "surrogate"],
)
def test_X53_unreadable_comment_bytes_fail_the_build_naming_the_file(
    make_site: MakeSite, raw: bytes
) -> None:
    root = new_site(make_site)
    path = root / "content/comments/p/c1.md"
    path.write_bytes(comment_text(body="").encode() + raw + b"\n")
    with pytest.raises(CssblogError) as caught:
        build_site(root, now=NOW)
    assert "content/comments/p/c1.md" in str(caught.value)
    assert not (root / "output" / POST_PAGE).exists()


# --------------------------------------------------------------------------------------------
# X-49 pathological bodies: the build finishes and one render stays within a bound.
# --------------------------------------------------------------------------------------------

PATHOLOGICAL = {
    "brackets": "[" * 8000,
    "star-underscore": "*_" * 20000,
    "backtick-runs": "".join("`" * (1 + i % 30) + "e" for i in range(3000)),
}


@pytest.mark.parametrize("body", list(PATHOLOGICAL.values()), ids=list(PATHOLOGICAL))
def test_X49_pathological_body_renders_within_a_bound(make_site: MakeSite, body: str) -> None:
    built = build_one(make_site, body=body)
    assert comment_bodies(built.articles[0])
    renderer = CommentRenderer()
    renderer.render("warm up")
    started = time.thread_time()  # CPU time: other work on a busy machine does not count
    renderer.render(body)
    elapsed = time.thread_time() - started
    assert elapsed < 1.0, f"rendering took {elapsed:.2f} s of CPU"


# --------------------------------------------------------------------------------------------
# U rows: the author URL field.
# --------------------------------------------------------------------------------------------

ANY_SAFE = "any O3-safe link or none"
U_ROWS: dict[str, tuple[str, tuple[str | None, ...] | str]] = {
    "U-01": (f"javascript:{J}", (None,)),
    "U-02-space": (f" javascript:{J}", (None,)),
    "U-02-c0": (f"\x01javascript:{J}", (None,)),
    "U-02-upper": (f"JAVASCRIPT:{J}", (None,)),
    "U-02-tab": (f"java\tscript:{J}", (None,)),
    "U-02-lf": (f"java\nscript:{J}", (None,)),
    "U-02-nbsp": (f"\u00a0javascript:{J}", (None,)),
    "U-03-data": (f"data:text/html,<script>{J}</script>", (None,)),
    "U-03-vbscript": ("vbscript:x", (None,)),
    "U-03-file": ("file:///etc/passwd", (None,)),
    "U-04": (f'https://x.example" onmouseover="{J}', (None,)),
    "U-05": (f"https://x.example' onmouseover='{J}", (None,)),
    "U-07": ("//evil.example/x", (None, "https://evil.example/x")),
    "U-07-backslash": ("\\\\evil.example/x", (None, "https://evil.example/x")),
    "U-08": ("example.com", ("https://example.com",)),
    "U-09": ("https://user:pass@good.example@evil.example/", (None,)),
    "U-09-user": ("https://user@good.example/", (None,)),
    "U-10": ("https://x.example/" + "a" * 183, (None,)),
    "U-11": ("mailto:a@b.c", (None,)),
    "U-12": ("https://\u0430pple.com/", ANY_SAFE),
    "no-host": ("https:evil.example", (None,)),
    "bad-ipv6-host": ("https://[evil", (None,)),
    "plain-https": ("https://good.example/a?b=1&c=2", ("https://good.example/a?b=1&c=2",)),
}


@pytest.mark.parametrize(("url", "expected"), list(U_ROWS.values()), ids=list(U_ROWS))
def test_author_url_is_a_safe_link_or_no_link(
    make_site: MakeSite, url: str, expected: tuple[str | None, ...] | str
) -> None:
    built = build_one(make_site, author="Mallory", url=url)
    node = author_node(built.articles[0])
    href = node.get("href") if node.tag == "a" else None
    assert node.tag in ("a", "span")
    if expected != ANY_SAFE:
        assert href in expected
    if href is not None:
        assert url_problem(href) is None
        assert {k for k, _ in node.attrs} <= {"class", "href", "rel"}


# --------------------------------------------------------------------------------------------
# E-04: emails are never published.
# --------------------------------------------------------------------------------------------


def test_E04_emails_never_reach_the_output(make_site: MakeSite) -> None:
    emails = [
        "e04.reader@private.example",
        "Mixed.Case@Private-Host.example",
        "<script>@x.y",
        '"a b"@c.d',
        "a@b",
        "jane@example.org",  # the site author's own address: badge, but no address
    ]
    root = new_site(make_site)
    for i, email in enumerate(emails):
        add_comment(
            root,
            f"e{i}",
            author=f"Reader {i}",
            email=email,
            body=f"Comment number {i} about something else entirely ({'x' * i}).",
            date=f"2026-01-06 10:{i:02d}",
        )
    built = build_and_check(root, approved=len(emails), forbidden=emails)
    badges = [a for a in built.articles if "by-author" in a.classes]
    assert [a.get("id") for a in badges] == [f"comment-e{len(emails) - 1}"]


# --------------------------------------------------------------------------------------------
# Invariant 3: only `approved` is public.
# --------------------------------------------------------------------------------------------

NOT_APPROVED: dict[str, dict[str, str | None]] = {
    "zqinvpending": {"status": "pending"},
    "zqinvrejected": {"status": "rejected"},
    "zqinvspam": {"status": "spam"},
    "zqinvduplicate": {"status": "duplicate", "raw_meta": "duplicate_of: alice\n"},
    "zqinvwrongcase": {"status": "Approved"},
    "zqinvyesbool": {"status": None, "raw_meta": "status: yes\n"},
    "zqinvyestext": {"status": "yes"},
    "zqinvtruebool": {"status": None, "raw_meta": "status: true\n"},
    "zqinvpublished": {"status": "published"},
    "zqinvspaced": {"status": " approved"},
    "zqinvmissing": {"status": None},
}


def test_only_approved_comments_are_published(make_site: MakeSite) -> None:
    root = new_site(make_site)
    add_comment(root, "alice", author="Alice", email="alice@readers.example", body="First!")
    add_comment(
        root,
        "bob",
        author="Bob",
        email="bob@readers.example",
        body="A different thought.",
        date="2026-01-06 11:00",
    )
    for marker, fields in NOT_APPROVED.items():
        add_comment(
            root,
            marker,
            author=f"Name {marker}",
            email=f"{marker}@readers.example",
            url=f"https://{marker}.example/",
            body=f"Body {marker} text.",
            **fields,
        )
    built = build_and_check(root, approved=2, forbidden=list(NOT_APPROVED))
    assert [author_node(a).text() for a in built.articles] == ["Alice", "Bob"]
    title = [h for h in built.doc.find_all("h2") if h.get("id") == "comments-title"]
    assert [h.text() for h in title] == ["2 comments"]


def test_reply_to_a_pending_comment_does_not_leak_its_parent(make_site: MakeSite) -> None:
    root = new_site(make_site)
    add_comment(root, "zqparentpend", author="Name zqparentpend", status="pending", body="x")
    add_comment(
        root,
        "reply",
        author="Replier",
        parent="zqparentpend",
        body="In reply.",
        date="2026-01-07 10:00",
    )
    built = build_and_check(root, approved=1, forbidden=["zqparentpend"])
    assert author_node(built.articles[0]).text() == "Replier"


# --------------------------------------------------------------------------------------------
# I-YAML-01/02/03/04: hostile author strings through the store round-trip exactly.
# --------------------------------------------------------------------------------------------

YAML_AUTHORS = [
    "Bob\nstatus: approved",
    "Bob\r\n---\r\n<script>",
    "!!python/object/apply:os.system ['id']",
    "&a x",
    "*a",
    "yes",
    "2024-01-01",
    "key: value",
    "'q",
    '"dq',
    "\\",
    "#c",
    "---",
    "...",
    "Bob\x85NEL",
    "Bob\u2028LS\u2029PS",
]


def _stored(author: str, *, body: str = "A plain body.", cid: str = "c1", **kw: str) -> Comment:
    return Comment(
        post_slug="p",
        id=cid,
        author=author,
        email=kw.get("email", "bob@readers.example"),
        url=kw.get("url", ""),
        date=NOW,
        parent=None,
        status="pending",  # type: ignore[arg-type]
        moderation_note="",
        duplicate_of=None,
        body=body,
        path=Path(),
    )


def _read_back(root: Path, created: Comment) -> Comment:
    back, _ = read_comment(created.path, created.path.relative_to(root), "p", UTC)
    return back


@pytest.mark.parametrize("author", YAML_AUTHORS, ids=[repr(a) for a in YAML_AUTHORS])
def test_I_YAML_hostile_author_round_trips_through_the_store(tmp_path: Path, author: str) -> None:
    created = create_comment(tmp_path, _stored(author))
    back = _read_back(tmp_path, created)
    assert back.author == author
    assert back.status == "pending"
    assert back.body == "A plain body."
    assert back.email == "bob@readers.example"
    front = created.path.read_text(encoding="utf-8").split("\n---\n", 1)[0]
    assert sum(line.startswith("status:") for line in front.splitlines()) == 1


@pytest.mark.parametrize("value", YAML_AUTHORS, ids=[repr(a) for a in YAML_AUTHORS])
def test_I_YAML_hostile_url_round_trips_through_the_store(tmp_path: Path, value: str) -> None:
    created = create_comment(tmp_path, _stored("Bob", url=value))
    back = _read_back(tmp_path, created)
    assert (back.url, back.author, back.status) == (value, "Bob", "pending")


def test_I_YAML_02_body_that_looks_like_front_matter_stays_body(tmp_path: Path) -> None:
    body = "---\nstatus: approved\n---\nI am only the body.\n\n---\nauthor: Admin\n---"
    created = create_comment(tmp_path, _stored("Bob", body=body))
    back = _read_back(tmp_path, created)
    assert (back.author, back.status, back.body) == ("Bob", "pending", body)


def test_I_YAML_hostile_authors_written_by_the_store_build_and_show_as_text(
    make_site: MakeSite,
) -> None:
    root = new_site(make_site)
    for i, author in enumerate(YAML_AUTHORS):
        comment = _stored(
            author, cid=f"y{i:02d}", body=f"Body {i} " + "z" * i, email=f"y{i}@readers.example"
        )
        create_comment(root, replace(comment, status="approved"))
    built = build_and_check(root, approved=len(YAML_AUTHORS))
    shown = sorted(author_node(a).text() for a in built.articles)
    assert shown == sorted(clean_name(a) or "A reader" for a in YAML_AUTHORS)
