"""Fetching through a forward proxy (a real one on loopback, tests/proxyserver.py): requests
go through it, the target is never resolved here, the guard still holds (a refused target
never reaches the proxy), ``no_proxy`` hosts go direct, and the environment is never read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from scraper.fetch import FetchPolicy, FetchRequest
from scraper.guard import bypasses_proxy, guard_url, policy_for_site, proxied
from scraper.models import Page
from scraper.session import FetchSession
from tests.proxyserver import ForwardProxy, RecordingSite

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
MANUAL = "http://manual.test/contents.html"


def clock() -> datetime:
    return NOW


class NoDNS:
    """A resolver that answers nothing and remembers what it was asked."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __call__(self, host: str) -> list[str]:
        self.asked.append(host)
        raise OSError(f"no local DNS on this network ({host})")


@pytest.fixture
def site() -> Iterator[RecordingSite]:
    with RecordingSite() as running:
        running.page("/contents.html", "<main><p>contents</p></main>")
        yield running


def through(
    proxy: ForwardProxy, urls: list[str], site_url: str, base: FetchPolicy | None = None
) -> list[Page]:
    """Fetch ``urls`` with ``base`` bound to ``site_url`` behind ``proxy``; no local DNS."""
    dns = NoDNS()
    policy = policy_for_site(
        replace(base or FetchPolicy(), proxy=proxy.url, retries=0), site_url, dns
    )
    with FetchSession(policy, clock, resolve=dns) as session:
        pages = session.fetch([FetchRequest(url) for url in urls])
    assert dns.asked == []  # never resolved here
    return pages


def test_fetches_go_through_the_proxy_without_local_dns(site: RecordingSite) -> None:
    routes = {"manual.test:80": ("127.0.0.1", site.port)}
    with ForwardProxy(routes) as proxy:
        (page,) = through(proxy, [MANUAL], MANUAL, FetchPolicy(headers=(("X-Org-Token", "t0k"),)))
        log = proxy.log
    assert page.ok and b"contents" in page.body
    assert [entry.line for entry in log] == [
        "GET http://manual.test/robots.txt HTTP/1.1",
        MANUAL.join(["GET ", " HTTP/1.1"]),
    ]
    assert {entry.host for entry in log} == {"manual.test"}
    seen = site.requests_for("/contents.html")[0]
    assert seen.header("Host") == "manual.test" and seen.header("X-Org-Token") == "t0k"


def test_an_https_target_is_tunnelled_with_connect(site: RecordingSite) -> None:
    routes = {"manual.test:443": ("127.0.0.1", site.port)}  # a plain server: TLS fails
    with ForwardProxy(routes) as proxy:
        (page,) = through(proxy, ["https://manual.test/contents.html"], "https://manual.test/")
        lines = proxy.lines()
    assert lines and set(lines) == {"CONNECT manual.test:443 HTTP/1.1"}
    assert not page.ok and (page.error or "").startswith("transport error")
    assert site.requests_for("/contents.html") == []  # nothing went over the tunnel in clear


def test_hosts_outside_the_manual_never_reach_the_proxy(site: RecordingSite) -> None:
    urls = ["http://elsewhere.test/x.html", "http://10.0.0.7/x.html", "http://[::1]/x.html"]
    with ForwardProxy() as proxy:
        pages = through(proxy, urls, MANUAL, FetchPolicy(allowed_hosts=("10.0.0.7", "[::1]")))
        lines = proxy.lines()
    assert "elsewhere.test is not the manual's own host" in (pages[0].error or "")
    assert all("loopback or private" in (p.error or "") for p in pages[1:]), pages
    assert lines == []


def test_an_allowed_host_name_is_fetched_through_the_proxy_unresolved(site: RecordingSite) -> None:
    site.page("/a.html", "<main><p>a</p></main>")
    routes = {"docs.test:80": ("127.0.0.1", site.port)}
    with ForwardProxy(routes) as proxy:
        (page,) = through(
            proxy, ["http://docs.test/a.html"], MANUAL, FetchPolicy(allowed_hosts=("docs.test",))
        )
    assert page.ok and b"<p>a</p>" in page.body


def test_no_proxy_hosts_go_direct(site: RecordingSite) -> None:
    url = site.base_url + "/contents.html"
    with ForwardProxy({f"127.0.0.1:{site.port}": ("127.0.0.1", site.port)}) as proxy:
        (direct,) = through(proxy, [url], url, FetchPolicy(no_proxy=("localhost", "127.0.0.1")))
        assert proxy.lines() == []
        (proxied_page,) = through(proxy, [url], url)  # the same site without no_proxy
        lines = proxy.lines()
    assert direct.ok and proxied_page.ok
    assert f"GET {url} HTTP/1.1" in lines
    assert len(site.requests_for("/contents.html")) == 2


def test_a_proxy_that_refuses_is_a_failed_page(site: RecordingSite) -> None:
    with ForwardProxy(refuse={"manual.test"}) as proxy:
        (plain,) = through(proxy, [MANUAL], MANUAL, FetchPolicy(respect_robots=False))
        (tunnel,) = through(proxy, ["https://manual.test/c.html"], "https://manual.test/")
    assert plain.status == 403 and plain.error == "HTTP 403 Forbidden"
    assert tunnel.status == 0 and (tunnel.error or "").startswith("proxy error: 403")


def test_proxy_variables_in_the_environment_are_ignored(
    site: RecordingSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ForwardProxy() as proxy:
        for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.setenv(name, proxy.url)
        monkeypatch.setenv("NO_PROXY", "")
        with FetchSession(FetchPolicy(), clock) as session:
            (page,) = session.fetch([FetchRequest(site.base_url + "/contents.html")])
        assert proxy.lines() == []
    assert page.ok


@pytest.mark.parametrize(
    ("entry", "host", "port", "bypass"),
    [
        ("*", "anything.example", 443, True),
        ("intranet.example", "intranet.example", 80, True),
        ("intranet.example", "wiki.intranet.example", 443, True),
        ("intranet.example", "notintranet.example", 443, False),
        (".corp.example", "corp.example", 80, True),
        (".corp.example", "a.corp.example", 80, True),
        ("docs.example:8080", "docs.example", 8080, True),
        ("docs.example:8080", "docs.example", 80, False),
        ("10.0.0.0/8", "10.2.3.4", 80, True),
        ("10.0.0.0/8", "11.2.3.4", 80, False),
        ("10.0.0.0/8", "ten.example", 80, False),
        ("[::1]", "::1", 80, True),
    ],
)
def test_no_proxy_entries(entry: str, host: str, port: int, bypass: bool) -> None:
    assert bypasses_proxy(entry, host, port) is bypass


def test_the_guard_never_resolves_a_proxied_name() -> None:
    dns = NoDNS()
    policy = policy_for_site(FetchPolicy(proxy="http://proxy.corp:3128"), MANUAL, dns)
    assert not policy.allow_private and proxied(MANUAL, policy)
    assert guard_url(MANUAL, policy, dns) is None
    direct = replace(policy, no_proxy=("manual.test",))
    assert not proxied(MANUAL, direct)
    assert "cannot resolve" in (guard_url(MANUAL, direct, dns) or "")  # direct: resolved here
    assert dns.asked == ["manual.test"]
    unbound = FetchPolicy(proxy="http://proxy.corp:3128", allow_private=False)  # no manual
    assert "not one of the manual's hosts" in (guard_url(MANUAL, unbound, dns) or "")
    assert guard_url(MANUAL, replace(unbound, allowed_hosts=("manual.test",)), dns) is None
    assert guard_url("http://93.184.216.34/a", unbound, dns) is None  # a public IP literal
    assert dns.asked == ["manual.test"]  # still only the direct one
