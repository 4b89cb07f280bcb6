"""Feeds over HTTP: the Host allow-list and feed answers that the web application
(``amendwatch web``, amendwatch/web/) uses, and the small stdlib server that ``amendwatch
serve`` ran before the web application replaced it (``serve`` is now an alias of ``web``;
:func:`make_server` stays for library users and its tests).

The stdlib server: ``/feeds/<manual>.atom`` with ``Last-Modified`` (the newest detected
change) and ``304 Not Modified`` for a matching ``If-Modified-Since``; ``/reports/latest.html``
the digest of the last 7 days; ``/`` an index. Each request opens the database itself (SQLite
connections are not shared between threads). Bind to 127.0.0.1 unless a reverse proxy in front
needs otherwise.

Limits: at most ``max_connections`` connections are served at once (one thread each); one
more is answered 503 and closed without a thread. A connection that sends nothing for
``idle_timeout`` seconds is closed. A request whose ``Host`` is not 127.0.0.1, localhost,
::1, the bound address or an ``allowed_hosts`` entry is answered 421 (400 without a Host),
so a DNS-rebinding page cannot read the feeds through a browser.
"""

from __future__ import annotations

import contextlib
import html
import logging
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

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
MAX_CONNECTIONS = 16
IDLE_TIMEOUT = 10.0
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nRetry-After: 1\r\n"
    b"Connection: close\r\n\r\n"
)


def host_of(value: str) -> str:
    """The host name of a ``Host`` header (or ``--allow-host`` entry), without its port."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[1 : value.find("]")] if "]" in value else value
    if value.count(":") == 1:
        value = value.split(":", 1)[0]
    return value.rstrip(".")


def allowed_host_names(bound: str, extra: Iterable[str] = ()) -> frozenset[str]:
    """Loopback names, the bound address (unless a wildcard) and ``extra``."""
    names = set(LOCAL_HOSTS) | {host_of(entry) for entry in extra if entry.strip()}
    if bound not in ("", "0.0.0.0", "::"):
        names.add(bound.lower() if bound.count(":") > 1 else host_of(bound))
    return frozenset(names)


def host_problem(header: str | None, allowed: frozenset[str]) -> Reply | None:
    """400 without a Host header, 421 for a host not served here; None when allowed."""
    headers = {"Content-Type": HTML_TYPE, "Connection": "close"}
    if not header:
        return 400, headers, b"<h1>A Host header is required</h1>"
    if host_of(header) not in allowed:
        return 421, headers, b"<h1>Misdirected request: unknown host</h1>"
    return None


class LimitedServer(ThreadingHTTPServer):
    """A threading server with at most ``max_connections`` connection threads."""

    daemon_threads = True
    request_queue_size = 128  # a burst of connections waits in the kernel, not in threads

    def __init__(self, address: tuple[str, int], handler: Any, max_connections: int) -> None:
        super().__init__(address, handler)
        self.slots = threading.BoundedSemaphore(max(1, max_connections))

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self.slots.acquire(blocking=False):  # full: answer 503 here, no thread
            with contextlib.suppress(OSError):
                request.settimeout(1.0)
                request.sendall(_BUSY)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self.slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


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
    *,
    allowed_hosts: Iterable[str] = (),
    max_connections: int = MAX_CONNECTIONS,
    idle_timeout: float = IDLE_TIMEOUT,
) -> ThreadingHTTPServer:
    """A server (not yet serving) for the feeds of ``settings.db_path``; port 0 picks one."""
    allowed = allowed_host_names(host, allowed_hosts)

    class Handler(BaseHTTPRequestHandler):
        server_version = "amendwatch"
        timeout = idle_timeout  # the socket timeout: an idle connection is closed

        def do_GET(self) -> None:
            self._reply(send_body=True)

        def do_HEAD(self) -> None:
            self._reply(send_body=False)

        def _reply(self, *, send_body: bool) -> None:
            since = if_modified_since(self.headers.get("If-Modified-Since"))
            refused = host_problem(self.headers.get("Host"), allowed)
            status, headers, body = refused or answer(settings, self.path, since, clock())
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if send_body and status != 304:
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            log.info("%s %s", self.address_string(), format % args)

    return LimitedServer((host, port), Handler, max_connections)
