"""A fetch session: one event loop, one HTTP client and one robots.txt cache for a whole run.

``fetch_pages`` builds all three for every call; a snapshot fetches in many batches, so it
opens one ``FetchSession`` and calls ``fetch`` per batch instead (connections, TLS contexts and
robots.txt answers are reused across batches).

Stopping: :func:`interrupt_fetches` (thread-safe, and safe in a signal handler) cancels the
fetches in flight of every open session (and fetch process, see :mod:`scraper.fetchproc`):
each becomes a failed page "interrupted", at once, and so does every later fetch of that
session. :func:`stop_on_signals` turns SIGINT and SIGTERM into that plus a flag the pipeline
asks between chapters, so a run stops within a second and finishes its run row.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from types import FrameType, TracebackType
from typing import Protocol

import httpx

from scraper.fetch import AsyncSleep, Clock, FetchPolicy, FetchPool, FetchRequest, open_client
from scraper.guard import Resolver, check_url, resolve_host
from scraper.models import Page

__all__ = ["FetchSession", "Stopping", "interrupt_fetches", "resume_fetches", "stop_on_signals"]


class Interruptible(Protocol):
    def cancel(self) -> None: ...


_OPEN: weakref.WeakSet[Interruptible] = weakref.WeakSet()
_STOPPING = threading.Event()  # sessions opened while it is set start interrupted


def register(fetcher: Interruptible) -> None:
    """Let :func:`interrupt_fetches` reach ``fetcher`` while it is open (at once when a
    stop is under way)."""
    _OPEN.add(fetcher)
    if _STOPPING.is_set():
        fetcher.cancel()


def unregister(fetcher: Interruptible) -> None:
    _OPEN.discard(fetcher)


def interrupt_fetches() -> None:
    """Cancel the fetches in flight, and all later ones, of every open session and of
    every session opened until :func:`resume_fetches`."""
    _STOPPING.set()
    for fetcher in list(_OPEN):
        fetcher.cancel()


def resume_fetches() -> None:
    """Sessions opened from now on fetch again (those interrupted stay so)."""
    _STOPPING.clear()


class Stopping:
    """Truthy once SIGINT or SIGTERM arrived (``stop`` for ``Amendwatch.snapshot``);
    ``signal`` is the first signal's number."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self._event = threading.Event()

    def __call__(self) -> bool:
        return self._event.is_set()

    def handle(self, signum: int, frame: FrameType | None) -> None:
        if self.signal is None:
            self.signal = signum
        self._event.set()
        interrupt_fetches()


@contextlib.contextmanager
def stop_on_signals() -> Iterator[Stopping]:
    """While the block runs, SIGINT and SIGTERM stop fetches in flight and set the flag
    (no ``KeyboardInterrupt``); the previous handlers come back afterwards. Outside the
    main thread nothing is installed and the flag stays unset."""
    stopping = Stopping()
    if threading.current_thread() is not threading.main_thread():
        yield stopping
        return
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, stopping.handle) for sig in signals}
    try:
        yield stopping
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        resume_fetches()


# (page, its request's payload) -> the page as the storing process gets it: with what was made
# of it as its ``work``, and without its body when that work holds all that is needed of it
Prepare = Callable[[Page, object], Page]


class FetchSession:
    """Use as a context manager; ``fetch`` returns pages in request order. The client is
    :func:`scraper.fetch.open_client`'s (the policy's proxy, nothing from the environment);
    ``resolve`` is the address guard's resolver (tests inject one)."""

    def __init__(
        self,
        policy: FetchPolicy,
        clock: Clock,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        sleep: AsyncSleep = asyncio.sleep,
        rng: random.Random | None = None,
        resolve: Resolver = resolve_host,
        prepare: Prepare | None = None,
    ) -> None:
        self.policy = policy
        self.prepare = prepare
        self._resolve = resolve
        self._clock = clock
        self._transport = transport
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._runner: asyncio.Runner | None = None
        self._pool: FetchPool | None = None
        self._cancelled = False

    def known_crawl_delay(self, url: str) -> float:
        """The Crawl-delay robots.txt gives ``url``'s host, when this session has read it
        already (0.0 when it has not, or there is none)."""
        if self._pool is None:
            return 0.0
        rules = self._pool.read_robots(url)
        return 0.0 if rules is None else rules.crawl_delay(self.policy.user_agent)

    @property
    def depth(self) -> int:
        """Batches to submit ahead: one (``submit`` fetches at once)."""
        return 1

    @property
    def own_transport(self) -> bool:
        """Whether the session makes its own connections (no transport was injected)."""
        return self._transport is None

    def __enter__(self) -> FetchSession:
        self._runner = asyncio.Runner()
        self._runner.__enter__()
        try:
            self._pool = self._runner.run(self._open())
        finally:
            if self._pool is None:  # the client was refused (FetchError): close the loop
                self._runner.close()
                self._runner = None
        register(self)
        return self

    def cancel(self) -> None:
        """Interrupt this session's fetches, now and later; thread-safe, and safe to call
        from a signal handler (the pool is stopped in its own loop)."""
        self._cancelled = True
        runner, pool = self._runner, self._pool
        if runner is None or pool is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop is closing: nothing is in flight
            runner.get_loop().call_soon_threadsafe(pool.stop)

    async def _open(self) -> FetchPool:
        client = open_client(self.policy, self._transport)
        total = asyncio.Semaphore(self.policy.total)
        return FetchPool(
            client, self.policy, self._clock, self._sleep, self._rng, total, resolve=self._resolve
        )

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
        pages = self._runner.run(_gather(pool, requests))
        return prepared(pages, requests, self.prepare)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        unregister(self)
        if self._runner is None:
            return
        try:
            if self._pool is not None:
                self._runner.run(self._pool.client.aclose())
        finally:
            self._runner.__exit__(kind, exc, tb)
            self._runner = None
            self._pool = None


def prepared(
    pages: list[Page], requests: Sequence[FetchRequest], prepare: Prepare | None
) -> list[Page]:
    """``pages``, each whose request has a payload as ``prepare(page, payload)`` made it
    (where the fetching happens: in a fetch process, on another core)."""
    if prepare is None:
        return pages
    return [
        page if request.payload is None else prepare(page, request.payload)
        for page, request in zip(pages, requests, strict=True)
    ]


async def _gather(pool: FetchPool, requests: Sequence[FetchRequest]) -> list[Page]:
    return list(await asyncio.gather(*(pool.fetch(request) for request in requests)))
