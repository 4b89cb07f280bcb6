"""The demo server over loopback: furniture, validators, editions and 404s."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest
from bs4 import BeautifulSoup

from amendwatch.demo import SITE_DIR, DemoServer
from amendwatch.errors import InputError

ICPC = "/chapters/initial-child-protection-conferences.html"
PREFACE = "/chapters/preface-and-introduction.html"
REMOVED = "/chapters/visiting-psychiatric-patients.html"
NEW = "/chapters/harmful-sexual-behaviour.html"
RENAMED = "/chapters/dangerous-dogs.html"


@pytest.fixture(scope="module")
def server() -> Iterator[DemoServer]:
    with DemoServer() as demo:
        yield demo


@pytest.fixture
def client(server: DemoServer) -> Iterator[httpx.Client]:
    server.set_edition(1)
    with httpx.Client(base_url=server.base_url, timeout=5) as http:
        yield http


def main_text(body: str) -> str:
    main = BeautifulSoup(body, "lxml").select_one("main")
    assert main is not None
    return main.get_text(" ", strip=True)


def chapter_links(body: str) -> list[str]:
    soup = BeautifulSoup(body, "lxml").select_one("main")
    assert soup is not None
    return [str(a["href"]) for a in soup.select("a[href^='/chapters/']")]


def h1_text(body: str) -> str:
    h1 = BeautifulSoup(body, "lxml").select_one("main h1")
    assert h1 is not None
    return h1.get_text(strip=True)


def test_contents_lists_at_least_nine_chapters(client: httpx.Client) -> None:
    for path in ("/", "/contents.html"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        links = chapter_links(response.text)
        assert len(set(links)) >= 9
        assert "/amendments.html" in response.text


def test_every_listed_chapter_is_served_with_its_contents_title(client: httpx.Client) -> None:
    soup = BeautifulSoup(client.get("/").text, "lxml")
    for link in soup.select("main a[href^='/chapters/']"):
        number, title = link.get_text(strip=True).split(" ", 1)
        assert re.fullmatch(r"\d+\.\d+", number)
        chapter = client.get(str(link["href"]))
        assert chapter.status_code == 200
        assert h1_text(chapter.text) == title


def test_raw_bytes_change_but_main_content_does_not(client: httpx.Client) -> None:
    first, second = client.get(ICPC), client.get(ICPC)
    assert first.content != second.content
    assert main_text(first.text) == main_text(second.text)
    assert "This page was last updated" in first.text
    assert first.headers["etag"] == second.headers["etag"]


def test_static_furniture_gives_stable_bytes() -> None:
    with DemoServer(dynamic=False) as demo, httpx.Client(base_url=demo.base_url) as http:
        first, second = http.get(ICPC), http.get(ICPC)
    assert first.status_code == 200
    assert first.content == second.content
    assert "last updated" not in first.text


def test_furniture_uses_the_injected_clock() -> None:
    fixed = datetime(2026, 11, 9, 10, 30, tzinfo=UTC)
    with DemoServer(clock=lambda: fixed) as demo, httpx.Client(base_url=demo.base_url) as http:
        body = http.get(PREFACE).text
    assert "This page was last updated 09 November 2026 10:30:00" in body


def test_furniture_is_outside_main_and_contents_list_follows_headings(
    client: httpx.Client,
) -> None:
    soup = BeautifulSoup(client.get(ICPC).text, "lxml")
    main = soup.select_one("main")
    assert main is not None
    for furniture in (".cookie-banner", ".site-search", ".breadcrumbs", ".site-footer"):
        assert soup.select_one(furniture) is not None
        assert main.select_one(furniture) is None
    token = soup.select_one("input[type=hidden]")
    assert token is not None and token["value"]
    anchors = [str(a["href"]) for a in soup.select(".page-contents a")]
    headings = ["#" + str(h["id"]) for h in main.select("h2")]
    assert anchors == headings
    assert soup.select(".related-chapters a")


def test_if_none_match_answers_304(client: httpx.Client) -> None:
    first = client.get(ICPC)
    etag = first.headers["etag"]
    again = client.get(ICPC, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other = client.get(ICPC, headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200


def test_if_modified_since_answers_304_until_the_file_changes(
    server: DemoServer, client: httpx.Client
) -> None:
    modified = client.get(ICPC).headers["last-modified"]
    assert client.get(ICPC, headers={"If-Modified-Since": modified}).status_code == 304
    server.set_edition(2)
    assert client.get(ICPC, headers={"If-Modified-Since": modified}).status_code == 200
    assert client.get(PREFACE, headers={"If-Modified-Since": modified}).status_code == 304


def test_without_validators_there_is_no_etag_and_no_304() -> None:
    with DemoServer(validators=False) as demo, httpx.Client(base_url=demo.base_url) as http:
        response = http.get(ICPC, headers={"If-None-Match": "*"})
    assert response.status_code == 200
    assert "etag" not in response.headers
    assert "last-modified" not in response.headers


def test_edition_two_changes_the_expected_chapter_only(
    server: DemoServer, client: httpx.Client
) -> None:
    before = {path: client.get(path) for path in (ICPC, PREFACE)}
    server.set_edition(2)
    after = {path: client.get(path) for path in (ICPC, PREFACE)}
    assert after[ICPC].headers["etag"] != before[ICPC].headers["etag"]
    assert "within 15 working days" in before[ICPC].text
    assert "within 10 working days of the strategy discussion" in after[ICPC].text
    titles = [h.get_text(strip=True) for h in BeautifulSoup(after[ICPC].text, "lxml").select("h2")]
    assert "5. Pre-birth Conferences" in titles
    assert "6. Who Should Attend" in titles
    assert after[PREFACE].headers["etag"] == before[PREFACE].headers["etag"]
    assert main_text(after[PREFACE].text) == main_text(before[PREFACE].text)


def test_edition_three_removes_adds_and_renames(server: DemoServer, client: httpx.Client) -> None:
    assert client.get(REMOVED).status_code == 200
    assert client.get(NEW).status_code == 404
    old_title = h1_text(client.get(RENAMED).text)
    server.set_edition(3)
    assert client.get(REMOVED).status_code == 404
    assert client.get(NEW).status_code == 200
    contents = chapter_links(client.get("/").text)
    assert NEW in contents
    assert REMOVED not in contents
    renamed = client.get(RENAMED).text
    assert h1_text(renamed) != old_title
    assert h1_text(renamed) in client.get("/").text


def test_unknown_paths_answer_404(client: httpx.Client) -> None:
    for path in ("/nope.html", "/chapters/nope.html", "/template.html", "/chapters/../x", "/a/b"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "Page not found" in response.text


def test_robots_allows_everything(client: httpx.Client) -> None:
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert "Allow: /" in response.text


def test_requests_are_not_logged(client: httpx.Client, capfd: pytest.CaptureFixture[str]) -> None:
    client.get(ICPC)
    client.get("/missing")
    assert capfd.readouterr().err == ""


def test_editions_and_bad_edition_numbers() -> None:
    demo = DemoServer(SITE_DIR)
    assert demo.editions == 3
    with pytest.raises(InputError):
        demo.set_edition(demo.editions + 1)
    with pytest.raises(InputError):
        DemoServer(edition=0)
    with pytest.raises(InputError):
        _ = demo.base_url
    demo.start()
    assert demo.base_url.startswith("http://127.0.0.1:")
    demo.stop()
    with pytest.raises(InputError):
        _ = demo.base_url
