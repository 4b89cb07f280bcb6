"""scraper/netbackend.py, the httpcore network backend on asyncio's transports: every pool
the fetch layer builds is on it (``scraper.client.pooled``), and through it, against real
loopback servers (tests/netservers.py), bodies arrive whole (reading paused above HIGH_WATER
and resumed), keep-alive connections are reused but never once the server closed them or
sent something unasked, TLS verifies (directly and through a CONNECT tunnel), and errors map
as httpcore's own backends map them."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import ssl
import time
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import httpcore
import httpx
import pytest

from scraper import netbackend
from scraper.client import DirectRoute, ProxyRoute, pooled
from scraper.fetch import FetchPolicy, FetchRequest, fetch_pages
from scraper.netbackend import AsyncioBackend
from tests.loopback import LoopbackServer, QuietHandler
from tests.netservers import (
    MB,
    Tls,
    after_first_answer,
    answer_once,
    body_of,
    closed_port,
    cut_mid_body,
    full_backlog,
    hash_upload,
    make_tls,
    never_answer,
    never_read,
    not_tls,
    serving,
    site,
    whole,
)
from tests.proxyserver import ForwardProxy

LIMITS = httpx.Limits(max_connections=100, max_keepalive_connections=20)  # httpx's default


def run(test: Coroutine[Any, Any, None]) -> None:
    asyncio.run(asyncio.wait_for(test, 20))  # a hang fails instead of blocking the suite


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def backend(transport: httpx.AsyncHTTPTransport | None) -> object:
    """The network backend of ``transport``'s pool, reached as ``pooled`` reaches it."""
    pool = getattr(transport, "_pool", None)
    assert isinstance(pool, httpcore.AsyncConnectionPool), "httpx keeps its pool elsewhere now"
    return getattr(pool, "_network_backend", None)


@contextlib.asynccontextmanager
async def client(
    timeout: float = 5.0, limits: httpx.Limits = LIMITS, verify: ssl.SSLContext | bool = True
) -> AsyncIterator[httpx.AsyncClient]:
    transport = pooled(httpx.AsyncHTTPTransport(trust_env=False, verify=verify, limits=limits))
    assert isinstance(backend(transport), AsyncioBackend)
    async with httpx.AsyncClient(transport=transport, timeout=timeout, trust_env=False) as opened:
        yield opened


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Every (host, port) AsyncioBackend.connect_tcp is asked for."""
    asked: list[tuple[str, int]] = []
    original = AsyncioBackend.connect_tcp

    async def spy(self: AsyncioBackend, host: str, port: int, **kw: Any) -> Any:
        asked.append((host, port))
        return await original(self, host, port, **kw)

    monkeypatch.setattr(AsyncioBackend, "connect_tcp", spy)
    return asked


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return make_tls(tmp_path_factory.mktemp("netbackend-tls"))


# --- 1. the fetch layer's pools are on the backend --------------------------------------------


def test_every_pool_of_the_fetch_layer_is_on_the_asyncio_backend() -> None:
    async def check() -> None:
        direct = DirectRoute()  # h11 on the backend's streams (scraper/h11route.py)
        assert isinstance(direct._route._backend, AsyncioBackend)
        with pytest.raises(httpx.ConnectError):
            url = f"https://127.0.0.1:{closed_port()}/"
            await direct.handle_async_request(httpx.Request("GET", url))
        await direct.aclose()
        proxy = ProxyRoute(FetchPolicy(proxy="http://127.0.0.1:3128"))
        assert isinstance(proxy._proxy._pool, httpcore.AsyncHTTPProxy)
        assert isinstance(backend(proxy._proxy), AsyncioBackend)
        assert isinstance(proxy._direct._route._backend, AsyncioBackend)
        await proxy.aclose()

    run(check())


def test_direct_and_proxied_requests_connect_through_the_backend(
    connects: list[tuple[str, int]],
) -> None:
    async def check() -> None:
        async with serving(site) as served:
            direct = DirectRoute()
            response = await direct.handle_async_request(
                httpx.Request("GET", served.url("/bytes/7"))
            )
            assert await response.aread() == body_of(7)
            await direct.aclose()
            assert connects == [("127.0.0.1", served.port)]
            with ForwardProxy({"manual.test:80": ("127.0.0.1", served.port)}) as proxy:
                route = ProxyRoute(FetchPolicy(proxy=proxy.url))
                request = httpx.Request("GET", "http://manual.test/bytes/9")
                response = await route.handle_async_request(request)
                assert await response.aread() == body_of(9)
                await route.aclose()
            assert connects[1:] == [("127.0.0.1", int(proxy.url.rsplit(":", 1)[1]))]

    run(check())


# --- 2. through httpx against loopback servers ------------------------------------------------


@pytest.mark.parametrize("kind", ["bytes", "chunked"])
@pytest.mark.parametrize("size", [0, 1, 130_000, 5_000_000])
def test_bodies_arrive_byte_for_byte_on_one_connection(kind: str, size: int) -> None:
    async def check() -> None:
        async with serving(site) as served, client() as http:
            for _ in range(2):
                response = await http.get(served.url(f"/{kind}/{size}"))
                assert response.status_code == 200
                assert len(response.content) == size
                assert digest(response.content) == digest(body_of(size))
            assert served.connections == 1

    run(check())


@pytest.mark.parametrize("secure", [False, True], ids=["plain", "tls"])
def test_reading_pauses_above_high_water_and_resumes(
    secure: bool, tls: Tls, monkeypatch: pytest.MonkeyPatch
) -> None:
    paused: list[bool] = []  # after each data_received: is the transport no longer read?
    original = netbackend._Receiver.data_received

    def watch(self: netbackend._Receiver, data: bytes) -> None:
        original(self, data)
        assert self.transport is not None
        paused.append(not self.transport.is_reading())

    monkeypatch.setattr(netbackend._Receiver, "data_received", watch)

    async def check() -> None:
        size = 5 * MB
        async with (
            serving(site, tls.server if secure else None) as served,
            client(verify=tls.trusting) as http,
            http.stream("GET", served.url(f"/bytes/{size}")) as response,
        ):
            deadline = time.monotonic() + 5
            while not any(paused) and time.monotonic() < deadline:  # the server fills the buffer
                await asyncio.sleep(0.005)
            assert any(paused), "reading was never paused"
            received = b"".join([chunk async for chunk in response.aiter_raw()])
            assert digest(received) == digest(body_of(size))
            assert not paused[-1]  # resumed to read the rest

    run(check())


def test_sequential_requests_reuse_one_keep_alive_connection() -> None:
    async def check() -> None:
        async with serving(site) as served, client() as http:
            for n in range(6):
                assert (await http.get(served.url(f"/bytes/{n * 100}"))).content == body_of(n * 100)
            assert served.connections == 1

    run(check())


@pytest.mark.parametrize("how", ["closed", "unasked"])
@pytest.mark.parametrize("secure", [False, True], ids=["plain", "tls"])
def test_an_idle_connection_the_server_closed_or_spoke_on_is_not_reused(
    how: str, secure: bool, tls: Tls
) -> None:
    async def check() -> None:
        answered = asyncio.Event()
        async with (
            serving(after_first_answer(how, answered), tls.server if secure else None) as served,
            client(verify=tls.trusting) as http,
        ):
            assert (await http.get(served.url("/bytes/10"))).content == body_of(10)
            answered.set()
            await asyncio.sleep(0.1)  # the event loop sees the end (or the bytes)
            assert (await http.get(served.url("/bytes/11"))).content == body_of(11)
            assert served.connections == 2

    run(check())


def test_many_concurrent_requests_share_a_few_connections() -> None:
    async def check() -> None:
        async with serving(site) as served, client(limits=httpx.Limits(max_connections=8)) as http:
            sizes = [1 + n * 397 for n in range(200)]
            responses = await asyncio.gather(*(http.get(served.url(f"/bytes/{s}")) for s in sizes))
            assert [r.content for r in responses] == [body_of(s) for s in sizes]
            assert 1 <= served.connections <= 8

    run(check())


def test_a_large_upload_is_written_whole_with_flow_control() -> None:
    async def check() -> None:
        async with serving(hash_upload) as served, client() as http:
            response = await http.post(served.url("/"), content=body_of(5 * MB))
            assert response.text == digest(body_of(5 * MB))

    run(check())


def test_a_server_that_never_answers_is_a_read_timeout() -> None:
    async def check() -> None:
        async with serving(never_answer) as served, client(timeout=0.3) as http:
            started = time.monotonic()
            with pytest.raises(httpx.ReadTimeout):
                await http.get(served.url("/bytes/1"))
            assert 0.25 <= time.monotonic() - started < 2

    run(check())


def test_a_closed_port_is_a_connect_error() -> None:
    async def check() -> None:
        async with client() as http:
            with pytest.raises(httpx.ConnectError):
                await http.get(f"http://127.0.0.1:{closed_port()}/")

    run(check())


def test_a_connect_that_does_not_complete_is_a_connect_timeout() -> None:
    async def check(port: int) -> None:
        started = time.monotonic()
        with pytest.raises(httpcore.ConnectTimeout):
            await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=0.2)
        assert 0.15 <= time.monotonic() - started < 1.5
        async with client(timeout=0.2) as http:
            with pytest.raises(httpx.ConnectTimeout):
                await http.get(f"http://127.0.0.1:{port}/")

    with full_backlog() as port:
        run(check(port))


@pytest.mark.parametrize("how", ["close", "reset"])
def test_a_server_ending_mid_body_is_an_error_not_a_hang(how: str) -> None:
    expected = httpx.RemoteProtocolError if how == "close" else httpx.ReadError

    async def check() -> None:
        async with serving(cut_mid_body(how)) as served, client() as http:
            with pytest.raises(expected):
                await http.get(served.url("/"))

    run(check())


def test_tls_verifies_the_certificate_and_maps_its_failures(tls: Tls) -> None:
    async def check() -> None:
        async with serving(site, tls.server) as served:
            async with client(verify=tls.trusting) as http:
                response = await http.get(served.url("/chunked/130000"))
                assert digest(response.content) == digest(body_of(130_000))
                assert response.extensions["network_stream"].get_extra_info("ssl_object")
            async with client(verify=ssl.create_default_context()) as http:
                with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                    await http.get(served.url("/bytes/1"))
        async with serving(not_tls) as plain, client(verify=tls.trusting) as http:
            with pytest.raises(httpx.ConnectError):  # a server that does not speak TLS
                await http.get(plain.url("/").replace("http:", "https:"))
        async with serving(never_answer) as mute, client(verify=tls.trusting, timeout=0.3) as http:
            with pytest.raises(httpx.ConnectTimeout):  # no handshake
                await http.get(mute.url("/").replace("http:", "https:"))

    run(check())


def test_https_through_a_connect_tunnel(tls: Tls) -> None:
    async def check() -> None:
        async with serving(site, tls.server) as served:
            with ForwardProxy({f"127.0.0.1:{served.port}": ("127.0.0.1", served.port)}) as proxy:
                transport = httpx.AsyncHTTPTransport(
                    proxy=proxy.url, verify=tls.trusting, trust_env=False
                )
                async with httpx.AsyncClient(transport=pooled(transport)) as http:
                    for size in (10, 5 * MB):
                        response = await http.get(served.url(f"/bytes/{size}"))
                        assert digest(response.content) == digest(body_of(size))
                assert proxy.lines() == [f"CONNECT 127.0.0.1:{served.port} HTTP/1.1"]  # one tunnel

    run(check())


# --- the backend's streams directly -----------------------------------------------------------


def test_a_stream_knows_its_addresses_and_refuses_writes_once_closed() -> None:
    async def check() -> None:
        async with serving(answer_once) as served:
            stream = await AsyncioBackend().connect_tcp("127.0.0.1", served.port, timeout=1)
            assert stream.get_extra_info("server_addr") == ("127.0.0.1", served.port)
            assert stream.get_extra_info("client_addr")[0] == "127.0.0.1"
            assert stream.get_extra_info("ssl_object") is None
            assert not stream.get_extra_info("is_readable")
            await stream.write(b"GET /bytes/3 HTTP/1.1\r\nHost: x\r\n\r\n", timeout=1)
            received = b""
            while chunk := await stream.read(65536, timeout=1):  # then the server closes
                received += chunk
            assert received == whole(body_of(3))
            assert stream.get_extra_info("is_readable")  # ended: not reusable
            with pytest.raises(httpcore.WriteError):
                await stream.write(b"GET / HTTP/1.1\r\n\r\n", timeout=1)
            await stream.aclose()
        with pytest.raises(httpcore.ConnectError):
            await AsyncioBackend().connect_unix_socket("/nowhere.sock")

    run(check())


def test_a_server_that_does_not_read_is_a_write_timeout() -> None:
    async def check() -> None:
        async with serving(never_read) as served:
            stream = await AsyncioBackend().connect_tcp("127.0.0.1", served.port, timeout=1)
            started = time.monotonic()
            with pytest.raises(httpcore.WriteTimeout):
                await stream.write(b"x" * (64 * MB), timeout=0.2)
            assert time.monotonic() - started < 2
            await stream.aclose()

    run(check())


@pytest.mark.parametrize("host", ["www..example.invalid", "a" * 64 + ".example.invalid"])
def test_a_host_name_that_cannot_be_looked_up_is_a_connect_error(host: str) -> None:
    async def check() -> None:  # fails before any lookup: nothing leaves this machine
        async with client() as http:
            with pytest.raises(httpx.ConnectError):
                await http.get(f"http://{host}/")

    run(check())


# --- 3. the whole fetch stack on it -----------------------------------------------------------


def test_fetch_pages_fetches_fifty_pages_through_the_backend(
    connects: list[tuple[str, int]],
) -> None:
    class Handler(QuietHandler):
        protocol_version = "HTTP/1.1"  # keep-alive
        wbufsize = 65536  # an answer in one send (two would wait on the client's delayed ACK)

        def get(self) -> None:
            if self.path.startswith("/p/"):
                self.answer(200, f"<p>page {self.path}</p>".encode())
            else:
                self.answer(404, b"<h1>Page not found</h1>")

    with LoopbackServer(Handler) as server:
        urls = [f"{server.base_url}/p/{n}.html" for n in range(50)]
        policy = FetchPolicy(retries=0)
        requests = [FetchRequest(url) for url in urls]
        pages = fetch_pages(requests, policy, lambda: dt.datetime.now(dt.UTC))
    assert [page.url for page in pages] == urls
    assert [(page.status, page.error) for page in pages] == [(200, None)] * 50
    assert [page.body for page in pages] == [f"<p>page /p/{n}.html</p>".encode() for n in range(50)]
    port = int(server.base_url.rsplit(":", 1)[1])
    assert 1 <= len(connects) <= policy.per_host + 1 and set(connects) == {("127.0.0.1", port)}
