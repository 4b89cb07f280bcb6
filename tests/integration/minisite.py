"""A tiny procedures-manual site on loopback whose pages a test can change between requests."""

from __future__ import annotations

from tests.loopback import HTML, LoopbackServer, QuietHandler


def chapter_html(title: str, sections: list[tuple[str, str]]) -> str:
    body = "".join(f"<h2>{heading}</h2><p>{text}</p>" for heading, text in sections)
    head = f"<html><head><title>{title}</title></head>"
    return f"{head}<body><main><h1>{title}</h1>{body}</main></body></html>"


def contents_html(chapters: list[tuple[str, str, str]]) -> str:
    items = "".join(
        f'<li><a href="{url}">{number} {title}</a></li>' for number, title, url in chapters
    )
    main = f"<main><h1>Contents</h1><h2>1. Procedures</h2><ul>{items}</ul></main>"
    return f"<html><body>{main}</body></html>"


class MiniSite(LoopbackServer):
    """``pages`` maps a path to HTML, ``redirects`` a path to another (301); a path in
    neither answers 404. ``queued`` maps a path to answers given once each, in order, before
    ``pages`` is used again (a page that differs between two fetches). ``statuses`` and
    ``types`` override a page's status (e.g. 503) and Content-Type (e.g. a PDF)."""

    def __init__(self) -> None:
        self.pages: dict[str, str] = {}
        self.queued: dict[str, list[str]] = {}
        self.redirects: dict[str, str] = {}
        self.statuses: dict[str, int] = {}
        self.types: dict[str, str] = {}
        site = self

        class Handler(QuietHandler):
            def get(self) -> None:
                if self.path in site.redirects:
                    self.answer(301, b"", headers=[("Location", site.redirects[self.path])])
                    return
                queue = site.queued.get(self.path)
                page = queue.pop(0) if queue else site.pages.get(self.path)
                body = (page or "<h1>Page not found</h1>").encode()
                status = site.statuses.get(self.path, 200 if page is not None else 404)
                self.answer(status, body, site.types.get(self.path, HTML))

        super().__init__(Handler)
