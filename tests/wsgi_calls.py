"""Calling a WSGI app without sockets, the way ``wsgiref`` calls it."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote
from wsgiref.util import setup_testing_defaults

import pytest

WSGIApp = Callable[..., Iterable[bytes]]


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return {k.lower(): v for k, v in self.headers.items()}.get(name.lower())

    def json(self) -> Any:
        return json.loads(self.body)


class MustNotRead(io.RawIOBase):
    """A request body that fails the test if the app reads any of it."""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        pytest.fail("the app read a request body it should have refused unread")

    def readinto(self, buffer: Any) -> int:
        pytest.fail("the app read a request body it should have refused unread")

    def readline(self, size: int | None = -1) -> bytes:
        pytest.fail("the app read a request body it should have refused unread")


def environ(
    target: str,
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    body: bytes | io.RawIOBase = b"",
    remote: str = "127.0.0.1",
) -> dict[str, Any]:
    """The environ ``wsgiref`` builds for a request line naming ``target`` (as sent, encoded)."""
    path, _, query = target.partition("?")
    env: dict[str, Any] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": unquote(path, "latin-1"),
        "QUERY_STRING": query,
        "REMOTE_ADDR": remote,
        "wsgi.input": io.BytesIO(body) if isinstance(body, bytes) else body,
    }
    if isinstance(body, bytes) and body:
        env["CONTENT_LENGTH"] = str(len(body))
    for name, value in (headers or {}).items():
        key = name.upper().replace("-", "_")
        env[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else f"HTTP_{key}"] = value
    setup_testing_defaults(env)
    return env


def start(app: WSGIApp, target: str, **kwargs: Any) -> tuple[int, dict[str, str], Iterable[bytes]]:
    """Call ``app``; its status, headers and (unconsumed) body. Headers are checked as a
    server would send them: text, latin-1, no CR or LF."""
    started: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        assert not started, "start_response called twice"
        for name, value in headers:
            assert isinstance(name, str) and isinstance(value, str)
            value.encode("latin-1")  # what a server must be able to send
            assert "\r" not in value and "\n" not in value
        started.append((status, headers))

    body = app(environ(target, **kwargs), start_response)
    status, headers = started[0]
    return int(status.split()[0]), dict(headers), body


def call(app: WSGIApp, target: str = "/", **kwargs: Any) -> Reply:
    """Call ``app`` and read its whole answer, closing it as a server must."""
    status, headers, body = start(app, target, **kwargs)
    try:
        return Reply(status, headers, b"".join(body))
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()
