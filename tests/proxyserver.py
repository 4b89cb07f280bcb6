"""A loopback forward proxy, and a loopback site that records what reaches it.

``ForwardProxy`` is a small threaded HTTP proxy on 127.0.0.1: it answers absolute-form
``GET http://host/path`` requests by forwarding them (Host header included) and ``CONNECT
host:port`` by tunnelling bytes, to the loopback address its ``routes`` give for the target
(``"host:port"`` -> ``("127.0.0.1", port)``), so no name is ever resolved. It records every
request line and Host header it sees (``log``), and answers 403 for hosts in ``refuse``
(502 for a target it has no route to).

``RecordingSite`` serves fixed answers by path and records each request it gets (path,
headers, arrival time on the monotonic clock).
"""

from __future__ import annotations

import http.client
import select
import socket
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

from tests.loopback import HTML, LoopbackServer, QuietHandler, ServedInThread

# not forwarded in either direction (hop by hop, or recomputed)
_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authorization",
    "proxy-authenticate",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
}


@dataclass(frozen=True)
class ProxyRequest:
    line: str  # the request line as sent: "GET http://host/path HTTP/1.1", "CONNECT h:443 ..."
    host: str  # its Host header ("" when none)


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, routes: dict[str, tuple[str, int]], refuse: set[str]) -> None:
        super().__init__(("127.0.0.1", 0), _ProxyHandler)
        self.routes = routes
        self.refuse = refuse
        self.log: list[ProxyRequest] = []
        self.lock = threading.Lock()


class _ProxyHandler(BaseHTTPRequestHandler):
    server: _ProxyServer

    def log_message(self, format: str, *args: object) -> None:
        return

    def _record(self) -> None:
        with self.server.lock:
            self.server.log.append(ProxyRequest(self.requestline, self.headers.get("Host", "")))

    def _refuse(self, status: int) -> None:
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _route(self, host: str, port: int) -> tuple[str, int] | None:
        if host in self.server.refuse:
            self._refuse(403)
            return None
        upstream = self.server.routes.get(f"{host}:{port}")
        if upstream is None:
            self._refuse(502)
        return upstream

    def do_GET(self) -> None:
        self._record()
        target = urlsplit(self.path)
        if target.scheme != "http" or not target.hostname:
            self._refuse(400)  # only absolute-form http:// requests are proxied
            return
        upstream = self._route(target.hostname, target.port or 80)
        if upstream is None:
            return
        path = target.path or "/"
        path += f"?{target.query}" if target.query else ""
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
        conn = http.client.HTTPConnection(*upstream, timeout=10)
        try:
            conn.request("GET", path, headers=headers)
            answer = conn.getresponse()
            body = answer.read()
            self.send_response(answer.status, answer.reason)
            for name, value in answer.getheaders():
                if name.lower() not in _HOP:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        finally:
            conn.close()

    def do_CONNECT(self) -> None:
        self._record()
        host, _, port = self.path.rpartition(":")
        upstream = self._route(host.strip("[]").lower(), int(port) if port.isdigit() else 443)
        if upstream is None:
            return
        with socket.create_connection(upstream, timeout=10) as far:
            self.send_response(200, "Connection established")
            self.end_headers()
            _pipe(self.connection, far)


def _pipe(near: socket.socket, far: socket.socket) -> None:
    """Copy bytes both ways until either side closes (or 10 s of silence)."""
    while True:
        readable, _, _ = select.select([near, far], [], [], 10)
        if not readable:
            return
        for sock in readable:
            data = sock.recv(65536)
            if not data:
                return
            (far if sock is near else near).sendall(data)


class ForwardProxy(ServedInThread):
    """Runs while the ``with`` block does; ``url`` is what ``FetchPolicy.proxy`` takes."""

    def __init__(
        self, routes: Mapping[str, tuple[str, int]] | None = None, refuse: Iterable[str] = ()
    ) -> None:
        proxy = _ProxyServer(dict(routes or {}), set(refuse))
        super().__init__(proxy)
        self.server: _ProxyServer = proxy
        self.url = f"http://127.0.0.1:{proxy.server_address[1]}"

    @property
    def log(self) -> list[ProxyRequest]:
        with self.server.lock:
            return list(self.server.log)

    def lines(self) -> list[str]:
        return [entry.line for entry in self.log]


# -- the site behind it --------------------------------------------------------------------------

Answer = tuple[int, str, bytes, tuple[tuple[str, str], ...]]  # status, type, body, headers


@dataclass(frozen=True)
class Seen:
    path: str  # with the query
    headers: tuple[tuple[str, str], ...]
    at: float  # time.monotonic() when it arrived

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


class RecordingSite:
    """Serves ``pages`` (path with query -> answer; else 404, so robots.txt allows all)."""

    def __init__(self) -> None:
        self.pages: dict[str, Answer] = {}
        self.seen: list[Seen] = []
        lock, site = threading.Lock(), self

        class Handler(QuietHandler):
            def get(self) -> None:
                with lock:
                    site.seen.append(Seen(self.path, tuple(self.headers.items()), time.monotonic()))
                    answer = site.pages.get(self.path)
                if answer is None:
                    self.answer(404, b"<h1>Page not found</h1>")
                else:
                    self.answer(answer[0], answer[2], answer[1], answer[3])

        self._server = LoopbackServer(Handler)
        self.base_url = self._server.base_url
        self.port = self._server.server.server_address[1]

    def page(self, path: str, body: str, content_type: str = HTML) -> None:
        self.pages[path] = (200, content_type, body.encode(), ())

    def redirect(self, path: str, location: str) -> None:
        self.pages[path] = (302, HTML, b"", (("Location", location),))

    def requests_for(self, path: str) -> list[Seen]:
        return [seen for seen in self.seen if seen.path == path]

    def paths(self) -> list[str]:
        return [seen.path for seen in self.seen]

    def __enter__(self) -> Self:
        self._server.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.__exit__(kind, exc, tb)
