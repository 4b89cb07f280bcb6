"""The client of the fetch layer: an async sender straight to a transport (the fetch layer
does what ``httpx.AsyncClient.send`` would add), direct (h11, scraper/h11route.py) or through
the policy's proxy (httpx's transport) as :func:`scraper.guard.proxied` decides, TLS set up
only for https. Nothing is read from the environment (``trust_env=False``)."""

from __future__ import annotations

import contextlib
import functools
import ssl
from collections.abc import AsyncIterator

import httpcore
import httpx

from amendwatch.errors import FetchError
from scraper.guard import parse_url, proxied, without_credentials
from scraper.h11route import H11Route
from scraper.netbackend import AsyncioBackend
from scraper.policy import FetchPolicy

__all__ = [
    "AsyncSender",
    "DirectRoute",
    "ProxyRoute",
    "open_client",
    "pooled",
    "tls_context",
]

PROXY_HINT = "give the proxy as http://host:port or https://host:port (user:password@ allowed)"


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The one verifying TLS context of the process (certifi's CA bundle, never the
    environment's): loading it costs about 20 ms, so it is built on the first https request
    and shared by every client, and a forked fetch process inherits it."""
    return httpx.create_ssl_context(trust_env=False)


def pooled(transport: httpx.AsyncHTTPTransport) -> httpx.AsyncHTTPTransport:
    """``transport`` with its connection pool on :class:`scraper.netbackend.AsyncioBackend`
    instead of anyio (about 0.3 ms a request less). httpx does not take a network backend
    yet (encode/httpx#3749), so the pool httpx built gets it; should a later httpx or
    httpcore keep its pool elsewhere, the transport is left as it is (slower, still right;
    tests/scraper/test_scraper_netbackend.py then fails)."""
    pool = getattr(transport, "_pool", None)
    if isinstance(pool, httpcore.AsyncConnectionPool) and hasattr(pool, "_network_backend"):
        pool._network_backend = AsyncioBackend()
    return transport


class DirectRoute(httpx.AsyncBaseTransport):
    """Direct connections, through :class:`scraper.h11route.H11Route`; TLS with
    :func:`tls_context`, built on the first https request (an http:// site never loads the
    CA bundle)."""

    def __init__(self) -> None:
        self._route = H11Route(tls_context)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._route.handle_async_request(request)

    async def aclose(self) -> None:
        await self._route.aclose()


class ProxyRoute(httpx.AsyncBaseTransport):
    """Sends each request through the proxy or directly, as :func:`scraper.guard.proxied`
    decides for its URL (the guard asks the same question)."""

    def __init__(self, policy: FetchPolicy) -> None:
        self._policy = policy
        self._direct = DirectRoute()
        try:
            self._proxy = pooled(
                httpx.AsyncHTTPTransport(proxy=policy.proxy, verify=tls_context(), trust_env=False)
            )
        except (ValueError, ImportError, httpx.InvalidURL) as exc:
            shown = without_credentials(policy.proxy or "")
            raise FetchError(f"cannot use the proxy {shown}: {exc}", PROXY_HINT) from exc

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        via = self._proxy if proxied(str(request.url), self._policy) else self._direct
        return await via.handle_async_request(request)

    async def aclose(self) -> None:
        await self._direct.aclose()
        await self._proxy.aclose()


class AsyncSender:
    """The async client of a fetch: one transport (its connection pool) and the cookies the
    sites set. Each request goes straight to the transport: the fetch layer already does
    what ``httpx.AsyncClient.send`` would add (headers, no redirects, its own decoding), and
    its URL merging, auth and redirect machinery cost about 0.25 ms a request, a third of a
    conditional GET answered 304."""

    def __init__(self, transport: httpx.AsyncBaseTransport, timeout: httpx.Timeout) -> None:
        self.transport = transport
        self.cookies = httpx.Cookies()
        self._timeout = timeout.as_dict()

    @contextlib.asynccontextmanager
    async def stream(self, url: str, headers: dict[str, str]) -> AsyncIterator[httpx.Response]:
        """A GET of ``url``, its body not read yet; the site's cookies are kept."""
        request = httpx.Request(
            "GET", parse_url(url), headers=headers, extensions={"timeout": self._timeout}
        )
        response = await self.transport.handle_async_request(request)
        response.request = request
        try:
            if "set-cookie" in response.headers:
                self.cookies.extract_cookies(response)
            yield response
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        await self.transport.aclose()


def open_client(
    policy: FetchPolicy, transport: httpx.AsyncBaseTransport | None = None
) -> AsyncSender:
    """The async client for ``policy``: nothing from the environment, the policy's proxy
    (unless a test injects ``transport``); FetchError when its headers or cookies cannot be
    sent or its proxy is not usable."""
    problem = policy.extras_problem()
    if problem is not None:
        raise FetchError(problem, "fix the value where it comes from (option, variable or file)")
    if transport is None:
        transport = ProxyRoute(policy) if policy.proxy else DirectRoute()
    return AsyncSender(transport, policy.timeout)
