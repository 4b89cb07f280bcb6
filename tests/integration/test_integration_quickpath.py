"""The quick path over real loopback HTTP: the demo manual served as dynamic pages (a footer
with the time and a random token on every request). The first snapshot stores versions and
gives each capture a guard in the same parse; a fresh fetch of an unchanged chapter is judged
"same" without a parse, while a fetch of an edited chapter (the next edition) is not, and the
snapshot finds the edit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from amendwatch.analysisstage import Quick, quick_analysis
from amendwatch.api import Amendwatch
from amendwatch.config import Settings
from amendwatch.demo.server import DemoServer
from scraper.models import Page
from store.manuals import get_manual
from store.rows import fetch_all

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def server() -> Iterator[DemoServer]:
    with DemoServer(validators=False, dynamic=True) as running:
        yield running


@pytest.fixture
def app(tmp_path: Path, server: DemoServer) -> Iterator[Amendwatch]:
    opened = Amendwatch.open(Settings(db_path=tmp_path / "aw.db"), clock=lambda: T0)
    opened.add_manual("northmoor", f"{server.base_url}/")
    opened.snapshot(["northmoor"], at=T0)
    opened.snapshot(["northmoor"], at=T0 + timedelta(days=1))  # guards are made on this run
    yield opened
    opened.close()


def latest(app: Amendwatch) -> list[dict[str, object]]:
    return fetch_all(
        app.db,
        "SELECT c.url, v.fingerprint FROM chapters c JOIN versions v ON v.chapter_id = c.id"
        " WHERE v.valid_to IS NULL ORDER BY c.id",
    )


def fetched(url: str) -> Page:
    answer = httpx.get(url)
    return Page(url, url, answer.status_code, tuple(answer.headers.items()), answer.content, T0)


def test_the_baseline_run_computes_every_guard(tmp_path: Path, server: DemoServer) -> None:
    """The first run after the baseline is as fast as later ones: each capture's guard was
    computed in the parse the baseline made anyway, so a fresh fetch is judged at once."""
    opened = Amendwatch.open(Settings(db_path=tmp_path / "first.db"), clock=lambda: T0)
    opened.add_manual("northmoor", f"{server.base_url}/")
    opened.snapshot(["northmoor"], at=T0)
    rows = latest(opened)
    guarded = {r["fingerprint"] for r in fetch_all(opened.db, "SELECT * FROM capture_guards")}
    assert len(rows) == 12 and {row["fingerprint"] for row in rows} <= guarded
    for row in rows:
        judged = quick(opened, str(row["url"]), str(row["fingerprint"]))
        assert judged.analysis is not None and judged.analysis.same, row["url"]
    opened.close()


def test_every_version_capture_gets_a_guard(app: Amendwatch) -> None:
    rows = latest(app)
    guarded = fetch_all(app.db, "SELECT fingerprint FROM capture_guards")
    assert len(rows) == 12
    assert {row["fingerprint"] for row in rows} <= {row["fingerprint"] for row in guarded}


def quick(app: Amendwatch, url: str, fingerprint: str) -> Quick:
    """The quick analysis of a fresh fetch of ``url`` against the version ``fingerprint``."""
    return quick_analysis(app.db, get_manual(app.db, "northmoor"), fetched(url), fingerprint)


def test_unchanged_dynamic_pages_are_judged_without_a_parse(app: Amendwatch) -> None:
    for row in latest(app):
        answer = quick(app, str(row["url"]), str(row["fingerprint"]))
        assert answer.analysis is not None and answer.analysis.same, row["url"]


def test_edited_chapters_are_never_quick_and_the_edit_is_found(
    app: Amendwatch, server: DemoServer
) -> None:
    before = {str(row["url"]): str(row["fingerprint"]) for row in latest(app)}
    server.set_edition(2)
    quick_same = {
        url for url, known in before.items() if quick(app, url, known).analysis is not None
    }
    report = app.snapshot(["northmoor"], at=T0 + timedelta(days=7))
    changed = {o.url for o in report.results[0].outcomes if o.outcome == "new-version"}
    assert changed, "edition 2 edits some chapters"
    assert not changed & quick_same


def test_a_page_no_guard_absorbs_does_not_grow_the_guards(tmp_path: Path) -> None:
    """A page that differs from its capture by an element added outside the chapter (not just
    text) fails the quick check every run and is parsed; its content is the same, so its
    first guard stays the only one: no new row per run."""
    from tests.integration.minisite import MiniSite, chapter_html, contents_html  # noqa: PLC0415

    with MiniSite() as site:
        site.pages["/"] = contents_html([("1.1", "Assessments", "/a.html")])
        body = chapter_html("Assessments", [("1 Scope", "Staff must act within 10 days.")])
        opened = Amendwatch.open(Settings(db_path=tmp_path / "aw.db"), clock=lambda: T0)
        opened.add_manual("mini", f"{site.base_url}/")
        for run in range(4):
            extra = "".join(f"<aside><p>Rendered {run}.{n}</p></aside>" for n in range(run + 1))
            site.pages["/a.html"] = body.replace("</main>", f"</main>{extra}")
            opened.snapshot(["mini"], at=T0 + timedelta(days=run))
        guards = fetch_all(opened.db, "SELECT url FROM capture_guards WHERE url LIKE '%/a.html'")
        versions = fetch_all(opened.db, "SELECT id FROM versions")
        opened.close()
    assert len(versions) == 1
    assert len(guards) == 1
