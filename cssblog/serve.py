"""``cssblog serve``: the preview build, the file watcher and the HTTP server, wired together.

The watcher's thread runs every rebuild, one at a time; the HTTP server answers from its own
threads meanwhile, from the last good preview. A comment posted to the preview is stored by the
intake, and the answer waits for the rebuild that shows it.
"""

from __future__ import annotations

import contextlib
import ipaddress
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from watchdog.observers import Observer

import cssblog
from cssblog import collector
from cssblog.config import CONFIG_NAME, load_config
from cssblog.errors import CssblogError
from cssblog.httpd import PreviewHTTPServer, make_server
from cssblog.intake import Intake, Received
from cssblog.preview import Outcome, Preview
from cssblog.server import LOCAL_NAMES, HostPolicy, PreviewApp, ReloadHub
from cssblog.watch import Watch, WatchedPath, Watcher

COMMENT_WAIT = 10.0
"""Longest wait, after storing a comment, for the rebuild that shows it."""

__all__ = ["PreviewSession", "is_loopback", "watched_paths"]


def is_loopback(host: str) -> bool:
    """``host`` reaches only this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def watched_paths(root: Path) -> tuple[WatchedPath, ...]:
    """The site's content, themes and configuration; the bundled theme in a source checkout."""
    paths = [WatchedPath(root / "content"), WatchedPath(root / CONFIG_NAME, recursive=False)]
    if (root / "themes").is_dir():
        paths.append(WatchedPath(root / "themes"))
    bundled = Path(cssblog.__file__).resolve().parent / "themes"
    if "site-packages" not in bundled.parts:  # a source checkout: theme work shows at once
        paths.append(WatchedPath(bundled))
    return tuple(paths)


class PreviewSession:
    """A running preview of one site."""

    def __init__(
        self,
        root: Path,
        *,
        clock: Callable[[], datetime],
        host: str = "127.0.0.1",
        port: int = 8000,
        drafts: bool = True,
        on_build: Callable[[Outcome], None] = lambda _: None,
        on_warning: Callable[[str], None] = lambda _: None,
        log: Callable[[str], None] = lambda _: None,
        observer_factory: Callable[[], object] | None = None,
        heartbeat: float = 15.0,
    ) -> None:
        self.root = root.resolve()
        self.clock = clock
        self.preview = Preview(self.root, drafts=drafts)
        self.hub = ReloadHub()
        self._on_build = on_build
        self._built = threading.Condition()
        self._built_from = 0.0
        self.watcher = Watcher(
            watched_paths(self.root),
            self._changed,
            on_warning=on_warning,
            observer_factory=observer_factory or Observer,
            matters=self.preview.knows,
        )
        self.app = PreviewApp(
            self.preview.output,
            self.hub,
            comments=_PreviewComments(self),
            hosts=_host_policy(host),
            heartbeat=heartbeat,
        )
        self.server: PreviewHTTPServer = make_server(host, port, self.app, log=log)
        self._thread: threading.Thread | None = None
        self.watch: Watch | None = None

    @property
    def url(self) -> str:
        """Where the preview is served."""
        host, port = str(self.server.server_address[0]), self.server.server_address[1]
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1"
        shown = f"[{host}]" if ":" in str(host) else host
        return f"http://{shown}:{port}/"

    def start(self) -> Outcome:
        """Build the preview, start watching, and start answering requests."""
        first = self._rebuild(None)
        self.watch = self.watcher.start()
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.2}, name="cssblog-serve"
        )
        self._thread.start()
        return first

    def stop(self) -> None:
        """Stop serving and watching; end open connections; keep the warm cache."""
        self.hub.stop()
        self.watcher.stop()
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join()
        self.server.server_close()
        self.preview.close()

    def wait_for_rebuild(self, since: float, timeout: float) -> bool:
        """Wait for a rebuild that started after ``since`` (a ``time.monotonic()``) to finish."""
        with self._built:
            return self._built.wait_for(lambda: self._built_from >= since, timeout)

    def _changed(self, paths: frozenset[str]) -> None:
        self._rebuild(paths)

    def _rebuild(self, paths: frozenset[str] | None) -> Outcome:
        started = time.monotonic()
        # After a warm rebuild, garbage is collected once the pages are told to reload.
        with collector.paused() if paths is not None else contextlib.nullcontext():
            outcome = self.preview.rebuild(self.clock(), changed=paths, early=self.hub.publish)
            self.hub.publish(outcome)
        with self._built:
            self._built_from = started
            self._built.notify_all()
        self._on_build(outcome)
        return outcome


class _PreviewComments:
    """The preview's comment desk: the shared intake, then wait for the page to show it."""

    def __init__(self, session: PreviewSession) -> None:
        self._session = session
        self._intake = Intake()

    def receive(self, fields: dict[str, str]) -> Received:
        session = self._session
        try:
            config = load_config(session.root)
        except CssblogError as exc:
            return Received("refused", fields.get("post", ""), problems=(exc.message,))
        received = self._intake.receive(config, fields, now=session.clock())
        if received.comment is not None and not received.duplicate:
            session.wait_for_rebuild(time.monotonic(), COMMENT_WAIT)
        return received

    def post_url(self, slug: str) -> str | None:
        return self._session.preview.post_urls.get(slug)


def _host_policy(host: str) -> HostPolicy:
    if host in ("0.0.0.0", "::", ""):
        return HostPolicy(any_address=True)
    return HostPolicy(names=LOCAL_NAMES | {host.lower().strip("[]")})
