"""The preview server as a WSGI app: the built preview, live reload, error overlay, comment form.

Files are served only from inside the preview folder: the path is decoded once, NUL bytes,
backslashes, dot segments and dotfiles are refused, and the resolved real path must lie inside
the folder, so neither ``..`` in any encoding nor a symbolic link can reach anything else.
Requests must name a local host (``Host: evil.example`` is how DNS rebinding reaches a local
server). HTML gets the live-reload script added as it is sent; nothing is written to disk.
"""

from __future__ import annotations

import ipaddress
import json
import mimetypes
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from http import HTTPStatus
from importlib import resources
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import parse_qs, quote, unquote

from markupsafe import escape

from cssblog.intake import MAX_FORM_BYTES, FormError, Received, parse_form
from cssblog.preview import INTAKE_PATH, Outcome, Problem

StartResponse = Callable[..., Any]
Environ = dict[str, Any]

PREFIX = "/_cssblog/"
EVENTS_PATH = "/_cssblog/events"
SCRIPT_PATH = "/_cssblog/reload.js"
STYLE_PATH = "/_cssblog/reload.css"
HISTORY = 256
HEARTBEAT = 15.0
LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})

__all__ = ["CommentDesk", "HostPolicy", "PreviewApp", "ReloadHub"]


class ReloadHub:
    """The rebuilds so far, for the browsers listening for them (thread-safe)."""

    def __init__(self, history: int = HISTORY) -> None:
        self._changes: dict[int, frozenset[str]] = {}
        self._history = history
        self._cond = threading.Condition()
        self.generation = 0
        self.problems: tuple[Problem, ...] = ()
        self.stopped = False

    def publish(self, outcome: Outcome) -> None:
        """Announce a finished rebuild."""
        with self._cond:
            self.generation = outcome.generation
            self._changes[outcome.generation] = outcome.changed
            self._changes.pop(outcome.generation - self._history, None)
            self.problems = outcome.problems
            self._cond.notify_all()

    def changes_since(self, since: int) -> frozenset[str] | None:
        """URLs changed by the rebuilds after ``since``; None when that is no longer known."""
        with self._cond:
            if since > self.generation or since < self.generation - self._history + 1:
                return None  # a restarted server, or too long ago
            changed: set[str] = set()
            for generation in range(since + 1, self.generation + 1):
                changed |= self._changes.get(generation, frozenset())
            return frozenset(changed)

    def wait(self, after: int, timeout: float) -> int:
        """Wait until a rebuild after ``after`` (or ``timeout``, or stop); the generation."""
        with self._cond:
            self._cond.wait_for(lambda: self.generation > after or self.stopped, timeout)
            return self.generation

    def stop(self) -> None:
        """Release every waiting listener (the server is shutting down)."""
        with self._cond:
            self.stopped = True
            self._cond.notify_all()


@dataclass(frozen=True, slots=True)
class HostPolicy:
    """Which ``Host`` headers the server answers (DNS rebinding defence)."""

    names: frozenset[str] = LOCAL_NAMES
    any_address: bool = False
    """Bound to all interfaces: also answer any IP address literal."""

    def allows(self, header: str | None) -> bool:
        if not header:
            return True  # HTTP/1.0 clients; browsers always send Host
        host = header.strip().lower()
        if host.startswith("["):
            host, _, rest = host[1:].partition("]")
            if rest and not (rest.startswith(":") and rest[1:].isdigit()):
                return False
        elif host.count(":") == 1:
            host, _, port = host.partition(":")
            if not port.isdigit():
                return False
        if host in self.names:
            return True
        if not self.any_address:
            return False
        try:
            ipaddress.ip_address(host)
        except ValueError:
            return False
        return True


class CommentDesk(Protocol):
    """Where the comment form's submissions go."""

    def receive(self, fields: dict[str, str]) -> Received: ...

    def post_url(self, slug: str) -> str | None: ...


@dataclass(frozen=True, slots=True)
class _Response:
    status: HTTPStatus
    headers: tuple[tuple[str, str], ...]
    body: Iterable[bytes]


class PreviewApp:
    """Serve the preview folder with live reload; take comments posted to the preview."""

    def __init__(
        self,
        folder: Path,
        hub: ReloadHub,
        *,
        comments: CommentDesk | None = None,
        hosts: HostPolicy | None = None,
        heartbeat: float = HEARTBEAT,
    ) -> None:
        self.folder = folder
        self.hub = hub
        self.comments = comments
        self.hosts = hosts or HostPolicy()
        self.heartbeat = heartbeat
        assets = resources.files("cssblog") / "data" / "serve"
        self._script = (assets / "reload.js").read_bytes()
        self._style = (assets / "reload.css").read_bytes()

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        response = self._respond(environ)
        start_response(f"{response.status.value} {response.status.phrase}", list(response.headers))
        if environ.get("REQUEST_METHOD") == "HEAD":
            return []
        return response.body

    def _respond(self, environ: Environ) -> _Response:
        method = environ.get("REQUEST_METHOD", "GET")
        if not self.hosts.allows(environ.get("HTTP_HOST")):
            return _text(HTTPStatus.MISDIRECTED_REQUEST, "This server answers local names only.")
        raw = environ.get("PATH_INFO", "")
        try:
            path = raw.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            return _text(HTTPStatus.BAD_REQUEST, "The path is not valid UTF-8.")
        if "\0" in path or not path.startswith("/"):
            return _text(HTTPStatus.BAD_REQUEST, "Bad request path.")
        if path.startswith(PREFIX):
            return self._own(method, path, environ)
        if method not in ("GET", "HEAD"):
            return _not_allowed("GET, HEAD")
        return self._file(path, environ.get("QUERY_STRING", ""))

    # -- the server's own routes -------------------------------------------------------------

    def _own(self, method: str, path: str, environ: Environ) -> _Response:
        if not _loopback(environ.get("REMOTE_ADDR", "")):
            return _text(HTTPStatus.FORBIDDEN, "Live reload and comments answer this machine only.")
        origin = environ.get("HTTP_ORIGIN")
        if origin is not None and not self._same_origin(origin, environ):
            return _text(HTTPStatus.FORBIDDEN, "Cross-origin requests are refused.")
        if path == INTAKE_PATH:
            if method != "POST":
                return _not_allowed("POST")
            return self._comment(environ)
        if method not in ("GET", "HEAD"):
            return _not_allowed("GET, HEAD")
        if path == SCRIPT_PATH:
            return _ok("text/javascript; charset=utf-8", self._script)
        if path == STYLE_PATH:
            return _ok("text/css; charset=utf-8", self._style)
        if path == EVENTS_PATH:
            return self._events(environ.get("QUERY_STRING", ""))
        return _text(HTTPStatus.NOT_FOUND, "Not found.")

    def _same_origin(self, origin: str, environ: Environ) -> bool:
        host = environ.get("HTTP_HOST", "")
        return origin.lower() in (f"http://{host}".lower(), f"https://{host}".lower())

    def _events(self, query: str) -> _Response:
        try:
            params = parse_qs(query, max_num_fields=4)
            since = int(params.get("since", ["0"])[0])
        except ValueError:  # not a number, or too many fields
            return _text(HTTPStatus.BAD_REQUEST, "Expected ?since=N&path=/page/.")
        page = unquote(params.get("path", ["/"])[0])  # reload.js sends location.pathname
        headers = (
            ("Content-Type", "text/event-stream; charset=utf-8"),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
        )
        return _Response(HTTPStatus.OK, headers, self._stream(since, page))

    def _stream(self, since: int, page: str) -> Iterator[bytes]:
        yield b"retry: 1000\n\n"
        seen = since
        current = self.hub.generation
        while not self.hub.stopped:
            yield self._event(seen, current, page)
            seen = current
            while True:
                current = self.hub.wait(seen, self.heartbeat)
                if self.hub.stopped or current > seen:
                    break
                yield b": still here\n\n"

    def _event(self, since: int, current: int, page: str) -> bytes:
        action = _action(self.hub.changes_since(since), page) if current != since else "none"
        data = {
            "generation": current,
            "action": action,
            "problems": [asdict(p) for p in self.hub.problems],
        }
        return b"event: build\ndata: " + json.dumps(data).encode() + b"\n\n"

    def _comment(self, environ: Environ) -> _Response:
        if self.comments is None:
            return _text(HTTPStatus.NOT_FOUND, "Comments are not taken here.")
        try:
            length = int(environ.get("CONTENT_LENGTH") or "0")
        except ValueError:
            return _text(HTTPStatus.BAD_REQUEST, "Bad Content-Length.")
        if length > MAX_FORM_BYTES:
            return _text(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "The comment is too long.")
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        try:
            fields = parse_form(body, environ.get("CONTENT_TYPE", ""))
        except FormError as exc:
            return _text(HTTPStatus.BAD_REQUEST, str(exc))
        received = self.comments.receive(fields)
        url = self.comments.post_url(received.post_slug)
        if received.outcome not in ("published", "pending", "trap") or url is None:
            problems = received.problems or ("there is no such post",)
            return self._refused(problems, url)
        anchor = "comment-published" if received.outcome == "published" else "comment-pending"
        return _Response(
            HTTPStatus.SEE_OTHER,
            (("Location", f"{url}#{anchor}"), ("Content-Length", "0")),
            [],
        )

    def _refused(self, problems: Iterable[str], url: str | None) -> _Response:
        items = "".join(f"<li>{escape(p)}</li>" for p in problems)
        back = f'<p><a href="{escape(url)}#comments">Back to the post</a></p>' if url else ""
        page = (
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            "<title>Comment not accepted</title></head><body><main>"
            f"<h1>Your comment was not accepted</h1><ul>{items}</ul>{back}</main></body></html>"
        )
        return self._html(HTTPStatus.BAD_REQUEST, page.encode())

    # -- files ---------------------------------------------------------------------------------

    def _file(self, path: str, query: str) -> _Response:
        parts = [p for p in path.split("/") if p]
        if "\\" in path or any(p in (".", "..") or p.startswith(".") for p in parts):
            return self._missing()
        target = self.folder.joinpath(*parts)
        try:  # a name too long for the file system is an OSError, like a missing one
            if self._inside(target) and target.is_dir():
                if not path.endswith("/"):
                    location = quote("/" + "".join(f"{p}/" for p in parts))
                    location += f"?{query}" if query else ""
                    return _Response(
                        HTTPStatus.MOVED_PERMANENTLY,
                        (("Location", location), ("Content-Length", "0")),
                        [],
                    )
                target = target / "index.html"
            if not self._inside(target) or not target.is_file():
                return self._missing()
            data = target.read_bytes()
        except OSError:
            return self._missing()
        kind = _content_type(target)
        if kind.startswith("text/html"):
            return self._html(HTTPStatus.OK, data)
        return _ok(kind, data)

    def _inside(self, target: Path) -> bool:
        try:
            return target.resolve().is_relative_to(self.folder.resolve())
        except (OSError, RuntimeError, ValueError):
            return False

    def _missing(self) -> _Response:
        page = self.folder / "404.html"
        try:
            data = page.read_bytes() if self._inside(page) else b""
        except OSError:
            data = b""
        if not data:
            data = (
                b'<!doctype html><html lang="en"><head><meta charset="utf-8">'
                b"<title>Not found</title></head><body><h1>Not found</h1>"
                b"<p>Nothing is built at this address yet.</p></body></html>"
            )
        return self._html(HTTPStatus.NOT_FOUND, data)

    def _html(self, status: HTTPStatus, data: bytes) -> _Response:
        tag = (
            f'<script src="{SCRIPT_PATH}" data-generation="{self.hub.generation}" defer></script>'
        ).encode()
        body = inject(data, tag)
        return _Response(status, _headers("text/html; charset=utf-8", len(body)), [body])


def inject(html: bytes, tag: bytes) -> bytes:
    """``html`` with ``tag`` before ``</head>``, else before ``</body>``, else at the end."""
    lowered = html.lower()
    for closing in (b"</head>", b"</body>"):
        at = lowered.find(closing)
        if at != -1:
            return html[:at] + tag + html[at:]
    return html + tag


def _action(changed: frozenset[str] | None, page: str) -> str:
    """What a page at ``page`` should do about ``changed``: none, css (swap) or reload."""
    if changed is None:
        return "reload"
    page = page.removesuffix("index.html")
    css = False
    for url in changed:
        if url == page:
            return "reload"
        if url.endswith(".css"):
            css = True
        elif not url.endswith(("/", ".html", ".xml", ".txt")):
            return "reload"  # an image or other asset any page may show
    return "css" if css else "none"


def _loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return bool(ip.is_loopback or (mapped is not None and mapped.is_loopback))


def _content_type(path: Path) -> str:
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/javascript", "image/svg+xml"):
        kind += "; charset=utf-8"
    if path.suffix == ".xml" and path.name != "sitemap.xml":
        kind = "application/xml; charset=utf-8"
    return kind


def _headers(kind: str, length: int) -> tuple[tuple[str, str], ...]:
    return (
        ("Content-Type", kind),
        ("Content-Length", str(length)),
        ("Cache-Control", "no-store"),
        ("X-Content-Type-Options", "nosniff"),
    )


def _ok(kind: str, data: bytes) -> _Response:
    return _Response(HTTPStatus.OK, _headers(kind, len(data)), [data])


def _text(status: HTTPStatus, message: str) -> _Response:
    data = (message + "\n").encode()
    return _Response(status, _headers("text/plain; charset=utf-8", len(data)), [data])


def _not_allowed(allow: str) -> _Response:
    data = b"Method not allowed.\n"
    headers = (*_headers("text/plain; charset=utf-8", len(data)), ("Allow", allow))
    return _Response(HTTPStatus.METHOD_NOT_ALLOWED, headers, [data])
