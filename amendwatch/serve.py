"""``amendwatch serve``: the Atom feeds (and the latest weekly report) over HTTP.

A small stdlib ``http.server``: ``/feeds/<manual>.atom`` with ``Last-Modified`` (the newest
detected change) and ``304 Not Modified`` for a matching ``If-Modified-Since``;
``/reports/latest.html`` the digest of the last 7 days; ``/`` an index. Each request opens the
database itself (SQLite connections are not shared between threads). Bind to 127.0.0.1 unless
a reverse proxy in front needs otherwise.
"""

from __future__ import annotations

import html
import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from amendwatch import delivery
from amendwatch.api import Amendwatch, utc_now
from amendwatch.config import Settings
from amendwatch.errors import AmendwatchError
from reports.periods import parse_range

log = logging.getLogger("amendwatch.serve")
ATOM_TYPE = "application/atom+xml; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"

Reply = tuple[int, dict[str, str], bytes]
_GATE = threading.Lock()


def if_modified_since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def feed_reply(app: Amendwatch, slug: str, since: datetime | None, now: datetime) -> Reply:
    names = {delivery.feed_file_name(m.name): m.name for m in app.manuals()}
    if slug not in names:
        return 404, {"Content-Type": HTML_TYPE}, b"<h1>No such feed</h1>"
    manual = names[slug]
    last = delivery.last_change_at(app, manual, now)
    headers = {"Content-Type": ATOM_TYPE}
    if last is not None:
        last = last.astimezone(UTC).replace(microsecond=0)
        headers["Last-Modified"] = format_datetime(last, usegmt=True)
        if since is not None and last <= since:
            return 304, headers, b""
    return 200, headers, delivery.feed_xml(app, manual, now).encode("utf-8")


def report_reply(app: Amendwatch, now: datetime) -> Reply:
    period = parse_range((now - timedelta(days=6)).date().isoformat(), now.date().isoformat())
    return 200, {"Content-Type": HTML_TYPE}, app.report(period, fmt="html").encode("utf-8")


def index_reply(app: Amendwatch) -> Reply:
    items = "".join(
        f'<li><a href="/feeds/{html.escape(delivery.feed_file_name(m.name))}.atom">'
        f"{html.escape(m.name)}</a></li>"
        for m in app.manuals()
    )
    body = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>amendwatch</title>'
        f'</head><body><h1>amendwatch</h1><ul>{items}</ul><p><a href="/reports/latest.html">'
        "The last 7 days</a></p></body></html>"
    )
    return 200, {"Content-Type": HTML_TYPE}, body.encode("utf-8")


def answer(settings: Settings, path: str, since: datetime | None, now: datetime) -> Reply:
    """The reply to a GET of ``path`` (query strings are ignored)."""
    path = path.split("?", 1)[0]
    with _GATE:  # one request at a time: see amendwatch.jobstore.GatedJobStore for why
        return _answer(settings, path, since, now)


def _answer(settings: Settings, path: str, since: datetime | None, now: datetime) -> Reply:
    app = Amendwatch.open(settings)
    try:
        if path.startswith("/feeds/") and path.endswith(".atom"):
            return feed_reply(app, path[len("/feeds/") : -len(".atom")], since, now)
        if path == "/reports/latest.html":
            return report_reply(app, now)
        if path in ("/", "/index.html"):
            return index_reply(app)
        return 404, {"Content-Type": HTML_TYPE}, b"<h1>Not found</h1>"
    except AmendwatchError as exc:
        log.error("GET %s: %s", path, exc)
        return 500, {"Content-Type": "text/plain; charset=utf-8"}, str(exc).encode("utf-8")
    finally:
        app.close()


def make_server(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 8080,
    clock: Callable[[], datetime] = utc_now,
) -> ThreadingHTTPServer:
    """A server (not yet serving) for the feeds of ``settings.db_path``; port 0 picks one."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "amendwatch"

        def do_GET(self) -> None:
            self._reply(send_body=True)

        def do_HEAD(self) -> None:
            self._reply(send_body=False)

        def _reply(self, *, send_body: bool) -> None:
            since = if_modified_since(self.headers.get("If-Modified-Since"))
            status, headers, body = answer(settings, self.path, since, clock())
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body and status != 304:
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            log.info("%s %s", self.address_string(), format % args)

    return ThreadingHTTPServer((host, port), Handler)
