"""The HTTP side of the comment intake: reading a request body within limits, and answers as
JSON or as a small page that says which field was refused without repeating what was sent."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from markupsafe import escape

from cssblog.comments.validate import Problem
from cssblog.intake import JSON_TYPE, LABELS, MAX_FORM_BYTES, body_kind

BODY_SECONDS = 30.0
"""Longest time a client may take to send the request body."""
COMMON_HEADERS = (
    ("Cache-Control", "no-store"),
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "no-referrer"),
)
_PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

Environ = Mapping[str, Any]

__all__ = [
    "BODY_SECONDS",
    "Answer",
    "BodyRefused",
    "Environ",
    "Replier",
    "headers_for",
    "not_allowed",
    "read_body",
    "text",
    "wants_json",
]


@dataclass(frozen=True, slots=True)
class Answer:
    """A response, and what to log of it."""

    status: HTTPStatus
    headers: tuple[tuple[str, str], ...]
    body: bytes
    outcome: str
    """For the log line: pending, published, duplicate, trap, refused, forbidden, ..."""
    note: str = ""
    """More for the log line (``post=... id=...``), never personal data."""


@dataclass(frozen=True, slots=True)
class Replier:
    """How to answer one request: as JSON or as a page, with CORS for an allowed origin."""

    json: bool
    cors: str | None
    home: str

    def error(
        self,
        status: HTTPStatus,
        outcome: str,
        problems: Sequence[Problem],
        *,
        back: str | None = None,
        retry_after: float = 0.0,
    ) -> Answer:
        """A refusal: JSON ``{"status": "refused", "errors": [...]}``, or a page."""
        extra = (("Retry-After", str(max(1, math.ceil(retry_after)))),) if retry_after else ()
        if self.json:
            errors = [{"field": p.field, "message": p.message} for p in problems]
            payload = {"status": "refused", "id": None, "errors": errors}
            return self.payload(status, payload, outcome, extra)
        return _page(status, outcome, problems, back, self.home, extra)

    def payload(
        self,
        status: HTTPStatus,
        data: dict[str, Any],
        outcome: str,
        extra: tuple[tuple[str, str], ...] = (),
        note: str = "",
    ) -> Answer:
        """A JSON answer, with CORS headers for an allowed origin."""
        body = json.dumps(data).encode()
        cors = (("Access-Control-Allow-Origin", self.cors), ("Vary", "Origin")) if self.cors else ()
        headers = (*headers_for("application/json", len(body)), *cors, *extra)
        return Answer(status, headers, body, outcome, note)


class BodyRefused(Exception):
    """The request body is not read: its length is missing or too large, or it came too slowly."""

    def __init__(self, status: HTTPStatus, reason: str, outcome: str = "refused") -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.outcome = outcome


def read_body(environ: Environ, monotonic: Callable[[], float]) -> bytes:
    """The request body; :class:`BodyRefused` when its length is missing, too large, or it
    comes too slowly."""
    declared = str(environ.get("CONTENT_LENGTH") or "")
    if environ.get("HTTP_TRANSFER_ENCODING") or not declared:
        raise BodyRefused(HTTPStatus.LENGTH_REQUIRED, "send a Content-Length")
    if not declared.isdigit() or not declared.isascii():
        raise BodyRefused(HTTPStatus.BAD_REQUEST, "the Content-Length is not a number")
    length = int(declared)
    if length > MAX_FORM_BYTES:
        raise BodyRefused(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, "the comment is too long")
    stream = environ["wsgi.input"]
    read = getattr(stream, "read1", None) or stream.read
    deadline = monotonic() + BODY_SECONDS
    chunks, remaining = [], length
    try:
        while remaining > 0:
            if monotonic() > deadline:
                raise TimeoutError
            chunk = read(min(remaining, 65536))
            if not chunk:
                raise BodyRefused(HTTPStatus.BAD_REQUEST, "the request ended early")
            chunks.append(chunk)
            remaining -= len(chunk)
    except TimeoutError:
        raise BodyRefused(
            HTTPStatus.REQUEST_TIMEOUT, "the request took too long", "timeout"
        ) from None
    except OSError:
        raise BodyRefused(HTTPStatus.BAD_REQUEST, "the request could not be read") from None
    return b"".join(chunks)


def wants_json(environ: Environ) -> bool:
    """The request is JSON, or asks for JSON rather than a page."""
    if body_kind(str(environ.get("CONTENT_TYPE", ""))) == JSON_TYPE:
        return True
    accept = str(environ.get("HTTP_ACCEPT", ""))
    return JSON_TYPE in accept and "text/html" not in accept


def headers_for(kind: str, length: int) -> tuple[tuple[str, str], ...]:
    """The headers of every answer with a body of ``kind`` and ``length``."""
    return (("Content-Type", kind), ("Content-Length", str(length)), *COMMON_HEADERS)


def text(status: HTTPStatus, message: str, outcome: str) -> Answer:
    """A plain-text answer."""
    data = message.encode()
    return Answer(status, headers_for("text/plain; charset=utf-8", len(data)), data, outcome)


def not_allowed(allow: str) -> Answer:
    """405, naming the methods allowed."""
    data = b"Method not allowed."
    headers = (*headers_for("text/plain; charset=utf-8", len(data)), ("Allow", allow))
    return Answer(HTTPStatus.METHOD_NOT_ALLOWED, headers, data, "not_allowed")


def _page(
    status: HTTPStatus,
    outcome: str,
    problems: Sequence[Problem],
    post: str | None,
    home: str,
    extra: tuple[tuple[str, str], ...],
) -> Answer:
    """A small page saying which fields were refused; nothing sent is repeated."""
    items = "".join(f"<li>{escape(_sentence(p))}</li>" for p in problems)
    if post:
        back = f'<a href="{escape(post)}#comments">Back to the post</a>'
    else:
        back = f'<a href="{escape(home)}">Back to the site</a>'
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex"><title>Comment not accepted</title></head>'
        f"<body><main><h1>Your comment was not accepted</h1><ul>{items}</ul>"
        f"<p>{back}</p></main></body></html>"
    ).encode()
    headers = (
        *headers_for("text/html; charset=utf-8", len(page)),
        ("Content-Security-Policy", _PAGE_POLICY),
        *extra,
    )
    return Answer(status, headers, page, outcome)


def _sentence(problem: Problem) -> str:
    if problem.kind == "missing" or problem.field == "form":
        sentence = problem.message
    else:
        sentence = f"{LABELS.get(problem.field, problem.field)}: {problem.message}"
    return sentence[:1].upper() + sentence[1:] + "."
