"""Direct HTTP/1.1 connections for the fetch layer: h11 over :mod:`scraper.netbackend`
streams, with the idle keep-alive connections of each origin kept for the next request.

httpcore's connection pool (what ``httpx.AsyncHTTPTransport`` wraps) spends about 0.3 ms of
CPU on each request in its locks, events, cancel shields and trace hooks (anyio under
asyncio): more than h11 takes to parse a 130 KB page. The fetch layer needs none of that: it
bounds its concurrency itself (per host and in total), sends GETs without a body, follows no
redirect and never speaks HTTP/2. So a request takes an idle connection to its origin (or
opens one), writes its head with h11, and gets a response whose stream reads the body's
events; after a complete exchange that both sides may continue, the connection goes back to
the idle list; anything else (an error, a body left unread, a server ending the connection,
a cancelled fetch) closes it. Failures are httpx's exceptions, as httpx's transport raises
them. A proxy keeps httpx's transport (``scraper.client.ProxyRoute``).
"""

from __future__ import annotations

import ssl
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import h11
import httpcore
import httpx

from scraper.netbackend import AsyncioBackend, AsyncioStream

__all__ = ["H11Route"]

MAX_HEAD = 100 * 1024  # an answer's head may be this long (httpcore's limit; h11's is 16 KiB)
KEEPALIVE_SECONDS = 5.0  # an idle connection older than this is closed, not reused (httpcore's)
READ_BYTES = 256 * 1024  # a whole page in one read, mostly (fewer h11 events)
Origin = tuple[bytes, bytes, int]

_ERRORS: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (h11.RemoteProtocolError, httpx.RemoteProtocolError),
    (h11.LocalProtocolError, httpx.LocalProtocolError),
)


@contextmanager
def _as_httpx(request: httpx.Request) -> Iterator[None]:
    """httpcore's and h11's exceptions as the httpx exceptions httpx's transport raises."""
    try:
        yield
    except tuple(kind for kind, _ in _ERRORS) as exc:
        mapped = next(target for kind, target in _ERRORS if isinstance(exc, kind))
        raise mapped(str(exc) or type(exc).__name__, request=request) from exc


@dataclass
class _Connection:
    stream: AsyncioStream
    protocol: h11.Connection = field(
        default_factory=lambda: h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD)
    )
    idle_since: float = 0.0
    used: bool = False  # has answered a request before (a reused connection may be stale)

    async def next_event(self, timeout: float | None) -> object:
        while (event := self.protocol.next_event()) is h11.NEED_DATA:
            self.protocol.receive_data(await self.stream.read(READ_BYTES, timeout))
        if event is h11.PAUSED:  # nothing more can come in this exchange: never wait on it
            raise h11.RemoteProtocolError("the connection cannot go on (h11 paused it)")
        return event


async def _ask(
    connection: _Connection, request: httpx.Request, timeouts: dict[str, float | None]
) -> h11.Response:
    """Send the request's head and read the response's (informational answers skipped)."""
    if request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers:
        raise h11.LocalProtocolError("this transport sends no request body (the fetch layer GETs)")
    protocol = connection.protocol
    head = h11.Request(method=request.method, target=request.url.raw_path,
                       headers=request.headers.raw)  # fmt: skip
    data = protocol.send(head) or b""
    await connection.stream.write(data + (protocol.send(h11.EndOfMessage()) or b""),
                                  timeouts.get("write"))  # fmt: skip
    while True:
        event = await connection.next_event(timeouts.get("read"))
        if isinstance(event, h11.Response):
            return event  # (h11 raises RemoteProtocolError when the connection ends first)


class H11Route(httpx.AsyncBaseTransport):
    """Direct connections; ``tls`` gives the TLS context (called on the first https
    request, so an http:// site never builds one)."""

    def __init__(self, tls: Callable[[], ssl.SSLContext]) -> None:
        self._tls = tls
        self._context: ssl.SSLContext | None = None
        self._backend = AsyncioBackend()
        self._idle: dict[Origin, list[_Connection]] = {}
        self._closed = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout", {})
        url = request.url
        origin = (url.raw_scheme, url.raw_host, url.port or (443 if url.scheme == "https" else 80))
        with _as_httpx(request):
            connection = self._reusable(origin)
            try:
                return await self._exchange(connection, request, origin, timeouts)
            except (httpcore.ReadError, httpcore.WriteError, h11.RemoteProtocolError):
                if connection is None or not connection.used:
                    raise  # a new connection failed: the answer stands
            # an idle connection the server had closed as it was taken: once more, on a new one
            return await self._exchange(None, request, origin, timeouts)

    async def _exchange(
        self,
        connection: _Connection | None,
        request: httpx.Request,
        origin: Origin,
        timeouts: dict[str, float | None],
    ) -> httpx.Response:
        if connection is None:
            connection = _Connection(await self._connect(origin, timeouts))
        try:
            event = await _ask(connection, request, timeouts)
        except BaseException:
            await connection.stream.aclose()
            raise
        return httpx.Response(
            event.status_code,
            headers=event.headers.raw_items(),
            stream=_Body(self, origin, connection, timeouts.get("read"), request),
            extensions={
                "http_version": b"HTTP/" + event.http_version,
                "reason_phrase": event.reason,
            },
        )

    async def _connect(self, origin: Origin, timeouts: dict[str, float | None]) -> AsyncioStream:
        scheme, host, port = origin
        name = host.decode("ascii")
        stream = await self._backend.connect_tcp(name, port, timeout=timeouts.get("connect"))
        if scheme == b"https":
            if self._context is None:
                self._context = self._tls()
            try:
                stream = await stream.start_tls(
                    self._context, server_hostname=name, timeout=timeouts.get("connect")
                )
            except BaseException:  # cancelled in the handshake too: the socket is closed
                stream.close()
                raise
        return stream

    def _reusable(self, origin: Origin) -> _Connection | None:
        """An idle connection to ``origin`` that may still be used, most recent first."""
        idle = self._idle.get(origin)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            fresh = now - connection.idle_since < KEEPALIVE_SECONDS
            if fresh and not connection.stream.get_extra_info("is_readable"):
                return connection
            self._drop(connection)
        return None

    def release(self, origin: Origin, connection: _Connection) -> None:
        """After a complete exchange: kept for the next request if both sides may go on."""
        protocol = connection.protocol
        if protocol.our_state is h11.DONE and protocol.their_state is h11.DONE:
            protocol.start_next_cycle()
            if not protocol.trailing_data[0] and not self._closed:  # nothing unasked came
                connection.idle_since, connection.used = time.monotonic(), True
                self._idle.setdefault(origin, []).append(connection)
                return
        self._drop(connection)

    def _drop(self, connection: _Connection) -> None:
        connection.stream.close()

    async def aclose(self) -> None:
        self._closed = True  # a connection released later is closed, not kept
        idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                await connection.stream.aclose()


class _Body(httpx.AsyncByteStream):
    """A response's body, read from its connection as the fetch layer iterates it."""

    def __init__(
        self,
        route: H11Route,
        origin: Origin,
        connection: _Connection,
        timeout: float | None,
        request: httpx.Request,
    ) -> None:
        self._route, self._origin, self._connection = route, origin, connection
        self._timeout, self._request = timeout, request
        self._done = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _as_httpx(self._request):
            while True:
                event = await self._connection.next_event(self._timeout)
                if isinstance(event, h11.Data):
                    yield bytes(event.data)
                elif isinstance(event, h11.EndOfMessage):
                    self._done = True
                    self._route.release(self._origin, self._connection)
                    return
                elif isinstance(event, h11.ConnectionClosed):
                    raise h11.RemoteProtocolError("the server closed the connection mid-body")

    async def aclose(self) -> None:
        if not self._done:  # left unread, failed or cancelled: the connection cannot go on
            self._done = True
            await self._connection.stream.aclose()
