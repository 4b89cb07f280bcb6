"""The quality benchmark's loopback site: one manual per template, every document a chapter,
served at the version of the current week (set by the harness) with fresh furniture on every
request. Also writes the pages of a week to a folder (``--keep``) for debugging."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

from quality_corpus import Doc
from quality_pages import NAV_PAGES, TEMPLATES, Template, content_html, nav_page


class Site:
    """What the server answers: the chapters and contents pages of ``templates`` at ``week``."""

    def __init__(self, docs: list[Doc], templates: list[str]) -> None:
        self.docs = docs
        self.templates = [TEMPLATES[name] for name in templates]
        self.week = 0
        self._content: dict[tuple[bool, str, int], str] = {}
        self._lock = threading.Lock()
        self.routes: dict[str, tuple[Template, Doc | None]] = {}
        for template in self.templates:
            self.routes[template.contents_path] = (template, None)
            for doc in docs:
                self.routes[template.chapter_path(doc)] = (template, doc)

    def content(self, doc: Doc, anchors: bool, week: int) -> str:
        version = doc.version_at(week)
        key = (anchors, doc.id, version.n)
        with self._lock:
            cached = self._content.get(key)
        if cached is None:
            cached = content_html(version.markdown, anchors)
            with self._lock:
                self._content[key] = cached
        return cached

    def render(self, path: str) -> str | None:
        """The page at ``path`` this week (freshly rendered), or None when there is none."""
        week = self.week
        route = self.routes.get(path)
        if route is None:
            return nav_page(NAV_PAGES[path]) if path in NAV_PAGES else None
        template, doc = route
        if doc is None:
            return template.contents(self.docs, week)
        body = self.content(doc, template.anchors, week)
        return template.chapter(doc, doc.version_at(week), self.docs, body)

    def write(self, folder: Path) -> None:
        """Every page of the current week as files under ``folder`` (for --keep)."""
        for path in [*self.routes, *NAV_PAGES]:
            html = self.render(path)
            target = folder / path.lstrip("/")
            if path.endswith("/"):
                target = target / "index.html"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(html or "", encoding="utf-8")


class _Handler(BaseHTTPRequestHandler):
    site: Site

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == "/robots.txt":
            self._answer(200, b"User-agent: *\nAllow: /\n", "text/plain")
            return
        html = self.site.render(path)
        if html is None:
            self._answer(404, b"<html><body><h1>Page not found</h1></body></html>")
            return
        self._answer(200, html.encode("utf-8"))

    def _answer(self, status: int, body: bytes, kind: str = "text/html") -> None:
        self.send_response(status)
        self.send_header("Content-Type", f"{kind}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


class SiteServer:
    """Serves a Site on a free 127.0.0.1 port in a thread while the ``with`` block runs."""

    def __init__(self, site: Site) -> None:
        handler = type("Handler", (_Handler,), {"site": site})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
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
