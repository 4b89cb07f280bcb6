"""Polite HTTP fetching: conditional GETs, retries with backoff, same-origin redirects,
size limits (as sent and once decoded), an overall deadline per fetch, robots.txt, bounded
concurrency. Failures become a ``Page`` with ``error``.

The top of the fetch layer: it uses :mod:`scraper.policy`, :mod:`scraper.guard`,
:mod:`scraper.codings` and :mod:`scraper.responses`, none of which imports it."""

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

from amendwatch.errors import BodyError
from scraper.codings import BodyReader
from scraper.guard import check_url, robots_rules
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
from scraper.text import decode_bytes

__all__ = [  # the policy and the pure decisions of scraper.responses are re-exported
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


# --- synchronous ---------------------------------------------------------------------


def _attempt_sync(
    client: httpx.Client, request: FetchRequest, policy: FetchPolicy, clock: Clock, end: float
) -> Outcome:
    """One redirect chain, over by ``end`` (``time.monotonic``): per-read timeouts are cut to
    the time left, and the body is abandoned once it has passed."""
    attempt, headers = Attempt(request, policy), request_headers(request, policy)
    while attempt.proceed():
        left = end - time.monotonic()
        if left <= 0:
            attempt.expire()
            break
        try:
            with client.stream(
                "GET",
                attempt.url,
                headers=headers,
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
    Retries, redirects and reading end within ``policy.deadline``."""
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
    client: httpx.AsyncClient,
    request: FetchRequest,
    policy: FetchPolicy,
    clock: Clock,
    end: float,
) -> Outcome:
    """One redirect chain, cancelled at ``end`` (the event loop's clock)."""
    attempt, headers = Attempt(request, policy), request_headers(request, policy)
    try:
        async with asyncio.timeout_at(end):
            while attempt.proceed():
                try:
                    async with client.stream(
                        "GET",
                        attempt.url,
                        headers=headers,
                        timeout=policy.timeout,
                        follow_redirects=False,
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
    its event loop). ``stop`` ends every fetch in flight, and every later one, at once."""

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
    halt: asyncio.Future[None] = field(default_factory=_halt)

    def host_slot(self, host: str) -> asyncio.Semaphore:
        return self.hosts.setdefault(host, asyncio.Semaphore(self.policy.per_host))

    def stop(self) -> None:
        """Interrupt the pool (call it in the pool's loop, e.g. ``call_soon_threadsafe``)."""
        if not self.halt.done():
            self.halt.set_result(None)

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
            end = asyncio.get_running_loop().time() + self.policy.deadline
            outcome = await _attempt_async(
                self.client, FetchRequest(robots_url), self.policy, self.clock, end
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
        if self.policy.respect_robots:
            rules = await self.robots_for(request.url)
            if rules is not None and not rules.can_fetch(self.policy.user_agent, request.url):
                error = "disallowed by robots.txt"
                return to_page(request, Outcome(request.url, error=error), fetched_at)
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
                await self.wait_politely(host)
                end = loop.time() + self.policy.deadline if end is None else end
                outcome = await _attempt_async(self.client, request, self.policy, self.clock, end)
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
