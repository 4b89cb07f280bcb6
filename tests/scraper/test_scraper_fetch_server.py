"""fetch_pages against a real loopback HTTP server: concurrency limits and robots.txt."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from scraper.fetch import FetchPolicy, FetchRequest, fetch_pages

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class Manual(BaseHTTPRequestHandler):
    """Serves /robots.txt, slow /page/N, /private/..., and a truncated /broken."""

    lock = threading.Lock()
    active = 0
    peak = 0
    hits: ClassVar[Counter[str]] = Counter()
    user_agents: ClassVar[set[str]] = set()

    def log_message(self, format: str, *args: object) -> None:  # silence the test output
        pass

    def do_GET(self) -> None:
        cls = type(self)
        with cls.lock:
            cls.hits[self.path] += 1
            cls.user_agents.add(self.headers.get("User-Agent", ""))
        if self.path == "/robots.txt":
            self.reply(b"User-agent: *\nDisallow: /private/\n", "text/plain")
            return
        if self.path == "/broken":
            self.send_response(200)
            self.send_header("Content-Length", "1000")
            self.end_headers()
            self.wfile.write(b"<p>only part")
            self.wfile.flush()
            self.close_connection = True
            return
        with cls.lock:
            cls.active += 1
            cls.peak = max(cls.peak, cls.active)
        time.sleep(0.15)
        with cls.lock:
            cls.active -= 1
        self.reply(f"<h1>{self.path}</h1><p>text</p>".encode(), "text/html; charset=utf-8")

    def reply(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[str]:
    Manual.active = Manual.peak = 0
    Manual.hits = Counter()
    Manual.user_agents = set()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Manual)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


async def no_sleep(seconds: float) -> None:
    return None


def test_fetch_pages_bounds_concurrency_per_host_and_keeps_order(server: str) -> None:
    urls = [f"{server}/page/{n}" for n in range(6)]
    policy = FetchPolicy(per_host=2, total=8)
    started = time.monotonic()
    pages = fetch_pages([FetchRequest(u) for u in urls], policy, lambda: NOW)
    elapsed = time.monotonic() - started
    assert [p.url for p in pages] == urls
    assert all(p.ok for p in pages)
    assert [p.body for p in pages] == [f"<h1>/page/{n}</h1><p>text</p>".encode() for n in range(6)]
    assert Manual.peak == 2  # concurrent, but never more than per_host
    assert elapsed < 6 * 0.15  # faster than one at a time
    assert Manual.hits["/robots.txt"] == 1
    assert Manual.user_agents == {policy.user_agent}


def test_total_limit_applies_across_hosts(server: str) -> None:
    port = server.rsplit(":", 1)[1]
    urls = [
        f"http://{host}:{port}/page/{n}" for n in range(4) for host in ("127.0.0.1", "localhost")
    ]
    policy = FetchPolicy(per_host=4, total=3, respect_robots=False)
    pages = fetch_pages([FetchRequest(u) for u in urls], policy, lambda: NOW)
    assert all(p.ok for p in pages)
    assert Manual.peak == 3


def test_robots_txt_disallows_and_can_be_ignored(server: str) -> None:
    requests = [FetchRequest(f"{server}/private/notes"), FetchRequest(f"{server}/page/1")]
    pages = fetch_pages(requests, FetchPolicy(), lambda: NOW)
    assert pages[0].error == "disallowed by robots.txt" and pages[0].status == 0
    assert pages[1].ok
    assert Manual.hits["/private/notes"] == 0
    ignored = fetch_pages(requests[:1], FetchPolicy(respect_robots=False), lambda: NOW)
    assert ignored[0].ok and Manual.hits["/private/notes"] == 1


def test_truncated_response_from_a_real_server_is_a_failed_page(server: str) -> None:
    pages = fetch_pages(
        [FetchRequest(f"{server}/broken")], FetchPolicy(retries=1), lambda: NOW, sleep=no_sleep
    )
    assert not pages[0].ok
    assert pages[0].error is not None and "truncated" in pages[0].error
    assert Manual.hits["/broken"] == 2  # retried once


def test_connection_refused_is_reported_not_raised() -> None:
    pages = fetch_pages(
        [FetchRequest("http://127.0.0.1:9/nothing")],
        FetchPolicy(retries=1, respect_robots=False),
        lambda: NOW,
        sleep=no_sleep,
    )
    assert pages[0].status == 0 and pages[0].error is not None
    assert "transport error" in pages[0].error
