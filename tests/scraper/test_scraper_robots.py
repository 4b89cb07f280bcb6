"""robots.txt read as RFC 9309 says (through Protego), on a real loopback server: the longest
rule wins, ``*`` and ``$`` wildcards, the ``amendwatch`` group before ``*``, Crawl-delay."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from scraper.fetch import FetchPolicy, FetchRequest, fetch_pages
from scraper.models import Page
from scraper.robots import MAX_CRAWL_DELAY, robot_name, robots_rules
from tests.proxyserver import RecordingSite

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
DISALLOWED = "disallowed by robots.txt"


def clock() -> datetime:
    return NOW


@pytest.fixture
def site() -> Iterator[RecordingSite]:
    with RecordingSite() as running:
        yield running


def fetch(site: RecordingSite, robots: str, paths: list[str]) -> list[Page]:
    site.page("/robots.txt", robots, "text/plain")
    for path in paths:
        site.page(path, f"<main><p>{path}</p></main>")
    requests = [FetchRequest(site.base_url + path) for path in paths]
    return fetch_pages(requests, FetchPolicy(), clock)


def test_a_longer_allow_beats_a_shorter_disallow(site: RecordingSite) -> None:
    robots = "User-agent: *\nDisallow: /manual/\nAllow: /manual/chapters/\n"
    paths = ["/manual/chapters/a.html", "/manual/contents.html", "/manual/chapters"]
    chapter, contents, bare = fetch(site, robots, paths)
    assert chapter.ok and b"/manual/chapters/a.html" in chapter.body
    assert contents.error == DISALLOWED and bare.error == DISALLOWED  # "/chapters" != "/chapters/"
    assert site.paths() == ["/robots.txt", "/manual/chapters/a.html"]  # nothing else was asked


def test_wildcards_refuse_what_they_say_and_no_more(site: RecordingSite) -> None:
    robots = "User-agent: *\nDisallow: /*?print=\nDisallow: /*.pdf$\n"
    refused = ["/c/intro.html?print=1", "/guide.pdf", "/a/b/form.pdf"]
    allowed = ["/c/intro.html", "/c/intro.html?page=2", "/guide.pdf?v=2", "/pdf-guide.html"]
    pages = fetch(site, robots, refused + allowed)
    assert [p.error for p in pages[: len(refused)]] == [DISALLOWED] * len(refused)
    assert all(p.ok for p in pages[len(refused) :]), [p.error for p in pages]
    assert sorted(site.paths()) == sorted(["/robots.txt", *allowed])


def test_the_amendwatch_group_beats_the_star_group(site: RecordingSite) -> None:
    robots = (
        "User-agent: *\nDisallow: /\n\n"
        "User-agent: amendwatch\nAllow: /\nDisallow: /drafts/\n\n"
        "User-agent: example\nDisallow: /\n"  # in the default User-Agent's URL, not its product
    )
    chapter, draft = fetch(site, robots, ["/chapters/a.html", "/drafts/b.html"])
    assert chapter.ok and draft.error == DISALLOWED


def test_a_user_agent_names_its_products_only() -> None:
    assert robot_name(FetchPolicy().user_agent) == "amendwatch"
    assert robot_name("Mozilla/5.0 (compatible; amendwatch/1.0; +https://x.org/bot)") == (
        "mozilla amendwatch"
    )
    assert robot_name("CouncilWatch") == "councilwatch"


def test_crawl_delay_spaces_requests_to_the_host(site: RecordingSite) -> None:
    robots = "User-agent: *\nCrawl-delay: 0.3\n"
    paths = ["/c1.html", "/c2.html", "/c3.html"]
    started = time.monotonic()
    pages = fetch(site, robots, paths)
    assert all(p.ok for p in pages)
    arrivals = sorted(seen.at for seen in site.seen if seen.path != "/robots.txt")
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    assert len(gaps) == 2 and min(gaps) >= 0.29, gaps  # 10 ms of timer slack
    assert time.monotonic() - started < 3


def test_the_larger_of_crawl_delay_and_the_policy_delay_wins_and_is_capped() -> None:
    def delay(robots: str, policy_delay: float) -> float:
        rules = robots_rules("http://h/robots.txt", 200, None, robots.encode())
        assert rules is not None
        return max(policy_delay, rules.crawl_delay(FetchPolicy().user_agent))

    assert delay("User-agent: *\nCrawl-delay: 2\n", 0.5) == 2.0
    assert delay("User-agent: *\nCrawl-delay: 2\n", 5.0) == 5.0
    assert delay("User-agent: *\nCrawl-delay: 86400\n", 0.0) == MAX_CRAWL_DELAY
    assert (
        delay("User-agent: amendwatch\nCrawl-delay: 1\n\nUser-agent: *\nCrawl-delay: 9\n", 0) == 1
    )


@pytest.mark.parametrize(
    ("status", "allowed"), [(404, True), (410, True), (500, True), (401, False), (403, False)]
)
def test_what_a_robots_txt_status_means(site: RecordingSite, status: int, allowed: bool) -> None:
    site.pages["/robots.txt"] = (status, "text/plain", b"User-agent: *\nDisallow: /\n", ())
    site.page("/c.html", "<main><p>c</p></main>")
    (page,) = fetch_pages([FetchRequest(site.base_url + "/c.html")], FetchPolicy(), clock)
    assert page.ok is allowed
    assert page.error == (None if allowed else DISALLOWED)
