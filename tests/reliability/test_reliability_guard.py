"""The address guard: only http(s), only the manual's own host (and allowed hosts), never
loopback or private addresses unless the manual itself lives on one. A refused fetch is a
failed ``Page`` whose error says why, never an exception."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import httpx
import pytest

from amendwatch.pipeline import site_policy
from scraper.fetch import FetchPolicy, FetchRequest, fetch_page, fetch_pages
from scraper.guard import Resolver, address_problem, guard_url, policy_for_site
from store.models import Manual
from tests.reliability.faultsite import FaultSite, chapter_path

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PUBLIC = "93.184.216.34"  # an address literal: no DNS is asked
PUBLIC_SITE = FetchPolicy(allow_private=False, site_host=PUBLIC, respect_robots=False)


def fake_dns(table: dict[str, list[str]]) -> Resolver:
    def resolve(host: str) -> list[str]:
        if host not in table:
            raise OSError(f"no such host {host}")
        return table[host]

    return resolve


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.org/x", "javascript:alert(1)", "data:,x"]
)
def test_only_http_and_https_are_fetched(url: str) -> None:
    assert (guard_url(url, FetchPolicy()) or "").startswith("refused: only http and https")


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.9",
        "192.168.1.1",
        "169.254.169.254",
        "0.0.0.0",
        "224.0.0.1",
        "[::1]",
        "[fe80::1]",
        "[::ffff:127.0.0.1]",
        "[fd00::5]",
    ],
)
def test_internal_addresses_are_refused_for_a_public_site(host: str) -> None:
    policy = replace(PUBLIC_SITE, site_host=None)
    problem = guard_url(f"http://{host}/chapter.html", policy)
    assert problem is not None and "loopback or private" in problem
    assert guard_url(f"http://{host}/chapter.html", FetchPolicy()) is None  # today's default


def test_a_name_is_judged_by_every_address_it_resolves_to() -> None:
    dns = fake_dns({"good.example": [PUBLIC], "sneaky.example": [PUBLIC, "10.0.0.7"]})
    assert address_problem("good.example", dns) is None
    assert "10.0.0.7" in (address_problem("sneaky.example", dns) or "")
    assert "cannot resolve" in (address_problem("nowhere.example", dns) or "")


def test_other_hosts_are_refused_unless_allowed() -> None:
    policy = replace(PUBLIC_SITE, allowed_hosts=("8.8.4.4",))
    assert guard_url(f"https://{PUBLIC}/a.html", policy) is None
    assert guard_url("https://8.8.4.4/a.html", policy) is None
    assert "not the manual's own host" in (guard_url("https://1.1.1.1/a.html", policy) or "")


def test_policy_for_site_binds_the_host_and_allows_private_only_for_a_private_site() -> None:
    dns = fake_dns({"manual.example": [PUBLIC], "intranet.example": ["10.2.3.4"]})
    public = policy_for_site(FetchPolicy(), "https://manual.example/contents", dns)
    assert (public.site_host, public.allow_private) == ("manual.example", False)
    private = policy_for_site(FetchPolicy(), "http://intranet.example/", dns)
    assert (private.site_host, private.allow_private) == ("intranet.example", True)
    loop = policy_for_site(FetchPolicy(retries=7), "http://127.0.0.1:8000/")
    assert (loop.site_host, loop.allow_private, loop.retries) == ("127.0.0.1", True, 7)


def test_a_refused_fetch_is_a_failed_page_and_nothing_is_sent() -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, text="secret")

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        page = fetch_page(
            client,
            FetchRequest("http://169.254.169.254/latest/"),
            replace(PUBLIC_SITE, allowed_hosts=("169.254.169.254",)),
            lambda: NOW,
        )
    assert sent == []
    assert page.status == 0 and page.body == b"" and not page.ok
    assert page.error is not None and "loopback or private" in page.error


@pytest.mark.parametrize(
    ("location", "refused"),
    [
        (f"http://{PUBLIC}/moved.html", None),
        ("http://10.0.0.5/admin", "loopback or private"),
        ("http://127.0.0.1:8080/", "loopback or private"),
        ("http://1.1.1.1/elsewhere", "another host"),
        ("file:///etc/passwd", "non-http"),
    ],
)
def test_redirects_are_guarded_hop_by_hop(location: str, refused: str | None) -> None:
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(str(request.url))
        if request.url.path == "/start.html":
            return httpx.Response(302, headers={"Location": location})
        return httpx.Response(200, text="<main><h1>Moved</h1></main>")

    policy = replace(PUBLIC_SITE, allowed_hosts=("10.0.0.5", "127.0.0.1:8080"))
    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        page = fetch_page(client, FetchRequest(f"http://{PUBLIC}/start.html"), policy, lambda: NOW)
    if refused is None:
        assert page.ok and sent == [f"http://{PUBLIC}/start.html", location]
    else:
        assert not page.ok and refused in (page.error or "")
        assert sent == [f"http://{PUBLIC}/start.html"]


def test_a_loopback_manual_is_fetched_and_a_public_policy_refuses_it() -> None:
    with FaultSite() as site:
        url = site.url(chapter_path(1))
        bound = policy_for_site(FetchPolicy(), site.base_url + "/")
        (ok,) = fetch_pages([FetchRequest(url)], bound, lambda: NOW)
        refused_policy = replace(bound, allow_private=False)
        (refused,) = fetch_pages([FetchRequest(url)], refused_policy, lambda: NOW)
        hits = sum(site.hits.values())
    assert ok.ok and b"case type 1" in ok.body
    assert refused.status == 0 and "loopback or private" in (refused.error or "")
    assert hits == 1  # the refused fetch never reached the server


def test_the_pipeline_binds_each_manual_to_its_own_hosts() -> None:
    """The pipeline fetches with ``site_policy``: the manual's host, the hosts it allows and
    its Amendments page's host; internal addresses only for a manual that lives on one."""
    public = FetchPolicy(allow_private=False)
    loopback = Manual(1, "m", "http://127.0.0.1:8080/", None, None)
    bound = site_policy(public, loopback)
    assert bound.site_host == "127.0.0.1" and bound.allow_private
    elsewhere = Manual(
        2,
        "p",
        f"http://{PUBLIC}/contents.html",
        "http://news.example.org/amendments.html",
        None,
        allowed_hosts=("docs.example.org",),
    )
    bound = site_policy(public, elsewhere)
    assert bound.site_host == PUBLIC and not bound.allow_private
    assert set(bound.allowed_hosts) == {"news.example.org", "docs.example.org"}
