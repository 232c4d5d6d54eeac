"""A small threaded HTTP server for a WSGI app, with the limits a local server needs.

Built on the standard library's ``wsgiref`` with what it lacks for a server a browser and
hostile pages can reach: a bound on the request line (8 KiB), on header count and size (the
standard library's 100 headers of 64 KiB), on concurrent connections, a timeout on every
socket read and write, and a deadline for the whole request line and headers, so a client that
trickles its request a byte at a time cannot hold a thread. A client that goes away
mid-response is not an error worth a traceback.
"""

from __future__ import annotations

import contextlib
import io
import socket
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

MAX_REQUEST_LINE = 8192
MAX_CONNECTIONS = 256
TIMEOUT = 10.0
"""Seconds a connection may stay silent (a stalled reader), and may take to send its headers."""

__all__ = ["PreviewHTTPServer", "make_server"]

WSGIApp = Callable[..., Any]
Log = Callable[[str], None]


class _Reader(io.RawIOBase):
    """A socket's input with an optional deadline, which a trickle of bytes cannot push back."""

    def __init__(self, sock: socket.socket, timeout: float) -> None:
        super().__init__()
        self._sock = sock
        self._timeout = timeout
        self.deadline: float | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        timeout = self._timeout
        if self.deadline is not None:
            timeout = min(timeout, self.deadline - time.monotonic())
            if timeout <= 0:
                raise TimeoutError("the request line and headers took too long")
        self._sock.settimeout(timeout)
        try:
            return self._sock.recv_into(buffer)
        finally:
            self._sock.settimeout(self._timeout)  # writes keep the full timeout


class _Handler(WSGIRequestHandler):
    server: PreviewHTTPServer

    def setup(self) -> None:
        super().setup()
        timeout = self.server.request_timeout
        self.connection.settimeout(timeout)
        self.rfile.close()  # replaced by a reader that keeps to the request's deadline
        self._reader = _Reader(self.connection, timeout)
        self.rfile = io.BufferedReader(self._reader)

    def handle(self) -> None:
        self._reader.deadline = time.monotonic() + self.server.request_timeout
        self.raw_requestline = self.rfile.readline(MAX_REQUEST_LINE + 1)
        if len(self.raw_requestline) > MAX_REQUEST_LINE:
            self.requestline = ""
            self.request_version = ""
            self.command = ""
            self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
            return
        if not self.parse_request():
            return
        self._reader.deadline = None  # the body: each read within the timeout
        handler = ServerHandler(
            self.rfile,
            self.wfile,  # type: ignore[arg-type]
            self.get_stderr(),
            self.get_environ(),
            multithread=True,
        )
        handler.request_handler = self  # type: ignore[attr-defined]
        handler.run(self.server.app)

    def log_message(self, format: str, *args: Any) -> None:
        self.server.log(format % args)

    def log_error(self, format: str, *args: Any) -> None:
        self.server.log(format % args)


class PreviewHTTPServer(ThreadingMixIn, WSGIServer):
    """A WSGI server with one thread per connection, up to :data:`MAX_CONNECTIONS`.

    The threads are daemon threads (one stuck thread cannot keep the program from exiting),
    which ``ThreadingMixIn`` does not join; this server keeps them itself and joins them in
    :meth:`server_close`.
    """

    request_queue_size = 128  # the standard library's 5 drops a browser's burst of connections

    def __init__(
        self,
        address: tuple[str, int],
        app: WSGIApp,
        *,
        log: Log = lambda _: None,
        max_connections: int = MAX_CONNECTIONS,
        request_timeout: float = TIMEOUT,
    ) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _Handler)
        self.app: WSGIApp = app
        self.log = log
        self.request_timeout = request_timeout
        self._slots = threading.BoundedSemaphore(max_connections)
        self._open: set[socket.socket] = set()
        self._workers: list[threading.Thread] = []
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.log(f"refused a connection from {client_address[0]}: too many open")
            self.shutdown_request(request)
            return
        worker = threading.Thread(
            target=self.process_request_thread, args=(request, client_address), daemon=True
        )
        with self._open_lock:
            self._open.add(request)
            self._workers = [t for t in self._workers if t.is_alive()]
            self._workers.append(worker)
        try:
            worker.start()
        except BaseException:
            self._release(request)
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._release(request)

    def _release(self, request: socket.socket) -> None:
        with self._open_lock:
            self._open.discard(request)
        self._slots.release()

    def server_close(self) -> None:
        """Stop listening, end every open connection, and wait for their threads.

        Call after :meth:`shutdown`. A thread still busy after ``request_timeout`` (a
        live-reload stream whose hub was not stopped) is left to end on its own.
        """
        with self._open_lock:
            still_open = list(self._open)
            workers, self._workers = self._workers, []
        for request in still_open:
            with contextlib.suppress(OSError):
                request.shutdown(socket.SHUT_RDWR)
        super().server_close()
        deadline = time.monotonic() + self.request_timeout
        for worker in workers:
            if worker.is_alive() and worker is not threading.current_thread():
                worker.join(max(0.0, deadline - time.monotonic()))

    def handle_error(self, request: Any, client_address: Any) -> None:
        self.log(f"connection from {client_address[0]} ended abruptly")

    @property
    def port(self) -> int:
        """The port actually bound (useful with port 0)."""
        return int(self.server_address[1])


def make_server(
    host: str, port: int, app: WSGIApp, *, log: Log = lambda _: None
) -> PreviewHTTPServer:
    """A server for ``app`` bound to ``host:port`` (port 0: any free port)."""
    return PreviewHTTPServer((host, port), app, log=log)
