"""What every loopback test server shares: a quiet handler, the answer it writes, and a
threaded server on a free 127.0.0.1 port that a ``with`` block starts and stops."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self

HTML = "text/html; charset=utf-8"


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing, answers GET with ``get`` (a subclass's) and
    writes whole answers with ``answer``."""

    def do_GET(self) -> None:
        self.get()

    def get(self) -> None:
        self.answer(404, b"<h1>Page not found</h1>")

    def log_message(self, format: str, *args: object) -> None:
        return

    def answer(
        self,
        status: int,
        body: bytes,
        content_type: str = HTML,
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class ServedInThread:
    """``server`` serves in a daemon thread while the ``with`` block runs."""

    def __init__(self, server: socketserver.BaseServer) -> None:
        self.server = server
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> Self:
        self.thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.server.shutdown()
        self.server.server_close()


class LoopbackServer(ServedInThread):
    """Serves ``handler`` on a free loopback port in a thread while the ``with`` block runs."""

    def __init__(
        self, handler: type[BaseHTTPRequestHandler], server: type[ThreadingHTTPServer] | None = None
    ) -> None:
        http = (server or ThreadingHTTPServer)(("127.0.0.1", 0), handler)
        super().__init__(http)
        self.server: ThreadingHTTPServer = http
        self.base_url = f"http://127.0.0.1:{http.server_address[1]}"
