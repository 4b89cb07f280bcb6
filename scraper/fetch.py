"""Polite HTTP fetching: conditional GETs, retries with backoff, same-host redirects,
size limits, robots.txt, bounded concurrency. Failures become a ``Page`` with ``error``."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from scraper.guard import check_url, robots_rules
from scraper.models import Page
from scraper.responses import (
    Attempt,
    Outcome,
    backoff_delay,
    finish_body,
    judge_response,
    parse_retry_after,
    request_headers,
    size_error,
    to_page,
    transport_failure,
)
from scraper.text import decode_bytes

__all__ = [  # the pure decisions of scraper.responses are re-exported
    "AsyncSleep",
    "Clock",
    "FetchPolicy",
    "FetchPool",
    "FetchRequest",
    "backoff_delay",
    "decode_body",
    "fetch_page",
    "fetch_pages",
    "fetch_pages_async",
    "finish_body",
    "judge_response",
    "parse_retry_after",
    "request_headers",
    "size_error",
    "to_page",
    "transport_failure",
    "validators",
]

Clock = Callable[[], datetime]
AsyncSleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class FetchPolicy:
    """How politely and how persistently to fetch.

    ``allowed_hosts`` names further hosts that redirects may lead to (besides the
    requested host, which is always allowed). ``site_host`` (see
    :func:`scraper.guard.policy_for_site`) restricts every request to the manual's own host
    and ``allowed_hosts``; ``allow_private=False`` refuses loopback and private addresses.
    """

    user_agent: str = "amendwatch/0.1 (+https://example.invalid/amendwatch)"
    connect_timeout: float = 5.0
    read_timeout: float = 15.0
    max_bytes: int = 5 * 1024 * 1024
    per_host: int = 2
    total: int = 8
    delay: float = 0.0
    retries: int = 3
    backoff: float = 0.5
    respect_robots: bool = True
    allowed_hosts: tuple[str, ...] = ()
    max_redirects: int = 10
    max_retry_after: float = 60.0
    allow_private: bool = True
    site_host: str | None = None

    @property
    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(
            connect=self.connect_timeout,
            read=self.read_timeout,
            write=self.read_timeout,
            pool=self.read_timeout,
        )


@dataclass(frozen=True)
class FetchRequest:
    url: str
    etag: str | None = None
    last_modified: str | None = None


# --- synchronous ---------------------------------------------------------------------


def _attempt_sync(
    client: httpx.Client, request: FetchRequest, policy: FetchPolicy, clock: Clock
) -> Outcome:
    attempt, headers = Attempt(request, policy), request_headers(request, policy)
    while attempt.proceed():
        try:
            with client.stream(
                "GET", attempt.url, headers=headers, timeout=policy.timeout, follow_redirects=False
            ) as response:
                if attempt.answer(response, clock()):
                    attempt.finish(response, _read_sync(response, policy.max_bytes))
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            attempt.fail(exc)
    return attempt.result


def _read_sync(response: httpx.Response, limit: int) -> bytes:
    body = bytearray()
    for chunk in response.iter_bytes():
        body.extend(chunk)
        if len(body) > limit:
            break
    return bytes(body)


def fetch_page(
    client: httpx.Client,
    request: FetchRequest,
    policy: FetchPolicy,
    clock: Clock,
    *,
    sleep: Callable[[float], None] = time.sleep,
    rng: random.Random | None = None,
) -> Page:
    """Fetch one page; never raises for HTTP or transport failures (see ``Page.error``)."""
    check_url(request.url)
    rng = rng or random.Random()
    fetched_at = clock()
    outcome = _attempt_sync(client, request, policy, clock)
    for attempt in range(policy.retries):
        if not outcome.retryable:
            break
        sleep(backoff_delay(policy, attempt, outcome, rng))
        outcome = _attempt_sync(client, request, policy, clock)
    return to_page(request, outcome, fetched_at)


# --- asynchronous -----------------------------------------------------------------


async def _attempt_async(
    client: httpx.AsyncClient, request: FetchRequest, policy: FetchPolicy, clock: Clock
) -> Outcome:
    attempt, headers = Attempt(request, policy), request_headers(request, policy)
    while attempt.proceed():
        try:
            async with client.stream(
                "GET", attempt.url, headers=headers, timeout=policy.timeout, follow_redirects=False
            ) as response:
                if attempt.answer(response, clock()):
                    attempt.finish(response, await _read_async(response, policy.max_bytes))
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            attempt.fail(exc)
    return attempt.result


async def _read_async(response: httpx.Response, limit: int) -> bytes:
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body.extend(chunk)
        if len(body) > limit:
            break
    return bytes(body)


@dataclass
class FetchPool:
    """Concurrency state of one ``fetch_pages`` call or one ``FetchSession``."""

    client: httpx.AsyncClient
    policy: FetchPolicy
    clock: Clock
    sleep: AsyncSleep
    rng: random.Random
    total: asyncio.Semaphore
    hosts: dict[str, asyncio.Semaphore] = field(default_factory=dict)
    last_start: dict[str, float] = field(default_factory=dict)
    robots: dict[str, RobotFileParser | None] = field(default_factory=dict)
    robot_locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    def host_slot(self, host: str) -> asyncio.Semaphore:
        return self.hosts.setdefault(host, asyncio.Semaphore(self.policy.per_host))

    async def wait_politely(self, host: str) -> None:
        if self.policy.delay <= 0:
            return
        now = asyncio.get_running_loop().time()
        ready = self.last_start.get(host, now - self.policy.delay) + self.policy.delay
        self.last_start[host] = max(now, ready)
        if ready > now:
            await self.sleep(ready - now)

    async def robots_for(self, url: str) -> RobotFileParser | None:
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}"
        async with self.robot_locks.setdefault(key, asyncio.Lock()):
            if key not in self.robots:
                self.robots[key] = await self._load_robots(key)
            return self.robots[key]

    async def _load_robots(self, origin: str) -> RobotFileParser | None:
        """See :func:`scraper.guard.robots_rules`."""
        robots_url = f"{origin}/robots.txt"
        async with self.host_slot(urlsplit(origin).netloc), self.total:
            outcome = await _attempt_async(
                self.client, FetchRequest(robots_url), self.policy, self.clock
            )
        return robots_rules(robots_url, outcome.status, outcome.error, outcome.body)

    async def fetch(self, request: FetchRequest) -> Page:
        check_url(request.url)
        fetched_at = self.clock()
        if self.policy.respect_robots:
            rules = await self.robots_for(request.url)
            if rules is not None and not rules.can_fetch(self.policy.user_agent, request.url):
                error = "disallowed by robots.txt"
                return to_page(request, Outcome(request.url, error=error), fetched_at)
        host = urlsplit(request.url).netloc
        outcome: Outcome | None = None
        for attempt in range(self.policy.retries + 1):
            if outcome is not None:
                if not outcome.retryable:
                    break
                await self.sleep(backoff_delay(self.policy, attempt - 1, outcome, self.rng))
            async with self.host_slot(host), self.total:
                await self.wait_politely(host)
                outcome = await _attempt_async(self.client, request, self.policy, self.clock)
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
) -> list[Page]:
    """Async form of :func:`fetch_pages` for callers already inside an event loop."""
    for request in requests:
        check_url(request.url)
    async with httpx.AsyncClient(
        transport=transport, timeout=policy.timeout, follow_redirects=False
    ) as client:
        pool = FetchPool(
            client, policy, clock, sleep, rng or random.Random(), asyncio.Semaphore(policy.total)
        )
        return list(await asyncio.gather(*(pool.fetch(request) for request in requests)))


def fetch_pages(
    requests: Sequence[FetchRequest],
    policy: FetchPolicy,
    clock: Clock,
    transport: httpx.AsyncBaseTransport | None = None,
    *,
    sleep: AsyncSleep = asyncio.sleep,
    rng: random.Random | None = None,
) -> list[Page]:
    """Fetch many pages concurrently (bounded overall and per host); results in request order."""
    return asyncio.run(fetch_pages_async(requests, policy, clock, transport, sleep=sleep, rng=rng))


# --- bodies ---------------------------------------------------------------------------


def decode_body(page: Page) -> str:
    """The page body as text (see :func:`decode_bytes` for the charset order)."""
    return decode_bytes(page.body, page.header("Content-Type"))


def validators(page: Page) -> tuple[str | None, str | None]:
    """(ETag, Last-Modified) of a page, for the next conditional request."""
    return page.header("ETag"), page.header("Last-Modified")
