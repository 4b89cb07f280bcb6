"""fetch_page against httpx.MockTransport: retries, backoff, redirects, limits, charsets."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from amendwatch import __version__
from amendwatch.errors import FetchError
from scraper.fetch import (
    FetchPolicy,
    FetchRequest,
    decode_body,
    fetch_page,
    fetch_pages,
    parse_retry_after,
    validators,
)
from scraper.models import Page

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
URL = "https://manual.example/chapters/p_icpc.html"


def clock() -> datetime:
    return NOW


class Recorder:
    """A MockTransport handler that answers from a script and records the requests."""

    def __init__(self, *answers: Callable[[httpx.Request], httpx.Response] | httpx.Response):
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers[min(len(self.requests), len(self.answers)) - 1]
        return answer(request) if callable(answer) else answer


def run(
    handler: Callable[[httpx.Request], httpx.Response],
    request: FetchRequest | None = None,
    policy: FetchPolicy | None = None,
) -> tuple[Page, list[float]]:
    sleeps: list[float] = []
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        page = fetch_page(
            client,
            request or FetchRequest(URL),
            policy or FetchPolicy(),
            clock,
            sleep=sleeps.append,
            rng=random.Random(7),
        )
    return page, sleeps


def html(body: str = "<p>ok</p>", status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, content=body.encode(), headers={"Content-Type": "text/html"})


def test_503_then_success_retries_with_backoff() -> None:
    handler = Recorder(httpx.Response(503), httpx.Response(503), html("<p>back</p>"))
    page, sleeps = run(handler)
    assert page.ok and page.body == b"<p>back</p>" and page.status == 200
    assert len(handler.requests) == 3
    assert len(sleeps) == 2
    assert 0.5 <= sleeps[0] <= 1.0  # backoff 0.5 plus jitter up to the same again
    assert 1.0 <= sleeps[1] <= 2.0  # doubled


def test_503_forever_gives_up_after_retries_with_the_status() -> None:
    handler = Recorder(httpx.Response(503))
    page, sleeps = run(handler, policy=FetchPolicy(retries=2))
    assert page.status == 503 and page.error is not None and "503" in page.error
    assert len(handler.requests) == 3 and len(sleeps) == 2
    assert not page.ok


def test_429_honours_retry_after_and_caps_it() -> None:
    handler = Recorder(httpx.Response(429, headers={"Retry-After": "7"}), html())
    page, sleeps = run(handler)
    assert page.ok and sleeps == [7.0]
    capped = Recorder(httpx.Response(429, headers={"Retry-After": "86400"}), html())
    page, sleeps = run(capped, policy=FetchPolicy(max_retry_after=30.0))
    assert page.ok and sleeps == [30.0]


def test_retry_after_as_http_date() -> None:
    assert parse_retry_after("Sun, 01 Mar 2026 12:00:20 GMT", NOW, 60.0) == 20.0
    assert parse_retry_after("garbage", NOW, 60.0) is None
    assert parse_retry_after(None, NOW, 60.0) is None


def test_timeout_is_retried_then_reported_with_status_0() -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    handler = Recorder(timeout)
    page, sleeps = run(handler, policy=FetchPolicy(retries=1))
    assert page.status == 0 and page.error is not None and "timeout" in page.error
    assert len(handler.requests) == 2 and len(sleeps) == 1


def test_connection_error_then_success() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    page, _ = run(Recorder(refuse, html("<p>up</p>")))
    assert page.ok and page.body == b"<p>up</p>"


def test_404_is_not_retried() -> None:
    handler = Recorder(httpx.Response(404, text="gone"))
    page, sleeps = run(handler)
    assert page.status == 404 and page.error is not None and "404" in page.error
    assert len(handler.requests) == 1 and sleeps == []


def test_truncated_body_is_a_failed_page() -> None:
    short = httpx.Response(200, headers={"Content-Length": "5000"}, content=b"<p>half")
    page, _ = run(Recorder(short), policy=FetchPolicy(retries=0))
    assert page.error is not None and "truncated" in page.error
    assert not page.ok


def test_over_the_size_limit_by_content_length() -> None:
    big = b"x" * (5 * 1024 * 1024 + 1)
    page, _ = run(Recorder(httpx.Response(200, content=big)))
    assert page.error is not None and "over the size limit" in page.error
    assert page.body == b""


def test_over_the_size_limit_while_streaming_without_length() -> None:
    def stream(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=iter([b"y" * 1000] * 20))

    handler = Recorder(stream)
    page, _ = run(handler, policy=FetchPolicy(max_bytes=5000))
    assert page.error is not None and "over the size limit" in page.error
    assert len(handler.requests) == 1  # not retried
    ok, _ = run(Recorder(stream), policy=FetchPolicy(max_bytes=20000))
    assert ok.ok and len(ok.body) == 20000


def test_conditional_get_sends_validators_and_returns_304() -> None:
    handler = Recorder(httpx.Response(304, headers={"ETag": '"v2"'}))
    request = FetchRequest(URL, etag='"v1"', last_modified="Sat, 28 Feb 2026 10:00:00 GMT")
    page, _ = run(handler, request=request)
    sent = handler.requests[0].headers
    assert sent["If-None-Match"] == '"v1"'
    assert sent["If-Modified-Since"] == "Sat, 28 Feb 2026 10:00:00 GMT"
    assert sent["User-Agent"].startswith("amendwatch/0.1")
    assert page.status == 304 and page.error is None and page.body == b""
    assert validators(page) == ('"v2"', None)


def test_validators_of_a_page() -> None:
    answer = httpx.Response(
        200, content=b"<p>x</p>", headers={"ETag": '"abc"', "Last-Modified": "Sun, 01 Mar 2026"}
    )
    page, _ = run(Recorder(answer))
    assert validators(page) == ('"abc"', "Sun, 01 Mar 2026")


def test_same_host_redirects_are_followed_and_recorded() -> None:
    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/old":
            return httpx.Response(301, headers={"Location": "/middle"})
        if request.url.path == "/middle":
            return httpx.Response(302, headers={"Location": "https://manual.example/new"})
        return html("<p>new</p>")

    page, _ = run(route, request=FetchRequest("https://manual.example/old"))
    assert page.ok and page.final_url == "https://manual.example/new"
    assert page.url == "https://manual.example/old"
    assert page.redirects == ("https://manual.example/old", "https://manual.example/middle")


def test_off_host_redirect_is_refused() -> None:
    handler = Recorder(httpx.Response(302, headers={"Location": "https://evil.example/x"}))
    page, sleeps = run(handler)
    assert page.error is not None and "another host" in page.error
    assert not page.ok and sleeps == [] and len(handler.requests) == 1


def test_redirect_to_an_allowed_host_is_followed() -> None:
    def route(request: httpx.Request) -> httpx.Response:
        if request.url.host == "manual.example":
            return httpx.Response(301, headers={"Location": "https://www.manual.example/p"})
        return html("<p>moved</p>")

    page, _ = run(route, policy=FetchPolicy(allowed_hosts=("www.manual.example",)))
    assert page.ok and page.final_url == "https://www.manual.example/p"


def test_redirect_loop_is_a_failed_page() -> None:
    def route(request: httpx.Request) -> httpx.Response:
        target = "/b" if request.url.path == "/a" else "/a"
        return httpx.Response(302, headers={"Location": target})

    handler = Recorder(route)
    page, _ = run(handler, request=FetchRequest("https://manual.example/a"))
    assert page.error is not None and "redirect loop" in page.error
    assert len(handler.requests) == 2


@pytest.mark.parametrize("url", ["ftp://manual.example/x", "file:///etc/passwd", "not a url", ""])
def test_refused_urls_raise_fetch_error(url: str) -> None:
    with pytest.raises(FetchError):
        run(Recorder(html()), request=FetchRequest(url))


def page_of(body: bytes, content_type: str | None) -> Page:
    headers = (("Content-Type", content_type),) if content_type else ()
    return Page(URL, URL, 200, headers, body, NOW)


def test_decode_body_uses_the_header_charset() -> None:
    body = "<p>Café – ‘quoted’</p>".encode("cp1252")
    assert decode_body(page_of(body, "text/html; charset=windows-1252")) == "<p>Café – ‘quoted’</p>"


def test_decode_body_header_says_utf8_but_body_is_latin1() -> None:
    body = "<p>Children’s café</p>".encode("cp1252")
    assert decode_body(page_of(body, "text/html; charset=utf-8")) == "<p>Children’s café</p>"


def test_decode_body_uses_meta_charset_without_a_header() -> None:
    body = '<meta charset="iso-8859-1"><p>naïve £5</p>'.encode("latin-1")
    assert decode_body(page_of(body, "text/html")).endswith("<p>naïve £5</p>")
    http_equiv = (
        '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252"><p>€</p>'
    ).encode("cp1252")
    assert decode_body(page_of(http_equiv, None)).endswith("<p>€</p>")


def test_decode_body_detects_utf8_then_falls_back_to_cp1252() -> None:
    assert decode_body(page_of("<p>Ōtautahi</p>".encode(), None)) == "<p>Ōtautahi</p>"
    assert decode_body(page_of(b"<p>\x93quoted\x94</p>", None)) == "<p>“quoted”</p>"
    assert (
        decode_body(page_of(b"\xef\xbb\xbf<p>bom</p>", "text/html; charset=cp1252")) == "<p>bom</p>"
    )


def test_policy_defaults() -> None:
    policy = FetchPolicy()
    assert policy.user_agent == f"amendwatch/{__version__} (+https://example.invalid/amendwatch)"
    assert (policy.connect_timeout, policy.read_timeout) == (5.0, 15.0)
    assert policy.max_bytes == 5 * 1024 * 1024
    assert (policy.per_host, policy.total, policy.retries, policy.backoff) == (2, 8, 3, 0.5)
    assert policy.respect_robots and policy.allowed_hosts == ()


def test_fetch_pages_spaces_requests_to_a_host_by_delay_and_reads_robots_once() -> None:
    seen: list[str] = []

    def route(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        if request.url.path == "/robots.txt":
            return httpx.Response(404)
        return html(f"<p>{request.url.path}</p>")

    sleeps: list[float] = []

    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    requests = [FetchRequest(f"https://manual.example/c{n}") for n in range(3)]
    pages = fetch_pages(
        requests, FetchPolicy(delay=0.5), clock, httpx.MockTransport(route), sleep=record
    )
    assert [p.body for p in pages] == [b"<p>/c0</p>", b"<p>/c1</p>", b"<p>/c2</p>"]
    assert seen.count("/robots.txt") == 1  # a missing robots.txt allows everything
    assert sorted(round(s, 1) for s in sleeps) == [0.5, 1.0]


def test_fetch_pages_robots_403_disallows_all() -> None:
    def route(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403) if request.url.path == "/robots.txt" else html()

    pages = fetch_pages([FetchRequest(URL)], FetchPolicy(), clock, httpx.MockTransport(route))
    assert pages[0].error == "disallowed by robots.txt"


def test_robots_rules_for_amendwatch_by_name() -> None:
    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/robots.txt":
            rules = "User-agent: amendwatch\nDisallow: /drafts/\n\nUser-agent: *\nDisallow: /\n"
            return httpx.Response(200, text=rules)
        return html()

    requests = [
        FetchRequest("https://manual.example/drafts/x"),
        FetchRequest("https://manual.example/chapters/y"),
    ]
    pages = fetch_pages(requests, FetchPolicy(), clock, httpx.MockTransport(route))
    assert pages[0].error == "disallowed by robots.txt"
    assert pages[1].ok


def test_fetch_pages_retries_503_and_429_with_injected_sleep() -> None:
    calls: dict[str, int] = {}

    def route(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        calls[path] = calls.get(path, 0) + 1
        if path == "/robots.txt":
            return httpx.Response(404)
        if path == "/busy" and calls[path] == 1:
            return httpx.Response(429, headers={"Retry-After": "3"})
        if path == "/flaky" and calls[path] < 3:
            return httpx.Response(503)
        return html(f"<p>{path}</p>")

    sleeps: list[float] = []

    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    requests = [
        FetchRequest("https://manual.example/flaky"),
        FetchRequest("https://manual.example/busy"),
    ]
    pages = fetch_pages(
        requests,
        FetchPolicy(),
        clock,
        httpx.MockTransport(route),
        sleep=record,
        rng=random.Random(1),
    )
    assert [p.body for p in pages] == [b"<p>/flaky</p>", b"<p>/busy</p>"]
    assert calls["/flaky"] == 3 and calls["/busy"] == 2
    assert 3.0 in sleeps and len(sleeps) == 3


def test_fetch_pages_refuses_bad_urls_before_fetching() -> None:
    seen: list[str] = []

    def route(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return html()

    with pytest.raises(FetchError):
        fetch_pages(
            [FetchRequest(URL), FetchRequest("javascript:alert(1)")],
            FetchPolicy(),
            clock,
            httpx.MockTransport(route),
        )
    assert seen == []


def test_malformed_redirect_location_is_a_failed_page() -> None:
    handler = Recorder(httpx.Response(302, headers={"Location": "https://manual.example:99999/x"}))
    page, _ = run(handler, policy=FetchPolicy(retries=0))
    assert not page.ok and page.error is not None
