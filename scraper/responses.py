"""What an HTTP answer means for a fetch, as pure decisions that the synchronous and the
asynchronous request loops of :mod:`scraper.fetch` share: follow a redirect, stop with an
outcome, read the body (and check it), retry after how long; and the :class:`Attempt` that
walks one redirect chain with them (the loops only open the stream and read the body).

Refused before the body is read: a redirect off the site's origins, a 206 or any
``Content-Range`` (amendwatch never asks for a range, so it is a truncation), a 304 to a
request that was not conditional, a declared length over the limit, an unknown coding or too
many. Refused while it is read (see :mod:`scraper.codings`): over the limit as sent or once
decoded, corrupt, or shorter than its ``Content-Length``.

Imports run one way: :mod:`scraper.policy` <- :mod:`scraper.guard`, :mod:`scraper.codings`
<- this module <- :mod:`scraper.fetch`."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin, urlsplit

import httpx

from amendwatch.errors import BodyError
from scraper.codings import ACCEPT_ENCODING, BodyReader, coding_problem, content_codings
from scraper.guard import (
    Resolver,
    allow_entry,
    guard_url,
    has_credentials,
    host_allowed,
    resolve_host,
    sends_extras,
    without_credentials,
)
from scraper.models import Page
from scraper.policy import FetchPolicy, FetchRequest

_REDIRECTS = frozenset({301, 302, 303, 307, 308})


@dataclass(frozen=True)
class Outcome:
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
class Hop:
    """What to do after one response: stop with an outcome, or follow ``next_url``."""

    outcome: Outcome | None = None
    next_url: str | None = None


# set by the fetch layer itself: an extra header of these names is not sent
_OWN_HEADERS = frozenset(
    {
        "user-agent",
        "accept-encoding",
        "if-none-match",
        "if-modified-since",
        "range",
        "cookie",
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
    }
)


def cookie_header(cookies: tuple[tuple[str, str], ...]) -> str:
    """``name=value; name=value`` (a later pair of the same name replaces an earlier)."""
    return "; ".join(f"{name}={value}" for name, value in dict(cookies).items())


def request_headers(
    request: FetchRequest, policy: FetchPolicy, url: str | None = None
) -> dict[str, str]:
    """The headers of a request to ``url`` (default: the one asked for) in the fetch of
    ``request``: the policy's User-Agent and, where :func:`scraper.guard.sends_extras` says
    so, its extra headers (except those the fetch layer sets) and cookies."""
    headers = {
        "User-Agent": policy.user_agent,
        "Accept": "text/html,*/*;q=0.8",
        "Accept-Encoding": ACCEPT_ENCODING,
    }
    if sends_extras(url or request.url, request.url, policy):
        for name, value in policy.headers:
            if name.lower() not in _OWN_HEADERS:
                headers = {k: v for k, v in headers.items() if k.lower() != name.lower()}
                headers[name] = value
        if policy.cookies:
            headers["Cookie"] = cookie_header(policy.cookies)
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


def backoff_delay(policy: FetchPolicy, attempt: int, outcome: Outcome, rng: random.Random) -> float:
    """Exponential backoff with full jitter on top; Retry-After wins when larger."""
    base = policy.backoff * (2.0**attempt)
    delay = base + rng.uniform(0, base)
    if outcome.retry_after is not None:
        delay = max(delay, outcome.retry_after)
    return min(delay, policy.max_retry_after)


def _status_error(status: int, reason: str) -> str:
    return f"HTTP {status} {reason}".strip()


def _redirect_problem(
    start_url: str, target: str, url: str, chain: list[str], policy: FetchPolicy
) -> str | None:
    if urlsplit(target).scheme not in ("http", "https"):
        return f"redirect to a non-http URL {without_credentials(target)} refused"
    if has_credentials(target):
        return "redirect to a URL with credentials in it refused"
    if not host_allowed(start_url, target, policy):
        return f"redirect to another host or port ({allow_entry(target)}) refused"
    if target in chain or target == url or len(chain) >= policy.max_redirects:
        return f"redirect loop at {target}"
    return None


def judge_response(
    response: httpx.Response,
    start_url: str,
    chain: list[str],
    policy: FetchPolicy,
    now: datetime,
) -> Hop:
    """Decide on the status line and headers alone (before reading the body)."""
    status = response.status_code
    headers = tuple(response.headers.multi_items())
    url = str(response.url)
    redirects = tuple(chain)
    if status in _REDIRECTS and response.headers.get("location"):
        target = urljoin(url, response.headers["location"]).split("#", 1)[0]
        error = _redirect_problem(start_url, target, url, chain, policy)
        if error is None:
            return Hop(next_url=target)
        if has_credentials(target):  # never recorded with them, nor is the Location header
            target = without_credentials(target)
            headers = tuple((key, without_credentials(value)) for key, value in headers)
        return Hop(Outcome(url, status, headers, error=error, redirects=(*redirects, target)))
    if status == 304 or 200 <= status < 300:
        return Hop()
    retry_after = parse_retry_after(
        response.headers.get("retry-after"), now, policy.max_retry_after
    )
    retryable = status == 429 or status >= 500
    error = _status_error(status, response.reason_phrase)
    return Hop(Outcome(url, status, headers, b"", error, redirects, retryable, retry_after))


def size_error(response: httpx.Response, policy: FetchPolicy) -> str | None:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > policy.max_bytes:
        return f"over the size limit ({declared} bytes > {policy.max_bytes})"
    return None


def answer_problem(
    response: httpx.Response, request: FetchRequest, policy: FetchPolicy
) -> str | None:
    """Why a 2xx or 304 answer is refused before its body is read, or None."""
    status = response.status_code
    if status == 304 and not request.conditional:
        return "unsolicited 304 Not Modified: the request was not conditional"
    if status == 206:
        return "truncated: HTTP 206 Partial Content (amendwatch never asks for a range)"
    if "content-range" in response.headers:
        shown = response.headers["content-range"][:60]
        return f"truncated: the answer has Content-Range {shown!r} (never asked for)"
    return size_error(response, policy) or coding_problem(
        content_codings(response.headers), policy.max_codings
    )


def body_reader(response: httpx.Response, policy: FetchPolicy) -> BodyReader:
    """The reader that decodes this response's raw body under ``policy.max_bytes`` (no
    decoding for a response built with its content in memory: httpx decoded it)."""
    codings = () if response.is_stream_consumed else content_codings(response.headers)
    return BodyReader(codings, policy.max_bytes)


def finish_body(
    response: httpx.Response, body: bytes, raw: int, chain: list[str], policy: FetchPolicy
) -> Outcome:
    """Check the body read in full (``raw`` bytes as sent) against the limits and
    Content-Length."""
    url, status = str(response.url), response.status_code
    headers = tuple(response.headers.multi_items())
    if len(body) > policy.max_bytes:
        error = f"over the size limit (more than {policy.max_bytes} bytes)"
        return Outcome(url, status, headers, b"", error, tuple(chain))
    declared = response.headers.get("content-length", "")
    if status != 304 and declared.isdigit() and raw < int(declared):  # a 304 has no body
        error = f"truncated: {raw} of {declared} bytes received"
        return Outcome(url, status, headers, body, error, tuple(chain), retryable=True)
    return Outcome(url, status, headers, body, None, tuple(chain))


def transport_failure(
    url: str, chain: list[str], exc: httpx.HTTPError | httpx.InvalidURL
) -> Outcome:
    if isinstance(exc, httpx.ProxyError):  # the proxy refused the tunnel or failed it
        error = f"proxy error: {exc}"
    elif isinstance(exc, httpx.TimeoutException):
        error = f"timeout: {type(exc).__name__}"
    elif isinstance(exc, httpx.RemoteProtocolError):
        error = f"truncated or broken response: {exc}"
    else:
        error = f"transport error: {type(exc).__name__}: {exc}"
    return Outcome(url, 0, error=error, redirects=tuple(chain), retryable=True)


def to_page(request: FetchRequest, outcome: Outcome, fetched_at: datetime) -> Page:
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


def deadline_failure(url: str, chain: list[str], policy: FetchPolicy) -> Outcome:
    """The whole fetch took longer than ``policy.deadline`` (never retried)."""
    error = f"deadline exceeded: no complete answer within {policy.deadline:g} s"
    return Outcome(url, 0, error=error, redirects=tuple(chain))


INTERRUPTED = "interrupted: the fetch was stopped (SIGINT or SIGTERM)"


def interrupted(request: FetchRequest, fetched_at: datetime) -> Page:
    """The page of a fetch stopped by a signal (see :mod:`scraper.session`)."""
    return to_page(request, Outcome(request.url, error=INTERRUPTED), fetched_at)


@dataclass
class Attempt:
    """One attempt at a request (one redirect chain): where it stands (``url``, ``chain``)
    and, once decided, its ``outcome``."""

    request: FetchRequest
    policy: FetchPolicy
    url: str = ""
    chain: list[str] = field(default_factory=list)
    outcome: Outcome | None = None
    resolve: Resolver = resolve_host  # the address guard's (see scraper.guard)

    def __post_init__(self) -> None:
        self.url = self.url or self.request.url

    def headers(self) -> dict[str, str]:
        """The headers of the request to ``url`` (the extras only on the asked-for origin)."""
        return request_headers(self.request, self.policy, self.url)

    def proceed(self) -> bool:
        """Whether to request ``url`` now (False: the attempt is over, see ``result``)."""
        if self.outcome is None:
            refused = guard_url(self.url, self.policy, self.resolve)
            if refused is not None:
                self.outcome = Outcome(self.url, error=refused, redirects=tuple(self.chain))
        return self.outcome is None

    def answer(self, response: httpx.Response, now: datetime) -> BodyReader | None:
        """Decide on the status line and headers; a reader: read the body with it, then
        :meth:`finish`."""
        hop = judge_response(response, self.request.url, self.chain, self.policy, now)
        if hop.next_url is not None:
            self.chain.append(self.url)
            self.url = hop.next_url
            return None
        if hop.outcome is not None:
            self.outcome = hop.outcome
            return None
        refused = answer_problem(response, self.request, self.policy)
        if refused:
            self.refuse(response, refused)
            return None
        return body_reader(response, self.policy)

    def finish(self, response: httpx.Response, reader: BodyReader) -> None:
        try:
            body = reader.finish()
        except BodyError as exc:
            self.refuse(response, str(exc))
            return
        self.outcome = finish_body(response, body, reader.raw, self.chain, self.policy)

    def refuse(self, response: httpx.Response, error: str) -> None:
        """A failed outcome for this answer (status and headers kept, no body)."""
        headers = tuple(response.headers.multi_items())
        self.outcome = Outcome(
            self.url, response.status_code, headers, error=error, redirects=tuple(self.chain)
        )

    def fail(self, exc: httpx.HTTPError | httpx.InvalidURL) -> None:
        self.outcome = transport_failure(self.url, self.chain, exc)

    def expire(self) -> None:
        self.outcome = deadline_failure(self.url, self.chain, self.policy)

    @property
    def result(self) -> Outcome:
        assert self.outcome is not None
        return self.outcome
