"""A local HTTP server on 127.0.0.1 that serves queued replies per path, for the fetch tests.

Each path has a queue of replies; a request takes the first, and the last one stays to answer every
later request. A reply can announce a Content-Length larger than its body and then close the
connection (a truncated download), redirect, wait before answering (a timeout), or stall after part
of its body until the server stops (a download in progress, for a run killed mid-write).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Reply:
    """One answer of the server."""

    status: int = 200
    """The HTTP status."""
    body: bytes = b""
    """The bytes sent after the headers."""
    content_type: str | None = None
    """The Content-Type header; none when None."""
    headers: tuple[tuple[str, str], ...] = ()
    """More headers (Location, Retry-After)."""
    length: int | None = None
    """The Content-Length announced; the body's own length when None."""
    delay: float = 0.0
    """Seconds to wait before answering."""
    stall: bool = False
    """Send the body, then hold the connection open until the server stops (announce a longer
    `length`: the client is left waiting for the rest)."""


class DataServer:
    """The server and what it was asked."""

    def __init__(self) -> None:
        self.queues: dict[str, list[Reply]] = {}
        self.requests: list[str] = []
        self.authorizations: list[str | None] = []
        """The Authorization header of each request, in order (None when it had none)."""
        self.headers: list[dict[str, str]] = []
        """Every header of each request, in order."""
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                with server.lock:
                    server.headers.append(dict(self.headers.items()))
                reply = server.take(self.path, self.headers.get("Authorization"))
                time.sleep(reply.delay)
                self.send_response(reply.status)
                if reply.content_type:
                    self.send_header("Content-Type", reply.content_type)
                for name, value in reply.headers:
                    self.send_header(name, value)
                length = len(reply.body) if reply.length is None else reply.length
                self.send_header("Content-Length", str(length))
                if length != len(reply.body):
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                try:
                    self.wfile.write(reply.body)
                    self.wfile.flush()
                    if reply.stall:
                        server.stopping.wait(120)
                except OSError:
                    pass  # the client gave up (a timeout test)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def base(self) -> str:
        """`http://127.0.0.1:PORT`."""
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        """The URL of `path` on this server."""
        return self.base + path

    def serve(self, path: str, *replies: Reply) -> None:
        """Queue `replies` for `path` (replacing what was queued)."""
        with self.lock:
            self.queues[path] = list(replies)

    def take(self, path: str, authorization: str | None = None) -> Reply:
        """The next reply for `path`; 404 for a path nothing was queued for."""
        with self.lock:
            self.requests.append(path)
            self.authorizations.append(authorization)
            queue = self.queues.get(path)
            if not queue:
                return Reply(404, b"not found", "text/plain")
            return queue.pop(0) if len(queue) > 1 else queue[0]

    def asked(self, path: str) -> int:
        """How many requests `path` got."""
        with self.lock:
            return self.requests.count(path)


def unused_url(path: str) -> str:
    """A URL on a port of 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"


def running_server() -> Iterator[DataServer]:
    """A started server, shut down after use (the body of a pytest fixture)."""
    server = DataServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.httpd.shutdown()
        server.httpd.server_close()


@contextlib.contextmanager
def hanging_up(reset: bool) -> Iterator[str]:
    """The base URL of a server on 127.0.0.1 that reads each request and closes the connection
    without answering: with a reset (RST) when `reset`, else an orderly close."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn, contextlib.suppress(OSError):
                conn.recv(65536)
                if reset:
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join()
        listener.close()
