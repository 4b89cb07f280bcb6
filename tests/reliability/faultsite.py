"""A small procedures manual on loopback whose pages can be told to misbehave.

``FaultSite`` serves a contents page at ``/`` and ``chapters`` chapter pages at
``/chapters/cN.html`` (``site.edition = 2`` revises every third chapter).
``site.faults[path] = Fault(kind, times)`` makes that path misbehave (for the first
``times`` requests, or always when ``times`` is None); ``site.disallow`` lists paths
robots.txt disallows; ``site.delay`` slows every chapter answer (for kill trials).
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import ThreadingHTTPServer

from tests.loopback import LoopbackServer, QuietHandler

CHAPTERS = 8
KINDS = (
    "503",
    "429",
    "500",
    "slow",
    "reset",
    "truncated",
    "binary-junk",
    "cut-off",
    "malformed",
    "wrong-charset",
    "latin1-declared-utf8-sent",
    "mixed-charset",
    "oversize",
    "oversize-chunked",
    "redirect-loop",
    "offsite",
    "404",
    "login-page",
    "empty",
)
MAX_BYTES = 48_000


def chapter_path(n: int) -> str:
    return f"/chapters/c{n}.html"


def chapter_title(n: int) -> str:
    return f"Chapter {n}: Procedures for case type {n}"


def section_text(n: int, s: int, edition: int = 1) -> str:
    revised = " A second manager now countersigns." if edition > 1 and n % 3 == 0 and s == 2 else ""
    return (
        f"In case type {n} the practitioner must record the decision within {s + 2} working "
        f"days – the manager’s agreement is needed for a café or résumé check (step {s}). "
        f"Where the family declines, the reasons are noted and reviewed at the next meeting."
        + revised
    )


def chapter_html(n: int, *, charset: str = "utf-8", closed: bool = True, edition: int = 1) -> str:
    end = "</p>" if closed else "<div>"
    sections = "".join(
        f"<h2>{s}. Step {s} of case type {n}</h2><p>{section_text(n, s, edition)}{end}"
        for s in range(1, 5)
    )
    head = f'<head><meta charset="{charset}"><title>{chapter_title(n)}</title></head>'
    main = f"<main><h1>{chapter_title(n)}</h1>{sections}</main>"
    if not closed:
        return f"<html>{head}<body><main><h1>{chapter_title(n)}</h1>{sections}"
    return f"<!DOCTYPE html><html>{head}<body><nav>Home</nav>{main}</body></html>"


def contents_html(chapters: int = CHAPTERS) -> str:
    items = "".join(
        f'<li><a href="{chapter_path(n)}">1.{n} {chapter_title(n)}</a></li>'
        for n in range(1, chapters + 1)
    )
    return (
        "<!DOCTYPE html><html><head><title>Contents</title></head><body><main>"
        f"<h1>Contents</h1><h2>1. Procedures</h2><ul>{items}</ul></main></body></html>"
    )


@dataclass
class Fault:
    kind: str
    times: int | None = None  # None: every request


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        return  # resets and timed-out clients are the point here


class FaultSite(LoopbackServer):
    def __init__(self, chapters: int = CHAPTERS) -> None:
        self.chapters = chapters
        self.edition = 1
        self.faults: dict[str, Fault] = {}
        self.overrides: dict[str, str] = {}  # path -> HTML served instead of the usual page
        self.disallow: list[str] = []
        self.delay = 0.0
        self.slow_seconds = 1.0
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()
        site = self

        class Handler(QuietHandler):
            def get(self) -> None:
                site.serve(self)

        super().__init__(Handler, _Server)
        self.port = self.server.server_address[1]

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    # -- answering ---------------------------------------------------------------------
    def _fault_for(self, path: str) -> Fault | None:
        with self.lock:
            self.hits[path] += 1
            fault = self.faults.get(path)
            if fault is None or fault.times == 0:
                return None
            if fault.times is not None:
                fault.times -= 1
            return fault

    def page_for(self, path: str) -> str | None:
        if path in self.overrides:
            return self.overrides[path]
        if path == "/":
            return contents_html(self.chapters)
        for n in range(1, self.chapters + 1):
            if path == chapter_path(n):
                return chapter_html(n, edition=self.edition)
        return None

    def serve(self, handler: QuietHandler) -> None:
        path = handler.path
        if path == "/robots.txt":
            rules = "".join(f"Disallow: {p}\n" for p in self.disallow)
            _send(handler, 200, f"User-agent: *\n{rules}".encode(), "text/plain")
            return
        if path.startswith("/loop/"):
            _redirect(handler, path.removeprefix("/loop"))
            return
        fault = self._fault_for(path)
        page = self.page_for(path)
        if page is None:
            _send(handler, 404, b"<html><body><h1>Page not found</h1></body></html>")
            return
        if path.startswith("/chapters/") and self.delay:
            time.sleep(self.delay)
        if fault is None:
            _send(handler, 200, page.encode("utf-8"))
            return
        self.misbehave(handler, fault.kind, path, page)

    def misbehave(self, handler: QuietHandler, kind: str, path: str, page: str) -> None:
        n = int(path.rsplit("c", 1)[1].split(".", 1)[0]) if path.startswith("/chapters/") else 1
        actions = {
            "503": lambda: _send(handler, 503, b"<h1>Service unavailable</h1>"),
            "500": lambda: _send(handler, 500, b"<h1>Internal server error</h1>"),
            "429": lambda: _send(handler, 429, b"slow down", extra=(("Retry-After", "1"),)),
            "404": lambda: _send(handler, 404, b"<html><body><h1>Page not found</h1></body>"),
            "slow": lambda: _slow(handler, self.slow_seconds, page.encode()),
            "reset": lambda: _reset(handler),
            "truncated": lambda: _truncated(handler, page.encode()),
            "binary-junk": lambda: _send(handler, 200, _garble(page.encode())),
            "cut-off": lambda: _send(handler, 200, page.encode()[: len(page) // 3]),
            "malformed": lambda: _send(handler, 200, chapter_html(n, closed=False).encode()),
            "wrong-charset": lambda: _send(
                handler, 200, chapter_html(n, charset="windows-1252").encode("cp1252")
            ),
            "latin1-declared-utf8-sent": lambda: _send(
                handler, 200, page.encode(), "text/html; charset=iso-8859-1"
            ),
            "mixed-charset": lambda: _send(handler, 200, _mixed(page)),
            "oversize": lambda: _send(handler, 200, page.encode() + b" " * MAX_BYTES * 2),
            "oversize-chunked": lambda: _unsized(handler, page.encode() + b" " * MAX_BYTES * 2),
            "redirect-loop": lambda: _redirect(handler, f"/loop{path}"),
            "offsite": lambda: _redirect(handler, f"http://localhost:{self.port}{path}"),
            "login-page": lambda: _send(handler, 200, _login_page()),
            "empty": lambda: _send(handler, 200, b""),
        }
        actions[kind]()


# -- ways to answer ----------------------------------------------------------------------


def _send(
    handler: QuietHandler,
    status: int,
    body: bytes,
    content_type: str = "text/html; charset=utf-8",
    extra: tuple[tuple[str, str], ...] = (),
) -> None:
    try:
        handler.answer(status, body, content_type, extra)
    except OSError:
        handler.close_connection = True


def _redirect(handler: QuietHandler, location: str) -> None:
    _send(handler, 302, b"", extra=(("Location", location),))


def _slow(handler: QuietHandler, seconds: float, body: bytes) -> None:
    time.sleep(seconds)
    _send(handler, 200, body)


def _reset(handler: QuietHandler) -> None:
    """Close with a TCP RST before any response."""
    handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    handler.connection.close()
    handler.close_connection = True


def _truncated(handler: QuietHandler, body: bytes) -> None:
    handler.send_response(200)
    handler.send_header("Content-Type", "text/html; charset=utf-8")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body[: len(body) // 2])
    handler.wfile.flush()
    handler.close_connection = True


def _unsized(handler: QuietHandler, body: bytes) -> None:
    """A body without Content-Length, ended by closing the connection."""
    try:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.end_headers()
        for start in range(0, len(body), 4096):
            handler.wfile.write(body[start : start + 4096])
    except OSError:
        pass
    handler.close_connection = True


def _garble(body: bytes) -> bytes:
    """The first third of the page, then binary junk (a corrupted file)."""
    junk = bytes((i * 37 + 11) % 256 for i in range(2000))
    return body[: len(body) // 3] + junk


def _mixed(page: str) -> bytes:
    """UTF-8 with one "é" in cp1252 (two encodings pasted together): the text is the same."""
    return page.encode("utf-8").replace("é".encode(), "é".encode("cp1252"), 1)


def _login_page() -> bytes:
    return (
        b"<html><head><title>Sign in</title></head><body><main><h1>Sign in</h1>"
        b"<p>Please sign in to continue to the procedures manual.</p></main></body></html>"
    )
