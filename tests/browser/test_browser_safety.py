"""Hostile chapter content renders inert: opened in headless Chromium, no script runs."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path

import pytest
from browser_tools import (
    PWNED,
    SCRIPT,
    WHEN,
    dump_dom,
    hostile_change,
    hostile_failure,
    hostile_section,
    needs_chromium,
)
from bs4 import BeautifulSoup

from reports.digest import build_digest, weekly_counts
from reports.draft import draft_entries
from reports.models import DetectedChange
from reports.periods import parse_month, parse_week
from reports.render import render_change, render_digest, render_drafts, render_version
from scraper.models import Chapter

pytestmark = needs_chromium
NOVEMBER = parse_month("2026-11")


def _changes() -> tuple[DetectedChange, ...]:
    new = hostile_change(2)
    return (hostile_change(1), hostile_change(3, kind="renamed"), new)


def _digest_html() -> str:
    changes = _changes()
    digest = build_digest(
        changes,
        [hostile_failure()],
        parse_week("2026-W47"),
        history=weekly_counts(changes),
        generated_at=WHEN,
    )
    return render_digest(digest, "html")


def _drafts_html() -> str:
    return render_drafts(draft_entries(_changes(), NOVEMBER), NOVEMBER, "html")


def _version_html() -> str:
    section = hostile_section("1", "Scope")
    chapter = Chapter(f"javascript:document.title='{PWNED}'", f"Title {SCRIPT}", (section,))
    return render_version(chapter, chapter.sections, f"bounds {SCRIPT}")


def _change_html() -> str:
    return render_change(hostile_change(), "html")


def _atom_xml() -> str:
    """The Atom feed, when reports/atom.py exists (written in parallel by another engineer)."""
    atom = importlib.import_module("reports.atom")
    build: Callable[..., object] | None = getattr(atom, "build_feed", None)
    render: Callable[[object], str] | None = getattr(atom, "render_feed", None)
    if build is None or render is None:
        pytest.skip("reports.atom has no build_feed/render_feed to drive")
    changes = _changes()
    return render(build(changes[0].manual, changes, generated_at=WHEN))


PAGES: dict[str, Callable[[], str]] = {
    "digest": _digest_html,
    "drafts": _drafts_html,
    "show-html": _version_html,
    "diff-html": _change_html,
}


def _assert_inert(dom: str) -> None:
    soup = BeautifulSoup(dom, "html.parser")
    title = soup.find("title")
    assert title is not None and title.get_text().strip() != PWNED  # a script would set exactly it
    assert soup.find("script") is None
    assert soup.find("style", string=lambda s: s is not None and "display:none" in s) is None
    for element in soup.find_all(True):
        handlers = [name for name in element.attrs if name.lower().startswith("on")]
        assert not handlers, (element.name, handlers)
    for element in soup.find_all(href=True):
        href = str(element["href"]).strip().lower()
        assert not href.startswith(("javascript:", "data:")), href
    for element in soup.find_all(src=True):
        assert not str(element["src"]).strip().lower().startswith(("javascript:", "data:"))


def test_the_harness_notices_a_script_that_runs(tmp_path: Path) -> None:
    """Positive control: an unescaped page does change its title in this Chromium."""
    page = tmp_path / "unsafe.html"
    page.write_text(f"<html><head><title>ok</title></head><body>{SCRIPT}</body></html>")
    assert f"<title>{PWNED}</title>" in dump_dom(page, tmp_path)


@pytest.mark.parametrize("name", sorted(PAGES))
def test_hostile_content_renders_inert(name: str, tmp_path: Path) -> None:
    html = PAGES[name]()
    assert "&lt;script&gt;" in html  # the content is there, as text
    page = tmp_path / f"{name}.html"
    page.write_text(html, encoding="utf-8")
    dom = dump_dom(page, tmp_path)
    _assert_inert(dom)
    visible = BeautifulSoup(dom, "html.parser").get_text(" ")
    assert SCRIPT in visible  # shown to the reader, not run


def _feed(tmp_path: Path) -> tuple[Path, BeautifulSoup]:
    if importlib.util.find_spec("reports.atom") is None:
        pytest.skip("reports/atom.py does not exist yet")
    page = tmp_path / "feed.xml"
    page.write_text(_atom_xml(), encoding="utf-8")
    return page, BeautifulSoup(page.read_text(encoding="utf-8"), "xml")


def test_atom_feed_is_inert_if_present(tmp_path: Path) -> None:
    page, feed = _feed(tmp_path)
    dom = dump_dom(page, tmp_path)
    assert "This page contains the following errors" not in dom  # well-formed XML
    viewer = BeautifulSoup(dom, "html.parser")
    assert viewer.title is None or viewer.title.get_text().strip() != PWNED
    names = {element.name for element in feed.find_all(True)}
    assert not names & {"script", "img", "svg", "style", "a", "iframe"}  # all of it is text
    assert any(SCRIPT in title.get_text() for title in feed.find_all("title"))


def test_atom_feed_links_are_only_http(tmp_path: Path) -> None:
    _, feed = _feed(tmp_path)
    hrefs = [str(link.get("href", "")).strip().lower() for link in feed.find_all("link")]
    assert feed.find_all("entry")  # the hostile entries are there, without their links
    assert not [h for h in hrefs if not h.startswith(("http://", "https://"))]
