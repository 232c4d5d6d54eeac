"""The comment intake of the live site: a WSGI app taking the theme's comment form and JSON at
``POST /comments``, answering ``GET /healthz``.

Run it with ``cssblog intake``, or under any WSGI server::

    gunicorn 'cssblog.intake_app:create_app("/srv/blog")'
    CSSBLOG_SITE=/srv/blog waitress-serve --call cssblog.intake_app:create_app

A post is taken only from the pages of the allowed origins (``Origin``, else ``Referer``),
within the client's rate, as an urlencoded form or a JSON object of strings no larger than
:data:`~cssblog.intake.MAX_FORM_BYTES` (refused unread when ``Content-Length`` says more),
sent within :data:`~cssblog.intake_http.BODY_SECONDS`. A form is answered with a redirect to
the post on ``[site] url``, built from the configuration alone, or a small page saying which
field was refused; JSON with JSON. No answer repeats what was sent. Each request is logged as
one ``key=value`` line without names, email addresses, text or full client addresses.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any

from cssblog.comments.model import new_comment_id
from cssblog.comments.store import remove_stale_temps
from cssblog.comments.validate import Problem
from cssblog.config import SiteConfig, load_config
from cssblog.content import Post
from cssblog.errors import CssblogError
from cssblog.intake import FormError, Intake, Received, body_kind, read_fields
from cssblog.intake_http import (
    COMMON_HEADERS,
    Answer,
    BodyRefused,
    Environ,
    Replier,
    headers_for,
    not_allowed,
    read_body,
    text,
    wants_json,
)
from cssblog.notify import Arrival, GitCommitter, Mailer, Notifier, notify
from cssblog.ratelimit import FloodCheck, RateLimiter, client_address, masked, parse_networks
from cssblog.urls import absolute, origin, post_route

ROUTE = "/comments"
HEALTH = "/healthz"
STALE_TEMP_SECONDS = 600.0
"""Temporary files older than this are a dead writer's leftovers, removed at start."""
REFRESH_SECONDS = 2.0
"""How old the list of posts and the comments' statuses may be."""
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_NOT_NOW = {
    "limited": (
        HTTPStatus.TOO_MANY_REQUESTS,
        "flood",
        "you are posting comments too quickly; slow down",
    ),
    "unavailable": (
        HTTPStatus.SERVICE_UNAVAILABLE,
        "unavailable",
        "comments cannot be stored just now; try again later",
    ),
}

log = logging.getLogger(__name__)

StartResponse = Callable[..., Any]

__all__ = ["HEALTH", "ROUTE", "IntakeApp", "create_app", "make_app"]


class IntakeApp:
    """The WSGI app: ``POST``/``OPTIONS /comments`` and ``GET /healthz``; thread-safe."""

    def __init__(
        self,
        config: SiteConfig,
        *,
        clock: Callable[[], datetime],
        monotonic: Callable[[], float] = time.monotonic,
        notifiers: Iterable[tuple[str, Notifier]] = (),
        refresh: float = REFRESH_SECONDS,
    ) -> None:
        settings = config.intake
        self.config = config
        self.queue = config.root / settings.queue_dir
        self.origins = settings.origins(config.site.url)
        self.proxies = parse_networks(settings.trusted_proxies)
        self.intake = Intake(
            drafts=False,
            queue=self.queue,
            refresh=refresh,
            max_queued=settings.max_queued,
            clock=monotonic,
        )
        self.limiter = RateLimiter(settings.rate_per_minute, clock=monotonic)
        self.flood = FloodCheck(settings.flood_seconds, clock=monotonic)
        self.notifiers = tuple(notifiers)
        self._clock = clock
        self._monotonic = monotonic

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        started = self._monotonic()
        client = client_address(
            str(environ.get("REMOTE_ADDR", "")),
            str(environ.get("HTTP_X_FORWARDED_FOR", "")),
            self.proxies,
        )
        response = self._respond(environ, client)
        start_response(f"{response.status.value} {response.status.phrase}", list(response.headers))
        method = str(environ.get("REQUEST_METHOD", ""))
        path = str(environ.get("PATH_INFO", ""))
        log.info(
            "method=%s path=%s status=%d duration_ms=%.1f outcome=%s client=%s%s",
            method if method in _METHODS else "other",
            path if path in (ROUTE, HEALTH) else "other",
            response.status.value,
            (self._monotonic() - started) * 1000,
            response.outcome,
            masked(client),
            f" {response.note}" if response.note else "",
        )
        return [] if method == "HEAD" else [response.body]

    def _respond(self, environ: Environ, client: str) -> Answer:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == ROUTE:
            if method == "POST":
                return self._post(environ, client)
            if method == "OPTIONS":
                return self._preflight(environ)
            return not_allowed("POST, OPTIONS")
        if path == HEALTH:
            return self._health() if method in ("GET", "HEAD") else not_allowed("GET, HEAD")
        return text(HTTPStatus.NOT_FOUND, "Not found.", "not_found")

    # -- POST /comments ------------------------------------------------------------------------

    def _post(self, environ: Environ, client: str) -> Answer:
        allowed, cors = self._origin(environ)
        replier = Replier(wants_json(environ), cors, absolute(self.config.site.url, "/"))
        if not allowed:
            problem = Problem("form", "comments are taken only from this site's own pages")
            return replier.error(HTTPStatus.FORBIDDEN, "forbidden", [problem])
        wait = self.limiter.take(client)
        if wait:
            problem = Problem("form", "too many requests; wait a little and send it again")
            return replier.error(
                HTTPStatus.TOO_MANY_REQUESTS, "limited", [problem], retry_after=wait
            )
        content_type = str(environ.get("CONTENT_TYPE", ""))
        if body_kind(content_type) is None:
            problem = Problem("form", "send the comment form, or JSON")
            return replier.error(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, "refused", [problem])
        try:
            fields = read_fields(read_body(environ, self._monotonic), content_type)
        except BodyRefused as refused:
            return replier.error(refused.status, refused.outcome, [Problem("form", refused.reason)])
        except FormError:
            problem = Problem("form", "the request could not be read as a comment")
            return replier.error(HTTPStatus.BAD_REQUEST, "refused", [problem])
        email = fields.get("email", "")
        received = self.intake.receive(
            self.config, fields, now=self._clock(), gate=lambda: self.flood.claim(client, email)
        )
        if received.comment is not None and not received.duplicate:
            self._notify(received)
        return self._answer(received, replier)

    def _origin(self, environ: Environ) -> tuple[bool, str | None]:
        """Whether the request comes from an allowed page; the origin to name in CORS."""
        sent = environ.get("HTTP_ORIGIN")
        if sent is not None:
            found = origin(str(sent))  # "null" (a sandboxed or file page) is no origin
            return (True, found) if found in self.origins else (False, None)
        if environ.get("HTTP_SEC_FETCH_SITE") == "cross-site":
            return False, None
        referer = environ.get("HTTP_REFERER")
        return (origin(str(referer)) in self.origins if referer else False), None

    def _answer(self, received: Received, replier: Replier) -> Answer:
        post = received.post
        back = self._post_url(post) if post is not None else None
        outcome = received.outcome
        if outcome in ("pending", "published", "trap"):
            return self._accepted(received, replier, back)
        if outcome in _NOT_NOW:
            status, label, message = _NOT_NOW[outcome]
            if outcome == "unavailable":
                log.error("comment not stored: %s", "; ".join(received.problems) or "unknown")
            return replier.error(
                status,
                label,
                [Problem("form", message)],
                back=back,
                retry_after=received.retry_after,
            )
        kinds = {p.kind for p in received.issues}
        status = (
            HTTPStatus.NOT_FOUND
            if "unknown" in kinds
            else HTTPStatus.FORBIDDEN
            if "closed" in kinds
            else HTTPStatus.BAD_REQUEST
        )
        return replier.error(status, "refused", received.issues, back=back)

    def _accepted(self, received: Received, replier: Replier, back: str | None) -> Answer:
        comment = received.comment
        shown = "published" if received.outcome == "published" else "pending"
        outcome = "duplicate" if received.duplicate else received.outcome
        note = f"post={comment.post_slug} id={comment.id}" if comment else ""
        if replier.json:
            cid = comment.id if comment else new_comment_id(self._clock())  # a trap looks real
            status = HTTPStatus.OK if received.duplicate else HTTPStatus.CREATED
            data = {"status": shown, "id": cid, "errors": []}
            return replier.payload(status, data, outcome, note=note)
        location = f"{back or replier.home}#comment-{shown}"
        headers = (("Location", location), *headers_for("text/plain; charset=utf-8", 0))
        return Answer(HTTPStatus.SEE_OTHER, headers, b"", outcome, note)

    def _post_url(self, post: Post) -> str:
        """The post's address on the live site, from the configuration and the post alone."""
        route = post_route(self.config.site.permalink, post.date, post.slug)
        return absolute(self.config.site.url, route.url)

    def _notify(self, received: Received) -> None:
        if not self.notifiers or received.comment is None or received.post is None:
            return
        arrival = Arrival(
            comment=received.comment,
            post_title=received.post.title,
            post_url=self._post_url(received.post),
            site_title=self.config.site.title,
        )
        notify(arrival, self.notifiers)

    # -- OPTIONS /comments, GET /healthz -----------------------------------------------------

    def _preflight(self, environ: Environ) -> Answer:
        found = origin(str(environ.get("HTTP_ORIGIN", "")))
        method = environ.get("HTTP_ACCESS_CONTROL_REQUEST_METHOD")
        if found not in self.origins or method != "POST":
            return text(HTTPStatus.FORBIDDEN, "Cross-origin requests are refused.", "forbidden")
        assert found is not None
        headers = (
            ("Access-Control-Allow-Origin", found),
            ("Access-Control-Allow-Methods", "POST"),
            ("Access-Control-Allow-Headers", "Content-Type"),
            ("Access-Control-Max-Age", "600"),
            ("Vary", "Origin"),
            ("Content-Length", "0"),
            *COMMON_HEADERS,
        )
        return Answer(HTTPStatus.NO_CONTENT, headers, b"", "preflight")

    def _health(self) -> Answer:
        """``ok`` when a comment could be written now."""
        try:
            self.queue.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=".healthz-", suffix=".tmp", dir=self.queue)
            os.close(fd)
            Path(name).unlink()
        except OSError:
            return text(HTTPStatus.SERVICE_UNAVAILABLE, "unavailable", "unhealthy")
        return text(HTTPStatus.OK, "ok", "ok")


def make_app(
    config: SiteConfig,
    *,
    environ: Mapping[str, str],
    clock: Callable[[], datetime],
    wall: Callable[[], float] = time.time,
) -> IntakeApp:
    """The intake for ``config``: the queue folder made, a dead writer's leftovers removed,
    git and email set up as configured. Raises :class:`CssblogError` when they cannot be."""
    settings = config.intake
    queue = config.root / settings.queue_dir
    try:
        queue.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CssblogError(f"cannot make the queue folder: {exc.strerror}", path=queue) from exc
    removed = remove_stale_temps(queue, STALE_TEMP_SECONDS, wall())
    if removed:
        log.info("startup removed_temps=%d", removed)
    notifiers: list[tuple[str, Notifier]] = []
    if settings.git_commit:
        committer = GitCommitter(config.root)
        committer.check()
        notifiers.append(("git", committer))
    if settings.notify_email:
        password = environ.get(settings.smtp_password_env, "")
        if settings.smtp_user and not password:
            raise CssblogError(
                f"[intake] smtp_user is set but ${settings.smtp_password_env} is not",
                hint="put the SMTP password in that environment variable",
            )
        notifiers.append(("email", Mailer(settings, password)))
    return IntakeApp(config, clock=clock, notifiers=notifiers)


def create_app(site_dir: str | Path | None = None) -> IntakeApp:
    """The intake of the site in ``site_dir`` (default: ``$CSSBLOG_SITE``, else the current
    folder), for a WSGI server such as gunicorn or waitress."""
    root = Path(site_dir or os.environ.get("CSSBLOG_SITE") or ".").resolve()
    return make_app(load_config(root), environ=os.environ, clock=lambda: datetime.now(UTC))
