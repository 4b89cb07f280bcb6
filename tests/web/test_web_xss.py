"""Hostile chapter content stays inert: a manual whose titles, section titles, text and links
carry script payloads is snapshotted from loopback through the CLI, and every page that shows
it escapes it (no script element, event handler or javascript: link comes through)."""

from __future__ import annotations

import html
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
from bs4 import BeautifulSoup

from tests.loopback import LoopbackServer, QuietHandler
from tests.web.conftest import Clock, build_users, logged_in, make_client, run

PAYLOAD = (
    "<script>document.title='PWNED'</script><img src=x onerror=\"document.title='PWNED'\">"
    '"><svg onload=alert(1)>'
)
TEXT = html.escape(PAYLOAD)


def _chapter(words: str) -> str:
    return (
        "<html><head><title>x</title></head><body><main>"
        f"<h1>Conferences {TEXT}</h1>"
        f"<h2>1. Scope {TEXT}</h2><p>This chapter covers {TEXT} conferences. {words}</p>"
        "<p><a href=\"javascript:document.title='PWNED'\">a hostile link</a> and "
        f'<a href="https://example.test/ok">{TEXT}</a></p>'
        "<h2>2. Timescales</h2><p>Reports are shared three days before.</p>"
        "</main></body></html>"
    )


class Hostile(QuietHandler):
    pages: ClassVar[dict[str, str]] = {}

    def get(self) -> None:
        body = self.pages.get(self.path)
        if body is None:
            self.answer(404, b"not found")
        else:
            self.answer(200, body.encode())


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("hostile") / "aw.db"
    Hostile.pages = {
        "/": "<html><body><main><h1>Procedures</h1><ul>"
        f'<li><a href="/chapters/one.html">1. Chapter {TEXT}</a></li>'
        '<li><a href="/chapters/two.html">2. Second</a></li></ul></main></body></html>',
        "/chapters/one.html": _chapter("It must be held within 15 working days."),
        "/chapters/two.html": _chapter("Nothing else."),
    }
    with LoopbackServer(Hostile) as server:
        added = run(path, "manual", "add", f"hostile {PAYLOAD}", f"{server.base_url}/")
        assert added.exit_code == 0, added.output
        assert run(path, "snapshot", "--at", "2026-11-02T09:00:00+00:00").exit_code == 0
        Hostile.pages["/chapters/one.html"] = _chapter(
            f"It must be held within 10 working days {TEXT}."
        )
        assert run(path, "snapshot", "--at", "2026-11-16T09:00:00+00:00").exit_code == 0
    assert run(path, "draft", "--period", "2026-11", "--format", "json").exit_code == 0
    build_users(path)
    yield path


PAGES = (
    "/", "/changes", "/changes/1", "/chapters", "/chapters/1", "/chapters/1?as_of=2026-11-10",
    "/chapters/1/compare", "/search?q=conferences", "/search?q=script+title", "/runs",
    "/drafts?period=2026-11", "/drafts/1", "/reports/latest.html", "/admin/manuals",
)  # fmt: skip


def _inert(page: str, path: str) -> None:
    soup = BeautifulSoup(page, "lxml")
    scripts = [s.get("src") for s in soup.find_all("script")]
    assert scripts in ([], ["/static/app.js"]), path
    assert not soup.find_all(["img", "iframe", "object", "embed"]), path  # svg: the chart
    for element in soup.find_all(True):
        handlers = [name for name in element.attrs if name.lower().startswith("on")]
        assert not handlers, (path, element.name, handlers)
        href = str(element.get("href") or "")
        assert not href.strip().lower().startswith(("javascript:", "data:")), (path, href)
    assert "<script>document" not in page and 'onerror="' not in page, path


def test_hostile_content_is_escaped_on_every_page(hostile_db: Path) -> None:
    with make_client(hostile_db, Clock()) as client:
        logged_in(client, "admin")
        shown = 0
        for path in PAGES:
            answer = client.get(path)
            assert answer.status_code == 200, (path, answer.text[:300])
            _inert(answer.text, path)
            shown += "&lt;script&gt;" in answer.text
        assert shown >= 8  # the payload was there to escape, on most pages
        feeds = BeautifulSoup(client.get("/feeds").text, "lxml")
        (link,) = [a["href"] for a in feeds.find_all("a") if a["href"].startswith("/feeds/")]
        feed = client.get(link)
        assert feed.status_code == 200 and "<script>" not in feed.text
        assert ET.fromstring(feed.content).find(".//{http://www.w3.org/2005/Atom}script") is None
