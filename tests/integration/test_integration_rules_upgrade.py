"""A database written by an earlier release, whose fingerprint rules (scraper/fingerprint.py
``RULES``) and guard rules (scraper/quickcheck.py ``GUARD_RULES``) were not today's: the
first run after the upgrade parses every chapter once, finds it unchanged, gives its version
the current fingerprint (pipeline ``_refresh_fingerprint``) and its capture a guard made under
the current rules (analysisstage ``remember_guard``); every later run takes the quick path
again instead of parsing every page, every run.

The earlier release is simulated for real: a baseline and one more run over a loopback site
whose chapter pages carry a footer that changes on every request, then the stored
fingerprints and guard rules rewritten with sqlite3 (which leaves the seals stale: ``verify``
is not this test's business). Pages parsed in a run are counted with a profile hook on
``scraper.analysis.analyse`` (a small manual is analysed inline, on this thread)."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from amendwatch.api import Amendwatch
from amendwatch.config import Settings
from amendwatch.pipeline import POOL_MIN_CHAPTERS
from amendwatch.runcontext import SnapshotResult
from scraper import analysis
from scraper.quickcheck import GUARD_RULES, Guard
from store import guards
from store.rows import fetch_all
from tests.integration.minisite import MiniSite, chapter_html, contents_html

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
OLD_RULES = "0" * 64  # the guard rules of the earlier release
CHAPTERS = [
    ("1.1", "Assessments", "/a.html"),
    ("1.2", "Referrals", "/b.html"),
    ("1.3", "Strategy Discussions", "/c.html"),
]


class FreshFooters(dict[str, str]):
    """``MiniSite.pages`` whose chapter pages end with a footer that changes on every
    request (the render count and a token): no two fetches of a chapter are byte-equal, the
    difference lies outside the chapter, so only a guard (or a parse) can tell "same"."""

    def __init__(self) -> None:
        super().__init__()
        self.served = 0

    def get(self, key: str, default: Any = None) -> Any:
        page = super().get(key, default)
        if not isinstance(page, str) or key == "/":
            return page
        self.served += 1
        footer = f"<footer><p>Rendered {self.served} token {self.served * 7919:08x}</p></footer>"
        return page.replace("</body>", f"{footer}</body>")


@contextmanager
def counting_parses() -> Iterator[list[int]]:
    """How many pages ``scraper.analysis.analyse`` parsed on this thread inside the block
    (observed with a profile hook; nothing is replaced)."""
    calls = [0]
    target = analysis.analyse.__code__
    previous = sys.getprofile()

    def profile(frame: FrameType, event: str, _arg: object) -> None:
        if event == "call" and frame.f_code is target:
            calls[0] += 1

    sys.setprofile(profile)
    try:
        yield calls
    finally:
        sys.setprofile(previous)


def snapshot(app: Amendwatch, at: datetime) -> tuple[SnapshotResult, int]:
    """One run of the manual: its result and the number of pages parsed in it."""
    with counting_parses() as parsed:
        report = app.snapshot(["mini"], at=at)
    (result,) = report.results
    return result, parsed[0]


def outcomes(result: SnapshotResult) -> list[str]:
    return [o.outcome for o in result.outcomes]


def version_rows(app: Amendwatch) -> list[dict[str, Any]]:
    return fetch_all(
        app.db,
        "SELECT id, chapter_id, content_hash, fingerprint, valid_from, valid_to FROM versions"
        " ORDER BY id",
    )


def guard_rows(app: Amendwatch) -> list[dict[str, Any]]:
    return fetch_all(app.db, "SELECT * FROM capture_guards ORDER BY rowid")


def as_earlier_release(path: Path, *, guards_fingerprinted_old: bool) -> None:
    """Rewrite what the earlier release's rules computed: every version's fingerprint, every
    guard's rules (and, as that release would have, the guards' fingerprints)."""
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE versions SET fingerprint = 'old-' || fingerprint")
        if guards_fingerprinted_old:
            conn.execute("UPDATE capture_guards SET fingerprint = 'old-' || fingerprint")
        for sha, text in conn.execute("SELECT body_sha256, guard FROM capture_guards").fetchall():
            old = Guard(OLD_RULES, Guard.from_json(text).extents).to_json()
            conn.execute("UPDATE capture_guards SET guard = ? WHERE body_sha256 = ?", (old, sha))
    conn.close()


@pytest.mark.parametrize(
    "guards_fingerprinted_old",
    [False, True],
    ids=["guards-under-current-fingerprints", "guards-under-old-fingerprints"],
)
def test_after_a_rules_upgrade_one_run_parses_and_the_next_is_quick(
    tmp_path: Path, guards_fingerprinted_old: bool
) -> None:
    assert len(CHAPTERS) < POOL_MIN_CHAPTERS  # analysed inline: the parses are counted here
    path = tmp_path / "aw.db"
    with MiniSite() as site:
        site.pages = FreshFooters()
        site.pages["/"] = contents_html(CHAPTERS)
        for _number, title, url in CHAPTERS:
            text = f"Staff must complete the {title.lower()} within ten working days."
            site.pages[url] = chapter_html(title, [("1 Scope", text), ("2 Who", "Any worker.")])

        app = Amendwatch.open(Settings(db_path=path), clock=lambda: T0)
        app.add_manual("mini", f"{site.base_url}/")
        baseline, _ = snapshot(app, T0)
        assert outcomes(baseline) == ["new-version"] * 3
        second, parsed = snapshot(app, T0 + DAY)
        assert (outcomes(second), parsed) == (["unchanged"] * 3, 0)  # quick before the upgrade
        current = {row["id"]: row["fingerprint"] for row in version_rows(app)}
        assert len(current) == 3 and all(current.values())
        app.close()

        as_earlier_release(path, guards_fingerprinted_old=guards_fingerprinted_old)
        app = Amendwatch.open(Settings(db_path=path), clock=lambda: T0)
        try:
            assert {r["fingerprint"] for r in version_rows(app)}.isdisjoint(current.values())
            served = site.pages.served

            upgraded, parsed = snapshot(app, T0 + 2 * DAY)
            assert outcomes(upgraded) == ["unchanged"] * 3
            assert upgraded.changed == 0 and upgraded.failed == 0
            assert parsed == 3  # each page once: nothing stored could answer for it
            rows = version_rows(app)
            assert {r["id"]: r["fingerprint"] for r in rows} == current  # the same versions
            assert all(r["valid_to"] is None for r in rows)
            for fingerprint in current.values():
                reference = guards.reference_for(app.db, fingerprint)
                assert reference is not None, fingerprint
                assert Guard.from_json(reference.guard).rules == GUARD_RULES
            before = (rows, guard_rows(app))

            following, parsed = snapshot(app, T0 + 3 * DAY)
            assert outcomes(following) == ["unchanged"] * 3
            assert parsed == 0  # the quick path: no page parsed
            assert (version_rows(app), guard_rows(app)) == before
            assert site.pages.served - served == 6  # every chapter was fetched afresh twice
        finally:
            app.close()
