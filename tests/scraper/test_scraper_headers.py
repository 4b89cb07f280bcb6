"""The manual's extra headers, cookies and User-Agent reach its own site (what the loopback
server received), never another origin a redirect leads to; ``site_policy`` fills them from
the manual."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from amendwatch.config import Settings
from amendwatch.contentscheck import probe_contents
from amendwatch.errors import FetchError
from amendwatch.runcontext import site_policy
from scraper.fetch import FetchPolicy, FetchRequest
from scraper.guard import allow_entry, policy_for_site, sends_extras
from scraper.session import FetchSession
from store.models import Manual
from tests.proxyserver import RecordingSite

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)
AGENT = "CouncilWatch/2.0 (+mailto:web@council.example)"
EXTRAS = FetchPolicy(
    headers=(("X-Org-Token", "t0k"), ("Accept", "text/html"), ("Accept-Encoding", "br")),
    cookies=(("session", "s1"), ("consent", "yes")),
    user_agent=AGENT,
    respect_robots=True,
)


def clock() -> datetime:
    return NOW


@pytest.fixture
def site() -> Iterator[RecordingSite]:
    with RecordingSite() as running:
        yield running


@pytest.fixture
def other() -> Iterator[RecordingSite]:
    with RecordingSite() as running:
        yield running


def test_headers_cookies_and_user_agent_reach_the_site(site: RecordingSite) -> None:
    site.page("/c.html", "<main><p>c</p></main>")
    policy = policy_for_site(EXTRAS, site.base_url + "/contents.html")
    with FetchSession(policy, clock) as session:
        (page,) = session.fetch([FetchRequest(site.base_url + "/c.html")])
    assert page.ok
    for seen in (site.requests_for("/c.html")[0], site.requests_for("/robots.txt")[0]):
        assert seen.header("X-Org-Token") == "t0k"
        assert seen.header("Cookie") == "session=s1; consent=yes"
        assert seen.header("User-Agent") == AGENT
        assert seen.header("Accept") == "text/html"  # an extra header may replace Accept
        assert "gzip" in (seen.header("Accept-Encoding") or "")  # but not what is decoded


def test_a_redirect_to_another_origin_carries_none_of_them(
    site: RecordingSite, other: RecordingSite
) -> None:
    site.redirect("/start.html", other.base_url + "/moved.html")
    other.page("/moved.html", "<main><p>moved</p></main>")
    other.page("/direct.html", "<main><p>direct</p></main>")
    bound = policy_for_site(EXTRAS, site.base_url + "/")
    policy = replace(bound, allowed_hosts=(allow_entry(other.base_url),))
    with FetchSession(policy, clock) as session:
        moved, direct = session.fetch(
            [
                FetchRequest(site.base_url + "/start.html"),
                FetchRequest(other.base_url + "/direct.html"),
            ]
        )
    assert moved.ok and moved.final_url == other.base_url + "/moved.html"
    assert site.requests_for("/start.html")[0].header("Cookie") == "session=s1; consent=yes"
    (hop,) = other.requests_for("/moved.html")
    assert hop.header("Cookie") is None and hop.header("X-Org-Token") is None
    assert hop.header("User-Agent") == AGENT  # the User-Agent is no secret
    assert direct.ok  # asked for on an allowed host: the extras go with it
    assert other.requests_for("/direct.html")[0].header("X-Org-Token") == "t0k"


def test_extras_go_only_to_the_origin_asked_for() -> None:
    bound = policy_for_site(EXTRAS, "http://manual.example/")
    policy = replace(bound, allowed_hosts=("cdn.example",))
    start = "http://manual.example/a"
    assert sends_extras(start, start, policy)
    assert sends_extras("https://manual.example/a", start, policy)  # the upgrade
    assert not sends_extras("http://cdn.example/a", start, policy)  # allowed, but a redirect
    assert not sends_extras("http://manual.example:8080/a", start, policy)
    assert sends_extras("http://cdn.example/a", "http://cdn.example/a", policy)
    assert not sends_extras("http://else.example/a", "http://else.example/a", policy)


def test_cookies_the_site_sets_are_kept_beside_the_manuals(site: RecordingSite) -> None:
    site.pages["/first.html"] = (200, "text/html", b"<p>1</p>", (("Set-Cookie", "lb=7; Path=/"),))
    site.page("/second.html", "<p>2</p>")
    policy = policy_for_site(replace(EXTRAS, respect_robots=False), site.base_url + "/")
    with FetchSession(policy, clock) as session:
        session.fetch([FetchRequest(site.base_url + "/first.html")])
        session.fetch([FetchRequest(site.base_url + "/second.html")])
    assert site.requests_for("/second.html")[0].header("Cookie") == "session=s1; consent=yes; lb=7"


def test_a_cookie_that_would_break_the_header_is_refused_without_its_value() -> None:
    policy = FetchPolicy(cookies=(("session", "abc\r\nX-Evil: 1"),))
    with pytest.raises(FetchError) as refused, FetchSession(policy, clock):
        pass
    assert "session" in str(refused.value) and "abc" not in str(refused.value)


def test_site_policy_takes_the_manuals_headers_user_agent_and_cookies() -> None:
    manual = Manual(
        1,
        "m",
        "http://manual.example/contents.html",
        None,
        None,
        headers=(("x-org", "manual"), ("X-Team", "child-protection")),
        cookies=(("session", "env:MANUAL_SESSION"),),
        user_agent=AGENT,
    )
    base = FetchPolicy(headers=(("X-Org", "global"), ("X-Keep", "1")), cookies=(("a", "b"),))
    asked: list[tuple[tuple[str, str], ...]] = []

    def values(sources: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
        asked.append(sources)
        return (("session", "from-env"),)

    policy = site_policy(base, manual, values)
    assert asked == [(("session", "env:MANUAL_SESSION"),)]
    assert policy.headers == (("X-Keep", "1"), ("x-org", "manual"), ("X-Team", "child-protection"))
    assert policy.cookies == (("a", "b"), ("session", "from-env"))
    assert policy.user_agent == AGENT
    assert site_policy(base, manual).cookies == (("a", "b"),)  # the default resolves nothing
    plain = replace(manual, user_agent=None)
    assert site_policy(base, plain).user_agent == base.user_agent


def test_manual_add_probes_the_contents_page_with_them(site: RecordingSite, tmp_path: Path) -> None:
    site.page(
        "/contents.html", '<main><ul><li><a href="/ch/a.html">Agency roles</a></li></ul></main>'
    )
    manual = Manual(
        1,
        "m",
        site.base_url + "/contents.html",
        None,
        None,
        headers=(("X-Org-Token", "t0k"),),
        cookies=(("session", "env:S"),),
    )
    found = probe_contents(
        Settings(db_path=tmp_path / "x.db"),
        manual,
        cookie_values=lambda sources: (("session", "s1"),),
    )
    assert found == 1
    seen = site.requests_for("/contents.html")[0]
    assert (seen.header("X-Org-Token"), seen.header("Cookie")) == ("t0k", "session=s1")
