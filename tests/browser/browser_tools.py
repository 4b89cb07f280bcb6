"""Headless Chromium driven directly (subprocess), and hostile chapter content to feed it."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from differ.models import ChapterDiff, Edit, SectionChange
from reports.models import DetectedChange, FailedCheck
from scraper.models import Link, Section

CHROMIUM = Path("/usr/bin/chromium")
needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="Chromium is not installed: run `make browser` as root (Debian chromium package)",
)
WHEN = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)
PWNED = "PWNED"
SCRIPT = f"<script>document.title='{PWNED}'</script>"
IMG = f"<img src=x onerror=\"document.title='{PWNED}'\">"
STYLE = "<style>body{display:none} *{background:url(javascript:alert(1))}</style>"
SVG = f"<svg onload=\"document.title='{PWNED}'\"></svg>"
HOSTILE = f"{SCRIPT}{IMG}{STYLE}{SVG}\"><a href='javascript:alert(1)'>x</a>"
BAD_URLS = (
    f"javascript:document.title='{PWNED}'",
    " JavaScript:document.title='PWNED'",
    f"data:text/html,<script>document.title='{PWNED}'</script>",
)


def run_chromium(page: Path, tmp_path: Path, *extra: str) -> str:
    """Open ``page`` in headless Chromium (scripts enabled) and return its stdout."""
    profile = tmp_path / f"profile-{page.stem}"
    args = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=2000",
        *extra,
        page.resolve().as_uri(),
    ]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def dump_dom(page: Path, tmp_path: Path) -> str:
    """The DOM after any script on the page would have run."""
    return run_chromium(page, tmp_path, "--dump-dom")


def hostile_section(number: str | None, title: str) -> Section:
    links = tuple(Link(f"{HOSTILE} link", url) for url in BAD_URLS)
    links += (Link(HOSTILE, "https://example.test/ok"),)
    key = number or title
    return Section(number, f"{title} {HOSTILE}", 1, (key,), f"Text {HOSTILE} ends.", links)


def hostile_change(change_id: int = 1, kind: str = "updated") -> DetectedChange:
    old = hostile_section("4", "Timescales")
    new = Section(
        "4",
        old.title,
        1,
        ("4",),
        f"Text {HOSTILE} now within 10 working days {SCRIPT}. Must be held.",
        old.links[:1],
    )
    modified = SectionChange(
        kinds=frozenset({"modified"}),
        old=old,
        new=new,
        edits=(Edit(0, "Text "), Edit(-1, f"{HOSTILE} ends."), Edit(1, f"{SCRIPT} 10 days")),
        links_added=(Link(HOSTILE, BAD_URLS[0]), Link("data", BAD_URLS[2])),
        links_removed=old.links[1:],
        flags=frozenset({"duration"}),
    )
    added = SectionChange(
        kinds=frozenset({"added"}),
        old=None,
        new=hostile_section("5", "Pre-birth"),
        edits=(Edit(1, f"{IMG} must attend"),),
    )
    diff = ChapterDiff(
        chapter_url=BAD_URLS[0],
        kind="renamed" if kind == "renamed" else "updated",
        old_version=1,
        new_version=2,
        sections=(modified, added),
        old_title=f"Old {HOSTILE}",
        new_title=f"Chapter {HOSTILE}",
    )
    return DetectedChange(
        change_id=change_id,
        manual=f"Manual {SCRIPT}",
        chapter_title=f"Chapter {HOSTILE}",
        chapter_url=BAD_URLS[0],
        detected_at=WHEN,
        diff=diff,
        old_content_hash="a" * 64,
        new_content_hash="b" * 64,
        summary=HOSTILE,
    )


def hostile_failure() -> FailedCheck:
    return FailedCheck(f"Manual {SCRIPT}", BAD_URLS[2], WHEN, 500, f"reason {IMG}")
