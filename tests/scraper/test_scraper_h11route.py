"""scraper/h11route.py, the direct HTTP/1.1 transport of the fetch layer (h11 over
scraper.netbackend streams), against real loopback servers (tests/netservers.py): bodies
arrive whole, idle keep-alive connections are reused per origin but never once stale, a
reused connection found stale is retried once (only once), a connection that cannot go on
is closed, failures are httpx's exceptions, and answers look as httpx's own transport
gives them."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import gzip
import hashlib
import ssl
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, ParamSpec
from unittest.mock import Mock

import httpx
import pytest

from scraper import h11route
from scraper.client import pooled
from scraper.fetch import FetchPolicy, FetchRequest, fetch_pages
from scraper.h11route import H11Route
from tests.loopback import LoopbackServer, QuietHandler
from tests.netservers import (
    MB,
    RESET,
    Serve,
    Served,
    Tls,
    after_first_answer,
    answer,
    body_of,
    closed_port,
    cut_mid_body,
    make_tls,
    never_answer,
    paths,
    scripted,
    serving,
    site,
    until,
    whole,
)

P = ParamSpec("P")


def looped(test: Callable[P, Coroutine[Any, Any, None]]) -> Callable[P, None]:
    """Runs an async test in its own event loop; a hang fails instead of blocking the suite."""

    @functools.wraps(test)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        asyncio.run(asyncio.wait_for(test(*args, **kwargs), 10))

    return run


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def no_tls() -> ssl.SSLContext:
    raise AssertionError("a TLS context was asked for an http:// request")


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Tls:
    return make_tls(tmp_path_factory.mktemp("h11route-tls"))


def client(route: httpx.AsyncBaseTransport, timeout: float = 5.0) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=route, timeout=timeout, trust_env=False)


def idle(route: H11Route, served: Served) -> int:
    """How many idle connections ``route`` keeps to ``served``'s origin."""
    return len(route._idle.get((served.scheme.encode(), b"127.0.0.1", served.port), []))


# --- 1. bodies and keep-alive -----------------------------------------------------------------


@pytest.mark.parametrize("kind", ["bytes", "chunked"])
@pytest.mark.parametrize("size", [0, 1, 130_000, 5 * MB])
@looped
async def test_bodies_arrive_byte_for_byte_twice_on_one_connection(kind: str, size: int) -> None:
    route = H11Route(no_tls)
    async with serving(site) as served, client(route) as http:
        for _ in range(2):
            response = await http.get(served.url(f"/{kind}/{size}"))
            assert response.status_code == 200
            assert digest(response.content) == digest(body_of(size))
        assert served.connections == 1 and idle(route, served) == 1


@looped
async def test_each_origin_keeps_its_own_reused_connection() -> None:
    route = H11Route(no_tls)
    async with serving(site) as one, serving(site) as two, client(route) as http:
        for n in range(4):
            for size, served in ((n * 100, one), (n * 100 + 1, two)):
                assert (await http.get(served.url(f"/bytes/{size}"))).content == body_of(size)
        assert (one.connections, two.connections) == (1, 1)
        assert idle(route, one) == idle(route, two) == 1


@looped
async def test_concurrent_requests_each_take_their_own_connection_then_reuse_them() -> None:
    carried: dict[int, int] = {}  # requests per connection

    def reply(n: int, k: int, path: str) -> bytes:
        carried[n] = k
        return answer(path)

    route, sizes = H11Route(no_tls), [1 + n * 997 for n in range(50)]
    async with serving(scripted(reply)) as served, client(route) as http:
        for _ in range(2):
            got = await asyncio.gather(*(http.get(served.url(f"/bytes/{s}")) for s in sizes))
            assert [r.content for r in got] == [body_of(s) for s in sizes]
            assert served.connections == 50  # none idle at first; all idle again after
        assert sorted(carried.values()) == [2] * 50 and idle(route, served) == 50


@pytest.mark.parametrize("how", ["closed", "unasked"])
@pytest.mark.parametrize("secure", [False, True], ids=["plain", "tls"])
@looped
async def test_an_idle_connection_the_server_closed_or_spoke_on_is_not_reused(
    how: str, secure: bool, tls: Tls
) -> None:
    answered, route = asyncio.Event(), H11Route(lambda: tls.trusting)
    server = after_first_answer(how, answered)
    async with serving(server, tls.server if secure else None) as served, client(route) as http:
        assert (await http.get(served.url("/bytes/10"))).content == body_of(10)
        answered.set()
        await asyncio.sleep(0.1)  # the event loop sees the end (or the bytes)
        assert (await http.get(served.url("/chunked/11"))).content == body_of(11)
        assert served.connections == 2 and idle(route, served) == 1


@looped
async def test_an_idle_connection_older_than_the_keep_alive_is_not_reused() -> None:
    route = H11Route(no_tls)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(h11route, "KEEPALIVE_SECONDS", 0.05)
        async with serving(site) as served, client(route) as http:
            for pause in (0.0, 0.1, 0.0):
                await asyncio.sleep(pause)
                assert (await http.get(served.url("/bytes/3"))).content == body_of(3)
            assert served.connections == 2


@pytest.mark.parametrize("how", ["close", "reset"])
@looped
async def test_a_reused_connection_found_stale_is_retried_once_on_a_new_one(how: str) -> None:
    def reply(n: int, k: int, path: str) -> bytes | None:  # the first connection reads the
        if (n, k) == (1, 2):  # 2nd request and ends, as a server closing it just then would
            return None if how == "close" else RESET
        return answer(path)

    route = H11Route(no_tls)
    async with serving(scripted(reply)) as served, client(route) as http:
        assert (await http.get(served.url("/bytes/10"))).content == body_of(10)
        assert (await http.get(served.url("/bytes/11"))).content == body_of(11)
        assert served.connections == 2 and idle(route, served) == 1


@looped
async def test_a_new_connection_ending_without_an_answer_is_an_error_not_retried() -> None:
    route = H11Route(no_tls)
    serve = scripted(lambda n, k, path: answer(path) if (n, k) == (1, 1) else None)
    async with serving(serve) as served, client(route) as http:
        assert (await http.get(served.url("/bytes/10"))).content == body_of(10)
        with pytest.raises(httpx.RemoteProtocolError):  # stale, then a new one: no answer
            await http.get(served.url("/bytes/11"))
        assert served.connections == 2
        with pytest.raises(httpx.RemoteProtocolError):  # a new one at once: not retried
            await http.get(served.url("/bytes/12"))
        assert served.connections == 3 and idle(route, served) == 0


@pytest.mark.parametrize(
    ("head", "close"),
    [
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 130000\r\n\r\n", False),
        (b"HTTP/1.0 200 OK\r\nContent-Length: 130000\r\n\r\n", False),
        (b"HTTP/1.0 200 OK\r\n\r\n", True),  # the body ends with the connection
        (b"HTTP/1.1 200 OK\r\n\r\n", True),
    ],
    ids=["connection-close", "http10-length", "http10-eof", "http11-eof"],
)
@looped
async def test_an_answer_that_ends_its_connection_is_whole_and_never_reused(
    head: bytes, close: bool
) -> None:
    route, ended, body = H11Route(no_tls), list[int](), body_of(130_000)
    serve = scripted(lambda *_: head + body, close, ended)  # open unless it must close
    async with serving(serve) as served, client(route) as http:
        for n in (1, 2):
            assert digest((await http.get(served.url("/"))).content) == digest(body)
            assert served.connections == n
            assert idle(route, served) == 0 or close  # an ended one is dropped when taken
        if not close:
            await until(lambda: ended == [1])  # the client closed the first one


@looped
async def test_a_body_left_unread_closes_its_connection_without_hanging() -> None:
    route = H11Route(no_tls)
    async with serving(site) as served, client(route) as http:
        async with http.stream("GET", served.url(f"/chunked/{5 * MB}")) as response:
            async for chunk in response.aiter_raw():
                assert chunk
                break
        assert idle(route, served) == 0
        await until(served.writers[0].is_closing)  # the server saw it end
        assert (await http.get(served.url("/bytes/10"))).content == body_of(10)
        assert served.connections == 2 and idle(route, served) == 1


# --- 2. failures ------------------------------------------------------------------------------


@looped
async def test_a_closed_port_is_a_connect_error_and_a_mute_server_a_read_timeout() -> None:
    route = H11Route(no_tls)
    async with serving(never_answer) as served, client(route, timeout=0.3) as http:
        with pytest.raises(httpx.ConnectError):
            await http.get(f"http://127.0.0.1:{closed_port()}/")
        started = time.monotonic()
        with pytest.raises(httpx.ReadTimeout):
            await http.get(served.url("/bytes/1"))
        assert 0.25 <= time.monotonic() - started < 2
        assert idle(route, served) == 0
        await until(served.writers[0].is_closing)


BAD_LENGTH = b"HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n"


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        (cut_mid_body("close"), httpx.RemoteProtocolError),
        (cut_mid_body("reset"), httpx.ReadError),
        (scripted(lambda *_: b"SPAM SPAM SPAM\r\n\r\n"), httpx.RemoteProtocolError),
        (scripted(lambda *_: BAD_LENGTH), httpx.RemoteProtocolError),
    ],
    ids=["cut-close", "cut-reset", "garbage", "bad-length"],
)
@looped
async def test_a_broken_answer_is_an_httpx_error_not_a_hang(
    server: Serve, expected: type[httpx.TransportError]
) -> None:
    route = H11Route(no_tls)
    async with serving(server) as served, client(route) as http:
        with pytest.raises(expected):
            await http.get(served.url("/"))
        assert served.connections == 1 and idle(route, served) == 0


@pytest.mark.parametrize("reused", [False, True], ids=["new", "reused"])
@pytest.mark.parametrize("where", ["head", "body"])
@looped
async def test_a_cancelled_request_closes_its_connection(reused: bool, where: str) -> None:
    def reply(n: int, k: int, path: str) -> bytes:  # /hang: the head and 10 bytes, or nothing
        part = b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n0123456789"
        return (part if where == "body" else b"") if path == "/hang" else answer(path)

    route, ended = H11Route(no_tls), list[int]()
    async with serving(scripted(reply, ended=ended)) as served, client(route) as http:
        if reused:
            assert (await http.get(served.url("/bytes/5"))).content == body_of(5)
        task = asyncio.create_task(http.get(served.url("/hang")))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert idle(route, served) == 0
        await until(lambda: ended == [1])  # the server saw the client end it
        assert (await http.get(served.url("/bytes/6"))).content == body_of(6)
        assert served.connections == 2 and idle(route, served) == 1


# --- 3. TLS -----------------------------------------------------------------------------------


@looped
async def test_tls_is_built_on_the_first_https_request_and_its_connection_reused(
    tls: Tls,
) -> None:
    context = Mock(return_value=tls.trusting)
    route = H11Route(context)
    async with serving(site) as plain, serving(site, tls.server) as secure:
        async with client(route) as http:
            assert (await http.get(plain.url("/bytes/5"))).content == body_of(5)
            context.assert_not_called()  # an http:// request never builds TLS
            for size in (130_000, 10):
                response = await http.get(secure.url(f"/chunked/{size}"))
                assert digest(response.content) == digest(body_of(size))
            assert context.call_count == 1 and secure.connections == 1 and idle(route, secure) == 1
            kept = route._idle[(b"https", b"127.0.0.1", secure.port)][0]
            assert kept.stream.get_extra_info("ssl_object") is not None
        async with client(H11Route(ssl.create_default_context)) as http:
            with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
                await http.get(secure.url("/bytes/1"))


@looped
async def test_tls_is_built_once_for_many_https_connections(tls: Tls) -> None:
    context = Mock(return_value=tls.trusting)
    async with serving(site, tls.server) as secure, client(H11Route(context)) as http:
        await asyncio.gather(*(http.get(secure.url("/bytes/3")) for _ in range(3)))
        assert secure.connections == 3
        assert context.call_count == 1, f"tls() called {context.call_count} times for 3 connections"


# --- 4. answers as httpx's own transport gives them -------------------------------------------

EARLY = (
    b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"
)
GZIP = gzip.compress(b"hello " * 50, mtime=0)
ANSWERS = {
    "cookies": b"HTTP/1.1 404 Nicht Gefunden\r\nSet-Cookie: a=1\r\nX-Mixed-CASE: v\r\n"
    b"Set-Cookie: b=2; Path=/\r\nContent-Length: 3\r\n\r\nabc",
    "no-reason": b"HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\nok",
    "http10-eof": b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end",
    "trailers": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"3\r\nabc\r\n0\r\nX-T: t\r\n\r\n",
    "not-modified": b'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\n\r\n',
    "no-content": b"HTTP/1.1 204 No Content\r\n\r\n",
    "early-hints": EARLY + whole(b"hinted"),
    "gzip": whole(GZIP).replace(b"\r\n\r\n", b"\r\nContent-Encoding: gzip\r\n\r\n", 1),
    "garbage": b"SPAM SPAM SPAM\r\n\r\n",
    "cut-chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc",
}


@looped
async def test_informational_answers_before_the_answer_are_skipped() -> None:
    serve = scripted(lambda n, k, path: EARLY + answer(path))
    async with serving(serve) as served, client(H11Route(no_tls)) as http:
        for size in (7, 130_000):
            response = await http.get(served.url(f"/chunked/{size}"))
            assert response.status_code == 200 and "link" not in response.headers
            assert digest(response.content) == digest(body_of(size))
        assert served.connections == 1


@pytest.mark.parametrize("name", list(ANSWERS))
@looped
async def test_an_answer_looks_as_through_httpx_own_transport(name: str) -> None:
    async def outcome(transport: httpx.AsyncBaseTransport) -> object:
        async with client(transport) as http:
            try:
                got = await http.get(served.url("/"))
            except httpx.TransportError as exc:
                return type(exc)
            cookies = sorted((c.name, c.value) for c in http.cookies.jar)
            return got.status_code, got.reason_phrase, got.headers.raw, got.content, cookies

    async with serving(scripted(lambda *_: ANSWERS[name], close=True)) as served:
        ours = await outcome(H11Route(no_tls))
        assert ours == await outcome(pooled(httpx.AsyncHTTPTransport(trust_env=False)))
    if name == "cookies":  # not only alike: right
        raw = [(b"Set-Cookie", b"a=1"), (b"X-Mixed-CASE", b"v"), (b"Set-Cookie", b"b=2; Path=/")]
        cookies = [("a", "1"), ("b", "2")]
        assert ours == (404, "Nicht Gefunden", [*raw, (b"Content-Length", b"3")], b"abc", cookies)


@looped
async def test_a_20_kb_head_arriving_in_two_parts_is_read_as_httpx_reads_it() -> None:
    headers = b"".join(b"X-Big-%d: %b\r\n" % (i, b"v" * 1000) for i in range(20))

    async def big_head(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        async for _ in paths(reader):
            writer.write(b"HTTP/1.1 200 OK\r\n" + headers[:17_000])
            await writer.drain()
            await asyncio.sleep(0.05)  # the rest in a later segment, as over a real network
            writer.write(headers[17_000:] + b"Content-Length: 2\r\n\r\nok")

    async with serving(big_head) as served:
        async with client(pooled(httpx.AsyncHTTPTransport(trust_env=False))) as http:
            assert (await http.get(served.url("/"))).content == b"ok"  # httpx reads it
        async with client(H11Route(no_tls)) as http:
            response = await http.get(served.url("/"))
            assert response.content == b"ok" and len(response.headers) == 21


@looped
async def test_an_http10_answer_has_the_version_httpx_gives() -> None:
    serve = scripted(lambda *_: ANSWERS["http10-eof"], close=True)
    async with serving(serve) as served, client(H11Route(no_tls)) as http:
        assert (await http.get(served.url("/"))).http_version == "HTTP/1.0"


@looped
async def test_a_request_body_is_sent_or_refused_never_dropped() -> None:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, n: int) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        writer.write(whole(await reader.readuntil(b"0\r\n\r\n") if b"chunked" in head else b""))

    async def parts() -> AsyncIterator[bytes]:
        yield b"hello"

    async with serving(echo) as served, client(H11Route(no_tls)) as http:
        try:
            response = await http.post(served.url("/"), content=parts())
        except httpx.TransportError:
            return  # refused: as good as sent
        assert b"hello" in response.content, f"the server received {response.content!r}"


# --- 5. the whole fetch stack on it -----------------------------------------------------------


def test_fetch_pages_fetches_fifty_pages_on_a_few_reused_connections(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    opened, asked, original = list[int](), list[str](), H11Route.handle_async_request

    async def spy(self: H11Route, request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        return await original(self, request)

    monkeypatch.setattr(H11Route, "handle_async_request", spy)

    class Handler(QuietHandler):
        protocol_version = "HTTP/1.1"  # keep-alive
        wbufsize = 65536  # an answer in one send (two would wait on the client's delayed ACK)

        def setup(self) -> None:
            super().setup()
            opened.append(1)

        def get(self) -> None:
            if self.path.startswith("/p/"):
                self.answer(200, f"<p>page {self.path}</p>".encode() * 50)
            else:
                self.answer(404, b"<h1>Page not found</h1>")

    with LoopbackServer(Handler) as server:
        urls = [f"{server.base_url}/p/{n}.html" for n in range(50)]
        policy = FetchPolicy(retries=0, deadline=8)  # a hang fails within seconds
        now = functools.partial(dt.datetime.now, dt.UTC)
        pages = fetch_pages([FetchRequest(u) for u in urls], policy, now)
    assert [(page.url, page.status, page.error) for page in pages] == [(u, 200, None) for u in urls]
    bodies = [f"<p>page /p/{n}.html</p>".encode() * 50 for n in range(50)]
    assert [page.body for page in pages] == bodies
    assert sorted(asked) == sorted(["/robots.txt", *(f"/p/{n}.html" for n in range(50))])
    assert 1 <= len(opened) <= policy.per_host + 1  # one for robots.txt, reused
