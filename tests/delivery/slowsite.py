"""A loopback manual whose chapter pages answer slowly, so a signal lands mid-run."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

from tests.integration.minisite import chapter_html, contents_html

TEXT = (
    "The conference must be held within 15 working days of the strategy discussion. "
    "Practitioners should record the decision and share it with the family."
)


class SlowSite:
    """``chapters`` chapter pages, each answering after ``delay`` seconds."""

    def __init__(self, chapters: int = 6, delay: float = 0.2) -> None:
        self.delay = delay
        listing = [(f"1.{n}", f"Chapter {n}", f"/c{n}.html") for n in range(1, chapters + 1)]
        self.pages = {"/": contents_html(listing)}
        for number, title, url in listing:
            sections = [(f"{i}. Part {i} of {number}", TEXT) for i in range(1, 4)]
            self.pages[url] = chapter_html(title, sections)
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                page = site.pages.get(self.path)
                if page is not None and self.path != "/":
                    time.sleep(site.delay)
                body = (page or "<h1>Page not found</h1>").encode()
                self.send_response(200 if page is not None else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> SlowSite:
        self.thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.server.shutdown()
        self.server.server_close()
