"""A loopback HTTP server for the bundled fictional manual, served in editions a week apart.

The site folder holds content fragments only. ``edition-1/`` has every file; each later
``edition-N/`` holds the files that change in that edition and a ``removed.txt`` listing the
paths it removes. The server wraps each fragment in ``template.html`` with page furniture
(breadcrumbs, a contents list of anchors, related chapters, tokens and a timestamp) so that raw
bytes change on every request while the chapter content does not (the HTML is rendered by
:mod:`amendwatch.demo.pages`).
"""

from __future__ import annotations

import email.utils
import hashlib
import random
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType

from amendwatch.demo.pages import Furniture, parse_contents_entries, render_page
from amendwatch.errors import ConfigError, InputError

SITE_DIR = Path(__file__).parent / "site"
FIRST_EDITION_DATE = date(2026, 11, 2)  # a Monday, as the demo runner uses
EDITION_INTERVAL = timedelta(days=7)
HTML_TYPE = "text/html; charset=utf-8"

_CHAPTER_URL = re.compile(r"^/chapters/([a-z0-9][a-z0-9-]*)\.html$")
_PAGE_URL = re.compile(r"^/([a-z0-9][a-z0-9-]*)\.html$")
_NOT_FOUND = (
    '<!DOCTYPE html>\n<html lang="en-GB"><head><meta charset="utf-8"><title>Page not found'
    "</title></head><body><h1>Page not found</h1><p>The page you asked for is not part of this "
    'manual. Go to the <a href="/">contents page</a>.</p></body></html>\n'
)


def edition_date(edition: int) -> date:
    """The publication date of an edition (edition 1 on FIRST_EDITION_DATE, then weekly)."""
    return FIRST_EDITION_DATE + EDITION_INTERVAL * (edition - 1)


@dataclass(frozen=True)
class SiteFile:
    """A content file as resolved for an edition."""

    rel: str
    text: str
    edition: int  # the edition folder the file was found in
    etag: str
    last_modified: datetime


@dataclass(frozen=True)
class Response:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


def count_editions(site_dir: Path) -> int:
    """How many consecutive ``edition-N`` folders the site has."""
    count = 0
    while (site_dir / f"edition-{count + 1}").is_dir():
        count += 1
    if count == 0:
        raise ConfigError(f"no edition-1 folder in {site_dir}", "point site_dir at a demo site")
    return count


def removed_in(site_dir: Path, edition: int) -> frozenset[str]:
    """The paths (relative, without a leading slash) that an edition removes."""
    listing = site_dir / f"edition-{edition}" / "removed.txt"
    if not listing.is_file():
        return frozenset()
    lines = (line.strip() for line in listing.read_text("utf-8").splitlines())
    return frozenset(line.lstrip("/") for line in lines if line and not line.startswith("#"))


def resolve_file(site_dir: Path, edition: int, rel: str) -> SiteFile | None:
    """Look for ``rel`` in edition N, then N-1 ...; None when missing or removed."""
    for number in range(edition, 0, -1):
        if rel in removed_in(site_dir, number):
            return None
        path = site_dir / f"edition-{number}" / rel
        if path.is_file():
            data = path.read_bytes()
            etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
            modified = datetime.combine(edition_date(number), time(9, 0), UTC)
            return SiteFile(rel, data.decode("utf-8"), number, etag, modified)
    return None


def file_for_url(path: str) -> tuple[str, str] | None:
    """(page kind, content file) for a URL path, or None when the URL is not a page."""
    if path in ("/", "/contents.html"):
        return ("contents", "contents.html")
    chapter = _CHAPTER_URL.match(path)
    if chapter:
        return ("chapter", f"chapters/{chapter.group(1)}.html")
    page = _PAGE_URL.match(path)
    if page and page.group(1) != "template":
        return ("page", f"{page.group(1)}.html")
    return None


def is_not_modified(site_file: SiteFile, headers: Mapping[str, str]) -> bool:
    """True when the request's validators match (If-None-Match wins over If-Modified-Since)."""
    tags = headers.get("if-none-match")
    if tags is not None:
        wanted = {tag.strip().removeprefix("W/") for tag in tags.split(",")}
        return "*" in wanted or site_file.etag in wanted
    since = headers.get("if-modified-since")
    if since is None:
        return False
    try:
        stamp = email.utils.parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return site_file.last_modified <= stamp


def _system_clock() -> datetime:
    return datetime.now(UTC)


class DemoServer:
    """The bundled manual on 127.0.0.1 (a free port), switchable between editions."""

    def __init__(
        self,
        site_dir: Path = SITE_DIR,
        edition: int = 1,
        *,
        validators: bool = True,
        dynamic: bool = True,
        clock: Callable[[], datetime] = _system_clock,
        rng: random.Random | None = None,
    ) -> None:
        self.site_dir = site_dir
        self.editions = count_editions(site_dir)
        self.validators = validators
        self.dynamic = dynamic
        self._clock = clock
        self._rng = rng if rng is not None else random.Random()
        try:
            self._template = (site_dir / "template.html").read_text("utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read the page template in {site_dir}: {exc}") from exc
        self._builds = 0
        self._lock = threading.Lock()
        self._edition = self._checked(edition)
        self._httpd: _DemoHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def _checked(self, edition: int) -> int:
        if not 1 <= edition <= self.editions:
            raise InputError(f"the demo manual has editions 1 to {self.editions}, not {edition}")
        return edition

    @property
    def edition(self) -> int:
        return self._edition

    def set_edition(self, edition: int) -> None:
        self._edition = self._checked(edition)

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise InputError("the demo server is not running", "call start() first")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> None:
        if self._httpd is not None:
            return
        try:
            httpd = _DemoHTTPServer(("127.0.0.1", 0), _Handler)
        except OSError as exc:
            raise ConfigError(f"cannot listen on 127.0.0.1: {exc}") from exc
        httpd.demo = self
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd, self._thread = None, None

    def __enter__(self) -> DemoServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _furniture(self) -> Furniture:
        if not self.dynamic:
            return Furniture("Build static", "static", "static")
        with self._lock:
            self._builds += 1
            build = self._builds
        token = f"{self._rng.getrandbits(64):016x}"
        now = self._clock().strftime("%d %B %Y %H:%M:%S")
        updated = f"This page was last updated {now}. Build 4.2.{build}. Ref {token[:8]}."
        return Furniture(updated, token, f"{self._rng.getrandbits(32):08x}")

    def respond(self, target: str, headers: Mapping[str, str]) -> Response:
        """The answer to a GET of ``target`` (path and query); header names in lower case."""
        path = target.split("?", 1)[0].split("#", 1)[0]
        if path == "/robots.txt":
            return Response(200, (("Content-Type", "text/plain; charset=utf-8"),), _ROBOTS)
        if path == "/static/site.css" and (self.site_dir / "site.css").is_file():
            css = (self.site_dir / "site.css").read_bytes()
            return Response(200, (("Content-Type", "text/css; charset=utf-8"),), css)
        wanted = file_for_url(path)
        edition = self._edition
        found = resolve_file(self.site_dir, edition, wanted[1]) if wanted else None
        if wanted is None or found is None:
            return Response(404, (("Content-Type", HTML_TYPE),), _NOT_FOUND.encode("utf-8"))
        validators: tuple[tuple[str, str], ...] = ()
        if self.validators:
            modified = email.utils.format_datetime(found.last_modified, usegmt=True)
            validators = (("ETag", found.etag), ("Last-Modified", modified))
            if is_not_modified(found, headers):
                return Response(304, validators, b"")
        contents_file = resolve_file(self.site_dir, edition, "contents.html")
        contents = parse_contents_entries(contents_file.text) if contents_file else ()
        kind = wanted[0]
        page = render_page(self._template, kind, found.rel, found.text, contents, self._furniture())
        headers_out = (("Content-Type", HTML_TYPE), ("Cache-Control", "no-cache"), *validators)
        return Response(200, headers_out, page.encode("utf-8"))


_ROBOTS = b"User-agent: *\nAllow: /\n"


class _DemoHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    demo: DemoServer


class _Handler(BaseHTTPRequestHandler):
    server: _DemoHTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "NorthmoorDemo/1.0"

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def _answer(self, *, with_body: bool) -> None:
        headers = {key.lower(): value for key, value in self.headers.items()}
        response = self.server.demo.respond(self.path, headers)
        self.send_response(response.status)
        for key, value in response.headers:
            self.send_header(key, value)
        if response.status != 304:
            self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if with_body and response.status != 304:
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: no request log on stderr."""
