"""The pipeline through every stage: the demo manual over real loopback HTTP, a real SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from amendwatch.api import Amendwatch
from amendwatch.config import Settings
from amendwatch.demo.server import DemoServer
from amendwatch.errors import InputError
from reports.periods import parse_range

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
ICPC = "Initial Child Protection Conferences"


def counts(app: Amendwatch) -> dict[str, int]:
    return {
        table: app.db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
        for table in ("observations", "bodies", "versions", "sections", "changes")
    }


def open_app(path: Path) -> Amendwatch:
    settings = Settings(db_path=path)
    return Amendwatch.open(replace(settings, confirm_changes=True), clock=lambda: T0)


@pytest.fixture
def server() -> Iterator[DemoServer]:
    with DemoServer(validators=False, dynamic=True) as running:
        yield running


@pytest.fixture
def app(tmp_path: Path, server: DemoServer) -> Iterator[Amendwatch]:
    opened = open_app(tmp_path / "aw.db")
    opened.add_manual("northmoor", f"{server.base_url}/", f"{server.base_url}/amendments.html")
    yield opened
    opened.close()


def everything() -> object:
    return parse_range("2026-01-01", "2027-12-31")


def test_first_snapshot_stores_every_chapter_as_baseline(app: Amendwatch) -> None:
    report = app.snapshot(["northmoor"], at=T0)
    (result,) = report.results
    assert result.contents_ok
    assert result.checked == 12
    assert result.failed == 0
    assert counts(app)["versions"] == 12
    # the baseline run records versions but reports no "new chapter" changes
    assert app.changes(parse_range("2026-01-01", "2027-12-31")) == ()


def test_unchanged_dynamic_pages_add_observations_but_no_version(app: Amendwatch) -> None:
    app.snapshot(["northmoor"], at=T0)
    before = counts(app)
    app.snapshot(["northmoor"], at=T0 + timedelta(days=1))
    after = counts(app)
    assert after["versions"] == before["versions"]
    assert after["sections"] == before["sections"]
    assert after["changes"] == 0
    # one observation per chapter, plus the contents and the Amendments page
    assert after["observations"] - before["observations"] == 14


def test_static_unchanged_pages_store_no_new_body(tmp_path: Path) -> None:
    with DemoServer(validators=False, dynamic=False) as server:
        app = open_app(tmp_path / "aw.db")
        app.add_manual("northmoor", f"{server.base_url}/")
        app.snapshot(["northmoor"], at=T0)
        before = counts(app)
        app.snapshot(["northmoor"], at=T0 + timedelta(days=1))
        after = counts(app)
        app.close()
    assert after["bodies"] == before["bodies"]
    assert after["versions"] == before["versions"]
    assert after["observations"] - before["observations"] == 13


def test_conditional_get_answers_304_and_costs_one_row(tmp_path: Path) -> None:
    with DemoServer(validators=True, dynamic=True) as server:
        app = open_app(tmp_path / "aw.db")
        app.add_manual("northmoor", f"{server.base_url}/")
        app.snapshot(["northmoor"], at=T0)
        before = counts(app)
        report = app.snapshot(["northmoor"], at=T0 + timedelta(days=1))
        after = counts(app)
        app.close()
    outcomes = [o.outcome for o in report.results[0].outcomes]
    assert outcomes.count("not-modified") == 12
    assert after["versions"] == before["versions"]
    assert after["observations"] - before["observations"] == 13


def test_inserted_section_renumbers_later_ones(app: Amendwatch, server: DemoServer) -> None:
    app.snapshot(["northmoor"], at=T0)
    server.set_edition(2)
    app.snapshot(["northmoor"], at=T0 + WEEK)
    data = app.changes_json(parse_range("2026-11-09", "2026-11-15"))
    by_title = {c["chapter_title"]: c for c in data["changes"]}
    icpc = by_title[ICPC]
    assert icpc["kind"] == "updated"
    sections = icpc["sections"]
    added = [s for s in sections if "added" in s["kinds"]]
    assert [(s["new"]["number"], s["new"]["title"]) for s in added] == [
        ("5", "Pre-birth Conferences")
    ]
    assert not [s for s in sections if "removed" in s["kinds"]]
    renumbered = {
        (s["old"]["number"], s["new"]["number"]): s for s in sections if "renumbered" in s["kinds"]
    }
    assert ("6", "7") in renumbered  # Involving the Child: 6 -> 7
    assert ("7", "8") in renumbered  # Information for the Conference: 7 -> 8, and modified
    assert "modified" in renumbered[("7", "8")]["kinds"]
    assert "immigration status" in renumbered[("7", "8")]["inserted"]
    timescales = next(s for s in sections if s["new"] and s["new"]["number"] == "4")
    assert "10" in timescales["inserted"] and "15" in timescales["deleted"]
    assert not timescales["cosmetic"]


def test_links_added_and_removed_are_reported(app: Amendwatch, server: DemoServer) -> None:
    app.snapshot(["northmoor"], at=T0)
    server.set_edition(2)
    app.snapshot(["northmoor"], at=T0 + WEEK)
    data = app.changes_json(parse_range("2026-11-09", "2026-11-15"))
    abuse = next(c for c in data["changes"] if c["chapter_title"] == "Domestic Abuse")
    added = [link["text"] for s in abuse["sections"] for link in s["links_added"]]
    removed = [link["text"] for s in abuse["sections"] for link in s["links_removed"]]
    assert any("How to Get Help" in text for text in added)
    assert any("Disclosure Scheme" in text for text in removed)


def test_lineage_follows_a_renumbered_section(app: Amendwatch, server: DemoServer) -> None:
    app.snapshot(["northmoor"], at=T0)
    server.set_edition(2)
    app.snapshot(["northmoor"], at=T0 + WEEK)
    _chapter, events = app.section_timeline(ICPC, "Information for the Conference")
    numbers = [event.number for event in events if event.present]
    assert numbers == ["7", "8"]
    assert len({event.lineage_id for event in events}) == 1


def test_edition_three_new_renamed_and_removed(app: Amendwatch, server: DemoServer) -> None:
    for edition, at in ((1, T0), (2, T0 + WEEK), (3, T0 + 2 * WEEK)):
        server.set_edition(edition)
        app.snapshot(["northmoor"], at=at)
    # gone once: not yet removed (two consecutive runs are needed)
    week3 = parse_range("2026-11-16", "2026-11-22")
    kinds = {c.chapter_title: c.diff.kind for c in app.changes(week3)}
    assert kinds.get("Harmful Sexual Behaviour") == "new"
    assert kinds.get("Keeping Children Safe around Dogs") == "renamed"
    assert "Visiting of Psychiatric Patients by Children" not in kinds
    app.snapshot(["northmoor"], at=T0 + 2 * WEEK + timedelta(days=1))
    kinds = {c.chapter_title: c.diff.kind for c in app.changes(week3)}
    assert kinds.get("Visiting of Psychiatric Patients by Children") == "removed"


def test_failed_contents_page_marks_nothing_removed(app: Amendwatch, server: DemoServer) -> None:
    app.snapshot(["northmoor"], at=T0)
    manual = app.manuals()[0]
    app.db.execute(
        "UPDATE manuals SET contents_url = ? WHERE id = ?",
        (f"{server.base_url}/no-such-contents.html", manual.id),
    )
    report = app.snapshot(["northmoor"], at=T0 + timedelta(days=1))
    (result,) = report.results
    assert not result.contents_ok
    assert result.checked == 12  # the known chapters are still checked
    assert counts(app)["changes"] == 0


def test_verify_passes_after_snapshots(app: Amendwatch, server: DemoServer) -> None:
    app.snapshot(["northmoor"], at=T0)
    server.set_edition(2)
    app.snapshot(["northmoor"], at=T0 + WEEK)
    result = app.verify()
    assert result.ok, result.problems
    assert result.checked >= 26


def test_at_may_not_go_back_in_time(app: Amendwatch) -> None:
    app.snapshot(["northmoor"], at=T0 + WEEK)
    with pytest.raises(InputError, match="before the last observation"):
        app.snapshot(["northmoor"], at=T0)
