"""Polite HTTP fetching: conditional GETs, retries with backoff, same-origin redirects,
size limits (as sent and once decoded), an overall deadline per fetch, robots.txt (and its
Crawl-delay), bounded concurrency, the manual's headers and cookies, a forward proxy.
Failures become a ``Page`` with ``error``.

The client never reads the environment (``trust_env=False``: no ``HTTP_PROXY``, ``.netrc`` or
``SSL_CERT_FILE``); the proxy is ``FetchPolicy.proxy``, used for every host that
:func:`scraper.guard.proxied` says (so the guard and the route always agree).

The top of the fetch layer: it uses :mod:`scraper.client`, :mod:`scraper.policy`,
:mod:`scraper.guard`, :mod:`scraper.codings`, :mod:`scraper.robots` and
:mod:`scraper.responses`, none of which imports it."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

import httpx

from amendwatch.errors import BodyError
from scraper.client import AsyncSender, DirectRoute, ProxyRoute, open_client, tls_context
from scraper.codings import BodyReader
from scraper.guard import Resolver, check_url, resolve_host
from scraper.models import Page
from scraper.policy import FetchPolicy, FetchRequest
from scraper.responses import (
    Attempt,
    Outcome,
    backoff_delay,
    finish_body,
    interrupted,
    judge_response,
    parse_retry_after,
    request_headers,
    size_error,
    to_page,
    transport_failure,
)
from scraper.robots import RobotsRules, robots_rules
from scraper.text import decode_bytes

__all__ = [  # the policy, the client and the pure decisions of scraper.responses are re-exported
    "AsyncSender",
    "AsyncSleep",
    "Clock",
    "DirectRoute",
    "FetchPolicy",
    "FetchPool",
    "FetchRequest",
    "ProxyRoute",
    "backoff_delay",
    "decode_body",
    "fetch_page",
    "fetch_pages",
    "fetch_pages_async",
    "finish_body",
    "judge_response",
    "open_client",
    "parse_retry_after",
    "request_headers",
    "size_error",
    "tls_context",
    "to_page",
    "transport_failure",
    "validators",
]

Clock = Callable[[], datetime]
AsyncSleep = Callable[[float], Awaitable[None]]


def _origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``: the key of its robots rules."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _hop_headers(jar: httpx.Cookies, attempt: Attempt) -> dict[str, str]:
    """The attempt's headers for its next request; the client's own cookies (set by the
    site) for that URL are kept beside the policy's, which win on a name."""
    headers = attempt.headers()
    if "Cookie" in headers and jar:
        probe = httpx.Request("GET", attempt.url)
        jar.set_cookie_header(probe)
        ours = {name for name, _ in attempt.policy.cookies}
        kept = [c for c in probe.headers.get("cookie", "").split("; ") if c]
        theirs = [c for c in kept if c.split("=", 1)[0] not in ours]
        headers["Cookie"] = "; ".join([headers["Cookie"], *theirs])
    return headers


# --- synchronous ---------------------------------------------------------------------


def _attempt_sync(
    client: httpx.Client, request: FetchRequest, policy: FetchPolicy, clock: Clock, end: float
) -> Outcome:
    """One redirect chain, over by ``end`` (``time.monotonic``): per-read timeouts are cut to
    the time left, and the body is abandoned once it has passed."""
    attempt = Attempt(request, policy)
    while attempt.proceed():
        left = end - time.monotonic()
        if left <= 0:
            attempt.expire()
            break
        try:
            with client.stream(
                "GET",
                attempt.url,
                headers=_hop_headers(client.cookies, attempt),
                timeout=policy.timeout_within(left),
                follow_redirects=False,
            ) as response:
                reader = attempt.answer(response, clock())
                if reader is not None:
                    _read_sync(attempt, response, reader, end)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            if time.monotonic() >= end:
                attempt.expire()
            else:
                attempt.fail(exc)
    return attempt.result


def _in_memory(response: httpx.Response) -> list[bytes]:
    """The body of a response built with its content in memory (a test double's, already
    decoded: see :func:`scraper.responses.body_reader`), else []."""
    return [response.content] if response.is_stream_consumed else []


def _read_sync(attempt: Attempt, response: httpx.Response, reader: BodyReader, end: float) -> None:
    try:  # no chunk size: bytes as they arrive (one would hold them back to fill a chunk)
        for chunk in _in_memory(response) or response.iter_raw():
            reader.feed(chunk)
            if time.monotonic() >= end:
                attempt.expire()
                return
    except BodyError as exc:
        attempt.refuse(response, str(exc))
        return
    attempt.finish(response, reader)


def fetch_page(
    client: httpx.Client,
    request: FetchRequest,
    policy: FetchPolicy,
    clock: Clock,
    *,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> Page:
    """Fetch one page; never raises for HTTP or transport failures (see ``Page.error``).
    Retries, redirects and reading end within ``policy.deadline``. The caller's ``client``
    decides the route: it does not apply ``policy.proxy`` (``fetch_pages`` and
    ``FetchSession`` do)."""
    check_url(request.url)
    rng = rng or random.Random()
    fetched_at = clock()
    end = time.monotonic() + policy.deadline
    outcome = _attempt_sync(client, request, policy, clock, end)
    for attempt in range(policy.retries):
        if not outcome.retryable:
            break
        delay = backoff_delay(policy, attempt, outcome, rng)
        if time.monotonic() + delay >= end:
            break  # no time left for another attempt: the last failure stands
        sleep(delay)
        outcome = _attempt_sync(client, request, policy, clock, end)
    return to_page(request, outcome, fetched_at)


# --- asynchronous -----------------------------------------------------------------


async def _attempt_async(
    client: AsyncSender,
    request: FetchRequest,
    policy: FetchPolicy,
    clock: Clock,
    end: float,
    resolve: Resolver = resolve_host,
) -> Outcome:
    """One redirect chain, cancelled at ``end`` (the event loop's clock)."""
    attempt = Attempt(request, policy, resolve=resolve)
    try:
        async with asyncio.timeout_at(end):
            while attempt.proceed():
                try:
                    async with client.stream(
                        attempt.url, _hop_headers(client.cookies, attempt)
                    ) as response:
                        reader = attempt.answer(response, clock())
                        if reader is not None:
                            await _read_async(attempt, response, reader)
                except (httpx.HTTPError, httpx.InvalidURL) as exc:
                    attempt.fail(exc)
    except TimeoutError:
        attempt.expire()
    return attempt.result


async def _read_async(attempt: Attempt, response: httpx.Response, reader: BodyReader) -> None:
    try:
        for chunk in _in_memory(response):
            reader.feed(chunk)
        if not response.is_stream_consumed:
            async for chunk in response.aiter_raw():
                reader.feed(chunk)
    except BodyError as exc:
        attempt.refuse(response, str(exc))
        return
    attempt.finish(response, reader)


def _halt() -> asyncio.Future[None]:
    return asyncio.get_running_loop().create_future()


@dataclass
class FetchPool:
    """Concurrency state of one ``fetch_pages`` call or one ``FetchSession`` (create it in
    its event loop). ``stop`` ends every fetch in flight, and every later one, at once.
    ``resolve`` is the address guard's resolver (tests inject one)."""

    client: AsyncSender
    policy: FetchPolicy
    clock: Clock
    sleep: AsyncSleep
    rng: random.Random
    total: asyncio.Semaphore
    hosts: dict[str, asyncio.Semaphore] = field(default_factory=dict)
    last_start: dict[str, float] = field(default_factory=dict)
    robots: dict[str, RobotsRules | None] = field(default_factory=dict)
    robot_locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    halt: asyncio.Future[None] = field(default_factory=_halt)
    resolve: Resolver = resolve_host

    def host_slot(self, host: str) -> asyncio.Semaphore:
        return self.hosts.setdefault(host, asyncio.Semaphore(self.policy.per_host))

    def stop(self) -> None:
        """Interrupt the pool (call it in the pool's loop, e.g. ``call_soon_threadsafe``)."""
        if not self.halt.done():
            self.halt.set_result(None)

    async def wait_politely(self, host: str, crawl_delay: float = 0.0) -> None:
        """Start requests to ``host`` at least the larger of ``policy.delay`` and the host's
        ``crawl_delay`` (robots.txt, already capped) apart."""
        delay = max(self.policy.delay, crawl_delay * self.policy.gap_factor)
        if delay <= 0:
            return
        now = asyncio.get_running_loop().time()
        ready = self.last_start.get(host, now - delay) + delay
        self.last_start[host] = max(now, ready)
        if ready > now:
            await self.sleep(ready - now)

    def read_robots(self, url: str) -> RobotsRules | None:
        """The robots rules of ``url``'s origin when read already (None also when they have
        not been read: see ``robots_for``)."""
        return self.robots.get(_origin(url))

    async def robots_for(self, url: str) -> RobotsRules | None:
        key = _origin(url)
        if key in self.robots:  # read already: no lock (each acquire scans its waiters)
            return self.robots[key]
        async with self.robot_locks.setdefault(key, asyncio.Lock()):
            if key not in self.robots:
                self.robots[key] = await self._load_robots(key)
            return self.robots[key]

    async def _load_robots(self, origin: str) -> RobotsRules | None:
        """See :func:`scraper.robots.robots_rules`."""
        robots_url = f"{origin}/robots.txt"
        async with self.host_slot(urlsplit(origin).netloc), self.total:
            end = asyncio.get_running_loop().time() + self.policy.deadline
            outcome = await _attempt_async(
                self.client, FetchRequest(robots_url), self.policy, self.clock, end, self.resolve
            )
        return robots_rules(robots_url, outcome.status, outcome.error, outcome.body)

    async def fetch(self, request: FetchRequest) -> Page:
        """One page, or at once an interrupted one when the pool is stopped meanwhile."""
        check_url(request.url)
        fetched_at = self.clock()
        if self.halt.done():
            return interrupted(request, fetched_at)
        work = asyncio.ensure_future(self._fetch(request, fetched_at))
        try:
            await asyncio.wait((work, self.halt), return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not work.done():
                work.cancel()
        await asyncio.wait((work,))  # let a cancelled fetch close its connection
        return interrupted(request, fetched_at) if work.cancelled() else work.result()

    async def _fetch(self, request: FetchRequest, fetched_at: datetime) -> Page:
        """Robots.txt, then attempts with backoff; the deadline runs from the first
        request, retries and redirects included."""
        crawl_delay = 0.0
        if self.policy.respect_robots:
            rules = await self.robots_for(request.url)
            if rules is not None and not rules.allows(request.url, self.policy.user_agent):
                error = "disallowed by robots.txt"
                return to_page(request, Outcome(request.url, error=error), fetched_at)
            crawl_delay = rules.crawl_delay(self.policy.user_agent) if rules else 0.0
        host, loop = urlsplit(request.url).netloc, asyncio.get_running_loop()
        end: float | None = None
        outcome: Outcome | None = None
        for attempt in range(self.policy.retries + 1):
            if outcome is not None:
                if not outcome.retryable:
                    break
                delay = backoff_delay(self.policy, attempt - 1, outcome, self.rng)
                if end is not None and loop.time() + delay >= end:
                    break  # no time left for another attempt: the last failure stands
                await self.sleep(delay)
            async with self.host_slot(host), self.total:
                await self.wait_politely(host, crawl_delay)
                end = loop.time() + self.policy.deadline if end is None else end
                outcome = await _attempt_async(
                    self.client, request, self.policy, self.clock, end, self.resolve
                )
        assert outcome is not None
        return to_page(request, outcome, fetched_at)


async def fetch_pages_async(
    requests: Sequence[FetchRequest],
    policy: FetchPolicy,
    clock: Clock,
    transport: httpx.AsyncBaseTransport | None = None,
    *,
    sleep: AsyncSleep = asyncio.sleep,
    rng: random.Random | None = None,
    resolve: Resolver = resolve_host,
) -> list[Page]:
    """Async form of :func:`fetch_pages` for callers already inside an event loop."""
    for request in requests:
        check_url(request.url)
    client = open_client(policy, transport)
    try:
        total = asyncio.Semaphore(policy.total)
        pool = FetchPool(
            client, policy, clock, sleep, rng or random.Random(), total, resolve=resolve
        )
        return list(await asyncio.gather(*(pool.fetch(request) for request in requests)))
    finally:
        await client.aclose()


def fetch_pages(
    requests: Sequence[FetchRequest],
    policy: FetchPolicy,
    clock: Clock,
    transport: httpx.AsyncBaseTransport | None = None,
    *,
    sleep: AsyncSleep = asyncio.sleep,
    rng: random.Random | None = None,
    resolve: Resolver = resolve_host,
) -> list[Page]:
    """Fetch many pages concurrently (bounded overall and per host); results in request order."""
    return asyncio.run(
        fetch_pages_async(requests, policy, clock, transport, sleep=sleep, rng=rng, resolve=resolve)
    )


# --- bodies ---------------------------------------------------------------------------


def decode_body(page: Page) -> str:
    """The page body as text (see :func:`decode_bytes` for the charset order)."""
    return decode_bytes(page.body, page.header("Content-Type"))


def validators(page: Page) -> tuple[str | None, str | None]:
    """(ETag, Last-Modified) of a page, for the next conditional request."""
    return page.header("ETag"), page.header("Last-Modified")
