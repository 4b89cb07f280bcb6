"""Fetching shared between two fetch children (scraper/fetchproc.py) and the transport of the
fetch layer (scraper/fetch.py): how a policy is shared, when two children are used, two real
forked children answering in order over real loopback HTTP, robots.txt Crawl-delay times the
share's ``gap_factor``, and TLS built only for https:// (and failing closed)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import httpx
import pytest

from amendwatch.api import utc_now
from amendwatch.errors import FetchError
from scraper.fetch import DirectRoute, FetchPolicy, FetchRequest, fetch_pages
from scraper.fetchproc import FetchProcess, processes_for, share_policy
from scraper.session import FetchSession
from tests.integration.minisite import chapter_html
from tests.loopback import LoopbackServer, QuietHandler
from tests.netservers import write_self_signed
from tests.procs import alive

ROOT = Path(__file__).resolve().parents[2]
NOW = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
PATHS = [f"/ch/{n}.html" for n in range(6)]


def clock() -> dt.datetime:
    return NOW


# --- share_policy and processes_for ----------------------------------------------------------


def test_a_policy_shared_by_two_children_halves_connections_and_doubles_gaps() -> None:
    policy = FetchPolicy(per_host=4, total=8, delay=0.5, gap_factor=1.5, retries=1)
    shared = share_policy(policy, 2)
    assert (shared.per_host, shared.total) == (2, 4)
    assert (shared.delay, shared.gap_factor) == (1.0, 3.0)
    assert replace(shared, per_host=4, total=8, delay=0.5, gap_factor=1.5) == policy  # nothing else


def test_a_shared_policy_keeps_at_least_one_connection() -> None:
    shared = share_policy(FetchPolicy(per_host=1, total=1, delay=0.0), 2)
    assert (shared.per_host, shared.total, shared.delay, shared.gap_factor) == (1, 1, 0.0, 2.0)
    assert share_policy(FetchPolicy(per_host=3, total=3), 2).per_host == 1


def test_a_policy_for_one_child_is_the_policy_itself() -> None:
    policy = FetchPolicy(per_host=4, total=8, delay=0.5)
    assert share_policy(policy, 1) is policy
    assert share_policy(policy, 0) is policy


@pytest.mark.parametrize(
    ("cores", "per_host", "delay", "expected"),
    [
        (2, 2, 0.0, 2),
        (8, 4, 0.0, 2),  # never more than two
        (1, 2, 0.0, 1),
        (None, 2, 0.0, 1),  # os.cpu_count() unknown
        (2, 1, 0.0, 1),  # one connection to the host: nothing to share
        (2, 2, 0.5, 1),  # a fixed delay between requests: one child keeps it
    ],
)
def test_two_children_only_with_two_cores_two_connections_and_no_delay(
    cores: int | None, per_host: int, delay: float, expected: int
) -> None:
    assert processes_for(FetchPolicy(per_host=per_host, delay=delay), cores) == expected


# --- two fetch children over real loopback HTTP ------------------------------------------------


class Site(LoopbackServer):
    """A chapter page for each of ``PATHS`` and ``/slow.html``, which answers only after
    ``SLOW_SECONDS``; 404 for anything else. ``hits`` lists the paths asked for."""

    SLOW_SECONDS = 1.0

    def __init__(self) -> None:
        self.hits: list[str] = []
        site = self

        class Handler(QuietHandler):
            def get(self) -> None:
                site.hits.append(self.path)
                if self.path not in [*PATHS, "/slow.html"]:
                    self.answer(404, b"<h1>Page not found</h1>")
                    return
                if self.path == "/slow.html":
                    time.sleep(site.SLOW_SECONDS)
                page = chapter_html(f"Page {self.path}", [("1. Text", f"Text of {self.path}.")])
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # asker gone
                    self.answer(200, page.encode())

        super().__init__(Handler)


@pytest.fixture
def site() -> Iterator[Site]:
    with Site() as running:
        yield running


def wait_gone(pid: int) -> None:
    deadline = time.monotonic() + 5
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)


def two_children() -> FetchProcess:
    return FetchProcess(FetchPolicy(retries=0, per_host=2), utc_now, processes=2)


def test_two_children_answer_batches_in_submission_order(site: Site) -> None:
    batches = [[site.base_url + path] for path in PATHS[:3]] + [
        [site.base_url + path for path in PATHS[3:]]
    ]
    with two_children() as process:
        pids = process.pids
        assert len(pids) == 2 and len(set(pids)) == 2 and os.getpid() not in pids
        assert all(alive(pid) for pid in pids)
        tickets = [process.submit([FetchRequest(url) for url in batch]) for batch in batches]
        last = tickets[-1].result()  # read out of order: the earlier answers are kept
        answers = [ticket.result() for ticket in tickets[:-1]] + [last]
        assert process.fetch([FetchRequest(site.base_url + "/missing.html")])[0].status == 404
    assert site.hits.count("/robots.txt") == 2  # each child fetched, with its own session
    assert not any(alive(pid) for pid in pids)  # the `with` block's end joined both
    for batch, pages in zip(batches, answers, strict=True):
        assert [page.url for page in pages] == batch
        assert all(page.status == 200 for page in pages)
        for page in pages:
            path = page.url.removeprefix(site.base_url)
            assert f"Text of {path}.".encode() in page.body


def test_a_killed_child_is_a_clear_error_for_the_batch_it_owes(site: Site) -> None:
    with two_children() as process:
        first, second = process.pids
        owed = process.submit([FetchRequest(site.base_url + "/slow.html")])  # the first child's
        time.sleep(0.1)  # it has the batch, and waits for the slow page
        os.kill(first, signal.SIGKILL)
        wait_gone(first)
        started = time.monotonic()
        with pytest.raises(FetchError, match="fetch process"):
            owed.result()
        assert time.monotonic() - started < Site.SLOW_SECONDS  # at once, not a hang
        # the other child is still there, and answers its own batch
        (page,) = process.fetch([FetchRequest(site.base_url + PATHS[0])])
        assert page.status == 200 and alive(second)
    assert not alive(second)


# --- robots.txt Crawl-delay times gap_factor -------------------------------------------------


def crawl_gaps(policy: FetchPolicy, robots: str, pages: int = 3) -> list[float]:
    """The waits asked for before ``pages`` requests to one host whose robots.txt is
    ``robots``, in order (sleeping is recorded, never done)."""

    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(200, text=robots, headers={"Content-Type": "text/plain"})
        body = f"<p>{request.url.path}</p>"
        return httpx.Response(200, text=body, headers={"Content-Type": "text/html"})

    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    requests = [FetchRequest(f"https://manual.example/c{n}.html") for n in range(pages)]
    fetched = fetch_pages(requests, policy, clock, httpx.MockTransport(route), sleep=record)
    assert [page.body for page in fetched] == [f"<p>/c{n}.html</p>".encode() for n in range(pages)]
    return sorted(waits)


CRAWL_DELAY_1 = "User-agent: *\nCrawl-delay: 1\n"


def about(*seconds: float) -> object:
    """The waits ``seconds``, give or take the little real time the fetches took."""
    return pytest.approx(list(seconds), abs=0.2)


def test_crawl_delay_is_kept_as_given_by_a_whole_policy() -> None:
    # the first request starts at once; each later one one Crawl-delay after the one before
    # (the recorded sleeps never pass, so the second waits 1 s and the third 2 s)
    assert crawl_gaps(FetchPolicy(retries=0), CRAWL_DELAY_1) == about(1.0, 2.0)


def test_crawl_delay_is_multiplied_by_gap_factor() -> None:
    assert crawl_gaps(FetchPolicy(retries=0, gap_factor=2.0), CRAWL_DELAY_1) == about(2.0, 4.0)
    # what a child of two is given: each child keeps twice the site's Crawl-delay
    shared = share_policy(FetchPolicy(retries=0), 2)
    assert crawl_gaps(shared, CRAWL_DELAY_1) == about(2.0, 4.0)


def test_the_larger_of_delay_and_the_shared_crawl_delay_is_kept() -> None:
    slower = FetchPolicy(retries=0, delay=3.0, gap_factor=2.0)
    assert crawl_gaps(slower, CRAWL_DELAY_1) == about(3.0, 6.0)
    faster = FetchPolicy(retries=0, delay=1.5, gap_factor=2.0)
    assert crawl_gaps(faster, CRAWL_DELAY_1) == about(2.0, 4.0)
    assert crawl_gaps(FetchPolicy(retries=0, gap_factor=2.0), "User-agent: *\n") == []


# --- TLS only for https, and failing closed --------------------------------------------------


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for 127.0.0.1 (no CA anyone trusts issued it)."""
    return Certificate(*write_self_signed(tmp_path_factory.mktemp("tls")))


class TlsSite(LoopbackServer):
    """Answers every GET with a small page, over TLS with ``certificate``."""

    def __init__(self, certificate: Certificate) -> None:
        class Handler(QuietHandler):
            def get(self) -> None:
                self.answer(200, b"<h1>secret</h1>")

        super().__init__(Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate.cert, certificate.key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.base_url = self.base_url.replace("http://", "https://")


@pytest.fixture
def tls_site(self_signed: Certificate) -> Iterator[TlsSite]:
    with TlsSite(self_signed) as running:
        yield running


async def direct_get(url: str) -> httpx.Response:
    route = DirectRoute()
    try:
        response = await route.handle_async_request(httpx.Request("GET", url))
        await response.aread()
        return response
    finally:
        await route.aclose()


def test_direct_https_refuses_a_self_signed_certificate(
    tls_site: TlsSite, self_signed: Certificate
) -> None:
    url = f"{tls_site.base_url}/page.html"
    # the server works for a client that trusts its certificate ...
    trusting = ssl.create_default_context(cafile=str(self_signed.cert))
    assert httpx.get(url, verify=trusting, trust_env=False).content == b"<h1>secret</h1>"
    # ... and the fetch layer's direct route trusts only the real CAs: it fails closed
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        asyncio.run(direct_get(url))


PROBE = """
import json, sys
from datetime import UTC, datetime
from scraper.fetch import FetchPolicy, FetchRequest, tls_context
from scraper.session import FetchSession

def clock():
    return datetime.now(UTC)

built = {"at start": tls_context.cache_info().currsize}
with FetchSession(FetchPolicy(retries=0), clock) as session:
    (plain,) = session.fetch([FetchRequest(sys.argv[1])])
    built["after http"] = tls_context.cache_info().currsize
    (secure,) = session.fetch([FetchRequest(sys.argv[2])])
    built["after https"] = tls_context.cache_info().currsize
print(json.dumps({"built": built, "plain": [plain.status, plain.body.decode()],
                  "secure": [secure.status, secure.error]}))
"""


def test_an_http_fetch_never_builds_the_tls_context(site: Site, tls_site: TlsSite) -> None:
    """In a fresh process (nothing else has made the context yet)."""
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, site.base_url + PATHS[0], tls_site.base_url + "/x.html"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=30,
        check=True,
    )
    seen = json.loads(probe.stdout)
    assert seen["built"] == {"at start": 0, "after http": 0, "after https": 1}, probe.stderr
    status, body = seen["plain"]
    assert status == 200 and f"Text of {PATHS[0]}." in body
    status, error = seen["secure"]
    assert status == 0 and "certificate verify failed" in error.lower()


def delayed_transport(robots: str) -> httpx.MockTransport:
    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            return httpx.Response(200, text=robots, headers={"Content-Type": "text/plain"})
        return httpx.Response(200, text="<p>x</p>", headers={"Content-Type": "text/html"})

    return httpx.MockTransport(route)


async def no_sleep(seconds: float) -> None:
    return None


@pytest.mark.parametrize(("robots", "expected"), [(CRAWL_DELAY_1, 1.0), ("User-agent: *\n", 0.0)])
def test_a_session_knows_the_crawl_delay_of_a_host_it_has_read(
    robots: str, expected: float
) -> None:
    url = "https://manual.example/contents.html"
    transport = delayed_transport(robots)
    with FetchSession(FetchPolicy(), clock, transport, sleep=no_sleep) as session:
        assert session.known_crawl_delay(url) == 0.0  # robots.txt not read yet
        session.fetch([FetchRequest(url)])
        assert session.known_crawl_delay(url) == expected
        assert session.known_crawl_delay("https://other.example/a.html") == 0.0


class RobotsSite(LoopbackServer):
    """``/robots.txt`` as ``robots`` says; a short page for anything else."""

    def __init__(self) -> None:
        self.robots = ""
        site = self

        class Handler(QuietHandler):
            def get(self) -> None:
                if self.path == "/robots.txt":
                    self.answer(200, site.robots.encode(), "text/plain")
                else:
                    self.answer(200, b"<p>x</p>")

        super().__init__(Handler)


def test_a_manual_whose_host_asks_for_a_crawl_delay_is_fetched_by_one_process(
    tmp_path: Path,
) -> None:
    """Two processes would each keep twice the gap: the same rate, but two starts closer
    together than the delay. With a Crawl-delay known from the contents page, one fetches."""
    from amendwatch.config import Settings  # noqa: PLC0415
    from amendwatch.pipeline import _fetch_elsewhere  # noqa: PLC0415
    from amendwatch.runcontext import RunContext  # noqa: PLC0415
    from store.db import open_db  # noqa: PLC0415
    from store.manuals import add_manual  # noqa: PLC0415

    db = open_db(tmp_path / "aw.db")
    chosen = {}
    with RobotsSite() as site:
        manual = add_manual(db, "m", f"{site.base_url}/contents.html", now=clock())
        for robots in (CRAWL_DELAY_1, "User-agent: *\n"):
            site.robots = robots
            with FetchSession(FetchPolicy(), utc_now, sleep=no_sleep) as session:
                session.fetch([FetchRequest(manual.contents_url)])
                settings = Settings(db_path=tmp_path / "aw.db")
                ctx = RunContext(db, manual, settings, utc_now, None, False, session)
                fetcher = _fetch_elsewhere(ctx, 100)
                assert fetcher is not None
                chosen[robots] = fetcher.processes
    db.close()
    expected_two = 2 if (os.cpu_count() or 1) >= 2 else 1
    assert chosen == {CRAWL_DELAY_1: 1, "User-agent: *\n": expected_two}
