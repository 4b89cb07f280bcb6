"""A fetch session: one event loop, one HTTP client and one robots.txt cache for a whole run.

``fetch_pages`` builds all three for every call; a snapshot fetches in many batches, so it
opens one ``FetchSession`` and calls ``fetch`` per batch instead (connections, TLS contexts and
robots.txt answers are reused across batches).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Sequence
from concurrent.futures import Future
from types import TracebackType

import httpx

from scraper.fetch import AsyncSleep, Clock, FetchPolicy, FetchPool, FetchRequest
from scraper.guard import check_url
from scraper.models import Page


class FetchSession:
    """Use as a context manager; ``fetch`` returns pages in request order."""

    def __init__(
        self,
        policy: FetchPolicy,
        clock: Clock,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        sleep: AsyncSleep = asyncio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.policy = policy
        self._clock = clock
        self._transport = transport
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._runner: asyncio.Runner | None = None
        self._pool: FetchPool | None = None

    @property
    def own_transport(self) -> bool:
        """Whether the session makes its own connections (no transport was injected)."""
        return self._transport is None

    def __enter__(self) -> FetchSession:
        self._runner = asyncio.Runner()
        self._runner.__enter__()
        self._pool = self._runner.run(self._open())
        return self

    async def _open(self) -> FetchPool:
        client = httpx.AsyncClient(
            transport=self._transport, timeout=self.policy.timeout, follow_redirects=False
        )
        total = asyncio.Semaphore(self.policy.total)
        return FetchPool(client, self.policy, self._clock, self._sleep, self._rng, total)

    def submit(self, requests: Sequence[FetchRequest]) -> Future[list[Page]]:
        """Fetch ``requests`` now; the (completed) future holds the pages, as
        ``FetchProcess.submit`` would."""
        done: Future[list[Page]] = Future()
        done.set_result(self.fetch(requests))
        return done

    def fetch(self, requests: Sequence[FetchRequest]) -> list[Page]:
        """Fetch ``requests`` concurrently (bounded overall and per host)."""
        if self._runner is None or self._pool is None:
            raise RuntimeError("FetchSession.fetch outside its `with` block")
        for request in requests:
            check_url(request.url)
        pool = self._pool
        return self._runner.run(_gather(pool, requests))

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is None:
            return
        try:
            if self._pool is not None:
                self._runner.run(self._pool.client.aclose())
        finally:
            self._runner.__exit__(kind, exc, tb)
            self._runner = None
            self._pool = None


async def _gather(pool: FetchPool, requests: Sequence[FetchRequest]) -> list[Page]:
    return list(await asyncio.gather(*(pool.fetch(request) for request in requests)))
