"""A loopback manual whose chapter pages answer slowly, so a signal lands mid-run."""

from __future__ import annotations

import time

from tests.integration.minisite import chapter_html, contents_html
from tests.loopback import LoopbackServer, QuietHandler

TEXT = (
    "The conference must be held within 15 working days of the strategy discussion. "
    "Practitioners should record the decision and share it with the family."
)


class SlowSite(LoopbackServer):
    """``chapters`` chapter pages, each answering after ``delay`` seconds."""

    def __init__(self, chapters: int = 6, delay: float = 0.2) -> None:
        self.delay = delay
        listing = [(f"1.{n}", f"Chapter {n}", f"/c{n}.html") for n in range(1, chapters + 1)]
        self.pages = {"/": contents_html(listing)}
        for number, title, url in listing:
            sections = [(f"{i}. Part {i} of {number}", TEXT) for i in range(1, 4)]
            self.pages[url] = chapter_html(title, sections)
        site = self

        class Handler(QuietHandler):
            def get(self) -> None:
                page = site.pages.get(self.path)
                if page is not None and self.path != "/":
                    time.sleep(site.delay)
                body = (page or "<h1>Page not found</h1>").encode()
                self.answer(200 if page is not None else 404, body)

        super().__init__(Handler)
