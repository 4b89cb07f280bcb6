"""The web application in a real browser: Playwright driving Debian's Chromium (no browser
download) against uvicorn serving on 127.0.0.1 in a thread. Log in; acknowledge a change with
impact and owner; edit and approve a draft; view a chapter as of a date; compare two versions;
search. No page breaks its Content-Security-Policy."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from amendwatch.config import Settings
from amendwatch.web.server import Listen, WebServer
from tests.web.conftest import PASSWORD, Clock

CHROMIUM = shutil.which("chromium")
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed: run `make browser` as root (Debian chromium package)",
)


@pytest.fixture(scope="module")
def server(web_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebServer]:
    path = tmp_path_factory.mktemp("browser") / "web.db"
    shutil.copyfile(web_db, path)
    with WebServer(Settings(db_path=path), Listen(port=0), clock=Clock()) as running:
        yield running


@pytest.fixture(scope="module")
def browser(server: WebServer) -> Iterator[Any]:
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield launched
        finally:
            launched.close()


class Tab:
    """A page of its own browser context, with the console's CSP complaints collected."""

    def __init__(self, browser: Any, base: str) -> None:
        self.context = browser.new_context(base_url=base)
        self.page = self.context.new_page()
        self.violations: list[str] = []
        self.page.on("console", self._console)
        self.page.on("dialog", lambda dialog: dialog.accept())

    def _console(self, message: Any) -> None:
        if "Content Security Policy" in message.text or "Refused to" in message.text:
            self.violations.append(message.text)

    def log_in(self, name: str) -> None:
        self.page.goto("/")
        assert "/login" in self.page.url
        self.page.fill("#username", name)
        self.page.fill("#password", PASSWORD)
        self.page.click("form.login button[type=submit]")
        self.page.wait_for_url("**/")


@pytest.fixture
def tab(browser: Any, server: WebServer) -> Iterator[Tab]:
    opened = Tab(browser, server.url)
    yield opened
    assert not opened.violations, opened.violations
    opened.context.close()


def test_log_in_and_out(tab: Tab) -> None:
    page = tab.page
    tab.log_in("viewer")
    assert page.locator("h1").inner_text() == "This week"
    assert "viewer" in page.locator(".who").inner_text()
    page.click("form.logout button")
    page.wait_for_url("**/login")
    page.goto("/changes")
    assert "/login?next=%2Fchanges" in page.url


def test_acknowledge_a_change_with_impact_and_owner(tab: Tab) -> None:
    page = tab.page
    tab.log_in("reviewer")
    page.goto("/changes")
    page.click("tr[data-change='2'] a")
    page.wait_for_url("**/changes/2")
    page.select_option("#status", "acknowledged")
    page.select_option("#impact", "high")
    page.fill("#owner", "Conference chairs")
    page.fill("#note", "Brief the chairs on the new pre-birth section.")
    page.click("form.review button[type=submit]")
    page.wait_for_url("**/changes/2?saved=1*")
    assert page.locator(".notice").inner_text() == "Review saved."
    review = page.locator("#review").inner_text()
    assert "acknowledged" in review and "impact high" in review and "Conference chairs" in review
    page.goto("/changes?status=acknowledged&since=2026-11-01&until=2026-11-30")
    assert page.locator("tr[data-change]").count() >= 1


def test_edit_and_approve_a_draft(tab: Tab) -> None:
    page = tab.page
    tab.log_in("editor")
    page.goto("/drafts?period=2026-11")
    page.click("a[href='/drafts/4']")
    text = "This chapter has been updated with a section on pre-birth conferences."
    page.fill("#details", text)
    page.click("form.edit button[type=submit]")
    page.wait_for_url("**/drafts/4?saved=edited")
    assert page.locator("blockquote.entry").inner_text() == text
    page.click("button.approve")
    page.wait_for_url("**/drafts/4?saved=approved")
    history = page.locator("table.history").inner_text()
    assert "editor\tedit" in history and "editor\tapproved" in history
    page.goto("/drafts/export?period=2026-11&format=html")
    assert text in page.content()


def test_view_a_chapter_as_of_a_date(tab: Tab) -> None:
    page = tab.page
    tab.log_in("viewer")
    page.goto("/chapters")
    page.click("text=Initial Child Protection Conferences")
    page.fill("#as_of", "2026-11-05")
    page.click("#as-of button[type=submit]")
    page.wait_for_url("**as_of=2026-11-05*")
    bounds = page.locator("#as-of .bounds").inner_text()
    assert "changed between 2026-11-02 09:00 and 2026-11-09 09:00" in bounds
    assert "Pre-birth Conferences" not in page.locator("article.as-of-text").inner_text()


def test_compare_two_versions(tab: Tab) -> None:
    page = tab.page
    tab.log_in("viewer")
    page.goto("/chapters/7")
    page.select_option("#compare #from", "v7")
    page.select_option("#compare #to", "v14")
    page.click("#compare button[type=submit]")
    page.wait_for_url("**/compare?from=v7&to=v14")
    assert page.locator("h1").inner_text() == "v7 → v14"
    assert page.locator("p.redline ins").count() > 0
    assert "Pre-birth Conferences" in page.locator("article.chapter").inner_text()


def test_search(tab: Tab) -> None:
    page = tab.page
    tab.log_in("viewer")
    page.click("nav >> text=Search")
    page.fill("#q", "strategy discussion")
    page.press("#q", "Enter")
    page.wait_for_url("**/search?q=strategy+discussion")
    hits = page.locator("ol.hits li")
    assert hits.count() >= 2
    assert page.locator("ol.hits mark").first.inner_text().lower() in ("strategy", "discussion")
    hits.first.locator("a").click()
    assert "/chapters/" in page.url
