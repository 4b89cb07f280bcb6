"""Hostile page content stays inert in the report, drafts, redline and Atom feed
(BeautifulSoup-level checks; the headless-Chromium checks live elsewhere)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from bs4 import BeautifulSoup, Tag

from amendwatch.api import Amendwatch
from amendwatch.config import Settings
from amendwatch.delivery import feed_xml
from reports.periods import parse_range
from reports.render import render_change, render_drafts
from store.versions import version_chapter
from tests.reliability.faultsite import FaultSite, chapter_html, chapter_path

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(days=1)
BAD_SCHEMES = ("javascript:", "data:", "vbscript:")
URL_ATTRIBUTES = ("href", "src", "action", "formaction", "xlink:href", "poster", "background")
HOSTILE = (
    "<p>Use the form <script>alert('s1')</script><img src=x onerror=\"alert('s2')\">"
    "<a href=\"javascript:alert('s3')\">here</a>, "
    "<a href=\"data:text/html,&lt;script&gt;alert('s4')&lt;/script&gt;\">there</a>, "
    "<a href=\" JaVaScRiPt:alert('s5')\">again</a> "
    '<span style="position:fixed;top:0;left:0;width:100%;background:url(javascript:x)">'
    "overlay</span><b onmouseover=\"alert('s6')\">hover</b> "
    "&lt;script&gt;alert('s7')&lt;/script&gt; \"&gt;&lt;svg onload=alert('s8')&gt; "
    "<style>body{display:none}</style><iframe src=\"javascript:alert('s9')\"></iframe>"
    "{{ 7*7 }} {% raw %}</p>"
)


def hostile_chapter() -> str:
    page = chapter_html(3)
    cut = page.index("<h2>3.")
    heading = "<h2>3. Step <i onclick=\"alert('t1')\">three</i></h2>"
    return page[:cut] + heading + HOSTILE + page[cut:]


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Amendwatch]:
    path = tmp_path_factory.mktemp("hostile") / "aw.db"
    with FaultSite() as site:
        opened = Amendwatch.open(Settings(db_path=path), clock=lambda: T1)
        opened.add_manual("hostile", f"{site.base_url}/")
        opened.snapshot(at=T0)
        site.overrides[chapter_path(3)] = hostile_chapter()
        (result,) = opened.snapshot(at=T1).results
        assert result.changed == 1
        yield opened
        opened.close()


def assert_inert(html: str) -> str:
    """No script, no event handler, no script/data URL, no page CSS; returns the text."""
    soup = BeautifulSoup(html, "lxml")
    for script in soup.find_all("script"):
        assert "alert" not in script.get_text()
    for style in soup.find_all("style"):
        assert "display:none" not in style.get_text().replace(" ", "")
    for element in soup.find_all(True):
        assert isinstance(element, Tag)
        for name, value in element.attrs.items():
            text = " ".join(value) if isinstance(value, list) else str(value)
            assert not name.lower().startswith("on"), (element.name, name)
            assert "alert" not in text and "position:fixed" not in text, (element.name, name)
            if name.lower() in URL_ATTRIBUTES:
                cleaned = "".join(text.split()).lower()
                assert not cleaned.startswith(BAD_SCHEMES), (element.name, name, text)
    assert not soup.find_all(("iframe", "object", "embed", "form", "base", "foreignobject"))
    for svg in soup.find_all("svg"):  # the report's own charts only
        assert "alert" not in str(svg)
    return soup.get_text(" ")


def test_the_weekly_report_is_inert(app: Amendwatch) -> None:
    text = assert_inert(app.report(parse_range("2026-11-03", "2026-11-03"), fmt="html"))
    assert "alert('s7')" in text  # the page's visible text is there, as text


def test_drafts_are_inert(app: Amendwatch) -> None:
    period = parse_range("2026-11-01", "2026-11-30")
    entries = app.draft(period)
    assert entries
    assert_inert(render_drafts(entries, period, "html"))


def test_the_redline_is_inert(app: Amendwatch) -> None:
    change = app.diff("Chapter 3", None, None)
    text = assert_inert(render_change(change, "html"))
    assert "alert('s7')" in text
    assert "{{7*7}}" in "".join(text.split())  # template syntax in a page stays text


def test_the_atom_feed_is_inert(app: Amendwatch) -> None:
    feed = BeautifulSoup(feed_xml(app, "hostile", T1), "xml")
    contents = feed.find_all(["content", "summary", "title"])
    assert contents
    for element in contents:
        assert not element.find_all(True)  # markup is escaped text, never XML children
        kind = element.get("type", "text")
        assert kind in ("text", "html")
        if kind == "html":  # readers render it: it must be inert as HTML too
            assert_inert(element.get_text())
    assert "alert('s7')" in feed.get_text()


def test_hostile_content_is_stored_as_text(app: Amendwatch, tmp_path: Path) -> None:
    stored = [  # section text as the store gives it (the version's content holds it)
        section.text
        for row in app.db.query("SELECT * FROM versions")
        for section in version_chapter(app.db, row).sections
    ]
    (text,) = [text for text in stored if "alert('s7')" in text][:1]
    assert "onerror" not in text and "<img" not in text
