"""The screenshots of docs/web.md, taken by Playwright in Debian's Chromium against the demo
data: ``.venv/bin/python -m tests.web.screenshots [FOLDER]`` (default docs/img)."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from amendwatch.config import Settings
from amendwatch.web.server import Listen, WebServer
from tests.web.conftest import PASSWORD, Clock, build

SHOTS = (
    ("web-dashboard.png", "/"),
    ("web-review.png", "/changes/2#review"),
    ("web-chapter.png", "/chapters/7?as_of=2026-11-05#as-of"),
)


def take(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        db = build(Path(scratch) / "aw.db")  # before Playwright: it keeps a loop in this thread
        with (
            WebServer(Settings(db_path=db), Listen(port=0), clock=Clock()) as server,
            sync_playwright() as playwright,
        ):
            browser = playwright.chromium.launch(
                executable_path=shutil.which("chromium"), args=["--no-sandbox", "--disable-gpu"]
            )
            page = browser.new_page(base_url=server.url, viewport={"width": 1100, "height": 900})
            page.goto("/login")
            page.fill("#username", "reviewer")
            page.fill("#password", PASSWORD)
            page.click("form.login button[type=submit]")
            page.wait_for_url("**/")
            page.goto("/changes/2")
            page.select_option("#status", "action needed")
            page.select_option("#impact", "high")
            page.fill("#owner", "Conference chairs")
            page.fill("#note", "Brief the chairs on the new pre-birth section.")
            page.click("form.review button[type=submit]")
            written = []
            for name, path in SHOTS:
                page.goto(path)
                page.screenshot(path=str(folder / name), full_page=False)
                written.append(folder / name)
            browser.close()
    return written


if __name__ == "__main__":
    for path in take(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/img")):
        print(path)
