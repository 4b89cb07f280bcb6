"""What a fetch is asked to do (``FetchRequest``) and under which rules (``FetchPolicy``).

The bottom of the fetch layer: :mod:`scraper.guard`, :mod:`scraper.codings`,
:mod:`scraper.responses` and :mod:`scraper.fetch` import from here, never the other way
(``scraper.fetch`` re-exports both names for its callers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import httpx

from amendwatch import __version__

__all__ = ["DEFAULT_DEADLINE", "FetchPolicy", "FetchRequest"]

DEFAULT_DEADLINE = 60.0  # seconds for one whole fetch (every attempt, redirect and read)
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # CTLs but tab


@dataclass(frozen=True)
class FetchPolicy:
    """How politely and how persistently to fetch.

    ``allowed_hosts`` names further origins that redirects may lead to (besides the requested
    one, which is always allowed): ``host`` (its default port) or ``host:port``.
    ``site_origin`` (``scheme://host:port``, see :func:`scraper.guard.policy_for_site`)
    restricts every request to the manual's own origin and ``allowed_hosts``; ``site_host``
    alone does the same for that host on its default ports. ``allow_private=False`` refuses
    loopback and private addresses.

    ``deadline`` bounds one whole fetch (retries, redirects and reading the body included),
    on top of the per-read timeout; ``max_bytes`` bounds the body both as sent and once
    decoded; ``max_codings`` bounds the number of content codings (``gzip, gzip``).

    ``headers`` and ``cookies`` (resolved values) go with requests to the origin a fetch was
    asked for, when the policy admits it (see :func:`scraper.guard.sends_extras`); ``proxy``
    (``http://`` or ``https://``, credentials allowed) carries every request except to hosts
    in ``no_proxy``. Nothing is read from the environment here: the configuration fills them.
    """

    user_agent: str = f"amendwatch/{__version__} (+https://example.invalid/amendwatch)"
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
    deadline: float = DEFAULT_DEADLINE
    max_codings: int = 2
    site_origin: str | None = None
    headers: tuple[tuple[str, str], ...] = ()  # extra request headers (name, value)
    cookies: tuple[tuple[str, str], ...] = ()  # (name, value), resolved from their sources
    proxy: str | None = None  # an http(s):// forward proxy for every request
    no_proxy: tuple[str, ...] = ()  # hosts (or .domain suffixes) reached without the proxy
    gap_factor: float = 1.0  # robots.txt Crawl-delay times this (a share of the fetching)

    @property
    def timeout(self) -> httpx.Timeout:
        return httpx.Timeout(
            connect=self.connect_timeout,
            read=self.read_timeout,
            write=self.read_timeout,
            pool=self.read_timeout,
        )

    def extras_problem(self) -> str | None:
        """Why the extra headers or cookies cannot be sent (a control character, or ``;`` in a
        cookie value), naming the header or cookie but never its value; None when they can."""
        for name, value in self.headers:
            if _CONTROL.search(name + value):
                return f"the {name} header has a control character or line break in its value"
        for name, value in self.cookies:
            if _CONTROL.search(name + value) or ";" in name + value or "=" in name:
                return f"the cookie {name!r} has a line break, ';' or control character in it"
        return None

    def timeout_within(self, seconds: float) -> httpx.Timeout:
        """The per-read timeouts, none longer than the ``seconds`` left before the deadline."""
        left = max(seconds, 0.001)
        read = min(self.read_timeout, left)
        return httpx.Timeout(
            connect=min(self.connect_timeout, left), read=read, write=read, pool=read
        )


@dataclass(frozen=True)
class FetchRequest:
    """A page to fetch, with its validators; ``payload``: what the session's ``prepare``
    function (see :class:`scraper.session.FetchSession`) is given with the fetched page."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    payload: object = field(default=None, compare=False, repr=False)

    @property
    def conditional(self) -> bool:
        """Whether the request carries a validator (so a 304 may answer it)."""
        return bool(self.etag or self.last_modified)
