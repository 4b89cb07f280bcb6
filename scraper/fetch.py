"""Polite HTTP fetching: conditional GETs, retries with backoff, same-host redirects,
size limits, robots.txt, bounded concurrency. Failures become a ``Page`` with ``error``."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from scraper.guard import check_url, guard_url, host_allowed, robots_rules
from scraper.models import Page
from scraper.text import decode_bytes

Clock = Callable[[], datetime]
AsyncSleep = Callable[[float], Awaitable[None]]

_REDIRECTS = frozenset({301, 302, 303, 307, 308})


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


@dataclass(frozen=True)
class _Outcome:
    """The result of one attempt (one redirect chain)."""

    final_url: str
    status: int = 0
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    error: str | None = None
    redirects: tuple[str, ...] = ()
    retryable: bool = False
    retry_after: float | None = None


@dataclass(frozen=True)
class _Hop:
    """What to do after one response: stop with an outcome, or follow ``next_url``."""

    outcome: _Outcome | None = None
    next_url: str | None = None


# --- pure helpers -------------------------------------------------------------------


def request_headers(request: FetchRequest, policy: FetchPolicy) -> dict[str, str]:
    headers = {"User-Agent": policy.user_agent, "Accept": "text/html,*/*;q=0.8"}
    if request.etag:
        headers["If-None-Match"] = request.etag
    if request.last_modified:
        headers["If-Modified-Since"] = request.last_modified
    return headers


def parse_retry_after(value: str | None, now: datetime, cap: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or HTTP date), capped."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), cap)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, min((when - now).total_seconds(), cap))


def backoff_delay(
    policy: FetchPolicy, attempt: int, outcome: _Outcome, rng: random.Random
) -> float:
    """Exponential backoff with full jitter on top; Retry-After wins when larger."""
    base = policy.backoff * (2.0**attempt)
    delay = base + rng.uniform(0, base)
    if outcome.retry_after is not None:
        delay = max(delay, outcome.retry_after)
    return min(delay, policy.max_retry_after)


def _status_error(status: int, reason: str) -> str:
    return f"HTTP {status} {reason}".strip()


def judge_response(
    response: httpx.Response,
    start_url: str,
    chain: list[str],
    policy: FetchPolicy,
    now: datetime,
) -> _Hop:
    """Decide on the status line and headers alone (before reading the body)."""
    status = response.status_code
    headers = tuple(response.headers.multi_items())
    url = str(response.url)
    redirects = tuple(chain)
    if status in _REDIRECTS and response.headers.get("location"):
        target = urljoin(url, response.headers["location"]).split("#", 1)[0]
        error = None
        if urlsplit(target).scheme not in ("http", "https"):
            error = f"redirect to a non-http URL {target} refused"
        elif not host_allowed(start_url, target, policy):
            error = f"redirect to another host ({urlsplit(target).netloc}) refused"
        elif target in chain or target == url or len(chain) >= policy.max_redirects:
            error = f"redirect loop at {target}"
        if error is None:
            return _Hop(next_url=target)
        return _Hop(_Outcome(url, status, headers, error=error, redirects=(*redirects, target)))
    if status == 304 or 200 <= status < 300:
        return _Hop()
    retry_after = parse_retry_after(
        response.headers.get("retry-after"), now, policy.max_retry_after
    )
    retryable = status == 429 or status >= 500
    error = _status_error(status, response.reason_phrase)
    return _Hop(_Outcome(url, status, headers, b"", error, redirects, retryable, retry_after))


def size_error(response: httpx.Response, policy: FetchPolicy) -> str | None:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > policy.max_bytes:
        return f"over the size limit ({declared} bytes > {policy.max_bytes})"
    return None


def finish_body(
    response: httpx.Response, body: bytes, chain: list[str], policy: FetchPolicy
) -> _Outcome:
    """Check the body read in full against the limits and Content-Length."""
    url, status = str(response.url), response.status_code
    headers = tuple(response.headers.multi_items())
    if len(body) > policy.max_bytes:
        error = f"over the size limit (more than {policy.max_bytes} bytes)"
        return _Outcome(url, status, headers, b"", error, tuple(chain))
    declared = response.headers.get("content-length", "")
    received = max(response.num_bytes_downloaded, len(body))
    if declared.isdigit() and received < int(declared):
        error = f"truncated: {received} of {declared} bytes received"
        return _Outcome(url, status, headers, body, error, tuple(chain), retryable=True)
    return _Outcome(url, status, headers, body, None, tuple(chain))


def transport_failure(
    url: str, chain: list[str], exc: httpx.HTTPError | httpx.InvalidURL
) -> _Outcome:
    if isinstance(exc, httpx.TimeoutException):
        error = f"timeout: {type(exc).__name__}"
    elif isinstance(exc, httpx.RemoteProtocolError):
        error = f"truncated or broken response: {exc}"
    else:
        error = f"transport error: {type(exc).__name__}: {exc}"
    return _Outcome(url, 0, error=error, redirects=tuple(chain), retryable=True)


def to_page(request: FetchRequest, outcome: _Outcome, fetched_at: datetime) -> Page:
    return Page(
        url=request.url,
        final_url=outcome.final_url,
        status=outcome.status,
        headers=outcome.headers,
        body=outcome.body,
        fetched_at=fetched_at,
        error=outcome.error,
        redirects=outcome.redirects,
    )


# --- synchronous ---------------------------------------------------------------------


def _attempt_sync(
    client: httpx.Client, request: FetchRequest, policy: FetchPolicy, clock: Clock
) -> _Outcome:
    url, chain = request.url, list[str]()
    headers = request_headers(request, policy)
    while True:
        refused = guard_url(url, policy)
        if refused is not None:
            return _Outcome(url, error=refused, redirects=tuple(chain))
        try:
            with client.stream(
                "GET", url, headers=headers, timeout=policy.timeout, follow_redirects=False
            ) as response:
                hop = judge_response(response, request.url, chain, policy, clock())
                if hop.next_url is not None:
                    chain.append(url)
                    url = hop.next_url
                    continue
                if hop.outcome is not None:
                    return hop.outcome
                too_big = size_error(response, policy)
                if too_big:
                    return _Outcome(url, response.status_code, error=too_big)
                body = bytearray()
                for chunk in response.iter_bytes():
                    body.extend(chunk)
                    if len(body) > policy.max_bytes:
                        break
                return finish_body(response, bytes(body), chain, policy)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return transport_failure(url, chain, exc)


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
) -> _Outcome:
    url, chain = request.url, list[str]()
    headers = request_headers(request, policy)
    while True:
        refused = guard_url(url, policy)
        if refused is not None:
            return _Outcome(url, error=refused, redirects=tuple(chain))
        try:
            async with client.stream(
                "GET", url, headers=headers, timeout=policy.timeout, follow_redirects=False
            ) as response:
                hop = judge_response(response, request.url, chain, policy, clock())
                if hop.next_url is not None:
                    chain.append(url)
                    url = hop.next_url
                    continue
                if hop.outcome is not None:
                    return hop.outcome
                too_big = size_error(response, policy)
                if too_big:
                    return _Outcome(url, response.status_code, error=too_big)
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body.extend(chunk)
                    if len(body) > policy.max_bytes:
                        break
                return finish_body(response, bytes(body), chain, policy)
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            return transport_failure(url, chain, exc)


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
                return to_page(request, _Outcome(request.url, error=error), fetched_at)
        host = urlsplit(request.url).netloc
        outcome: _Outcome | None = None
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
