"""Chapter lifecycle through the real pipeline: moves, flips, interrupted runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from amendwatch.api import Amendwatch
from amendwatch.config import Settings
from reports.periods import parse_range
from store import runs
from tests.integration.minisite import MiniSite, chapter_html, contents_html

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
SECTIONS = [
    ("1. Introduction", "This chapter sets out how agencies respond to concerns about a child."),
    ("2. Timescales", "The assessment must be completed within 45 working days of the referral."),
    ("3. Recording", "Every decision must be recorded on the child's file with its reasons."),
]


@pytest.fixture
def site() -> Iterator[MiniSite]:
    with MiniSite() as running:
        running.pages["/"] = contents_html(
            [("1.1", "Assessments", "/a.html"), ("1.2", "Referrals", "/b.html")]
        )
        running.pages["/a.html"] = chapter_html("Assessments", SECTIONS)
        running.pages["/b.html"] = chapter_html("Referrals", [("1. Referrals", "Refer at once.")])
        yield running


@pytest.fixture
def app(tmp_path: Path, site: MiniSite) -> Iterator[Amendwatch]:
    opened = Amendwatch.open(Settings(db_path=tmp_path / "aw.db"), clock=lambda: T0)
    opened.add_manual("mini", f"{site.base_url}/")
    opened.snapshot(at=T0)
    yield opened
    opened.close()


def all_changes(app: Amendwatch) -> list[tuple[str, str]]:
    return [
        (c.diff.kind, c.chapter_url.rsplit("/", 1)[-1])
        for c in app.changes(parse_range("2026-01-01", "2027-12-31"))
    ]


def test_same_content_under_a_new_url_is_a_move(app: Amendwatch, site: MiniSite) -> None:
    site.pages["/"] = contents_html(
        [("1.1", "Assessments", "/assessments.html"), ("1.2", "Referrals", "/b.html")]
    )
    site.pages["/assessments.html"] = site.pages.pop("/a.html")
    report = app.snapshot(at=T0 + DAY)
    assert all_changes(app) == [("moved", "assessments.html")]
    (change,) = app.changes(parse_range("2026-01-01", "2027-12-31"))
    assert change.diff.old_url is not None and change.diff.old_url.endswith("/a.html")
    assert not change.diff.sections  # nothing else changed
    assert [o.outcome for o in report.results[0].outcomes].count("moved") == 1


def test_a_new_url_with_other_content_is_new(app: Amendwatch, site: MiniSite) -> None:
    site.pages["/"] = contents_html(
        [
            ("1.1", "Assessments", "/a.html"),
            ("1.2", "Referrals", "/b.html"),
            ("1.3", "Conferences", "/c.html"),
        ]
    )
    site.pages["/c.html"] = chapter_html("Conferences", [("1. Purpose", "A conference decides.")])
    app.snapshot(at=T0 + DAY)
    assert all_changes(app) == [("new", "c.html")]


def test_a_flip_back_is_recorded_as_a_flip(app: Amendwatch, site: MiniSite) -> None:
    original = site.pages["/a.html"]
    site.pages["/a.html"] = original.replace("45 working days", "35 working days")
    app.snapshot(at=T0 + DAY)
    site.pages["/a.html"] = original
    report = app.snapshot(at=T0 + 2 * DAY)
    outcomes = {o.url.rsplit("/", 1)[-1]: o.outcome for o in report.results[0].outcomes}
    assert outcomes["a.html"] == "flip"
    changes = app.changes(parse_range("2026-01-01", "2027-12-31"))
    assert len(changes) == 2
    assert dict(changes[-1].diff.extra).get("flip_of") == str(changes[0].diff.old_version)


def test_stop_interrupts_between_chapters(app: Amendwatch, site: MiniSite) -> None:
    asked: list[int] = []

    def stop() -> bool:
        asked.append(1)
        return len(asked) > 1  # let the first chapter finish, then stop

    site.pages["/a.html"] = site.pages["/a.html"].replace("45", "40")
    site.pages["/b.html"] = site.pages["/b.html"].replace("at once", "the same day")
    report = app.snapshot(at=T0 + DAY, stop=stop)
    (result,) = report.results
    assert result.interrupted
    assert len(result.outcomes) == 1
    (run,) = [r for r in app.runs() if r.id == report.run_id]
    assert run.status == "interrupted"
    # the next run picks up the chapter that was not processed
    app.snapshot(at=T0 + 2 * DAY)
    assert sorted(all_changes(app)) == [("updated", "a.html"), ("updated", "b.html")]


def test_a_killed_run_is_marked_abandoned_by_the_next(app: Amendwatch) -> None:
    killed = runs.start_run(app.db, "scheduled", T0 + DAY)  # its process died mid-run
    report = app.snapshot(at=T0 + 2 * DAY)
    statuses = {run.id: run.status for run in app.runs()}
    assert statuses[killed] == "abandoned"
    assert statuses[report.run_id] == "ok"


def test_manual_ignore_rules_apply_to_snapshots(tmp_path: Path, site: MiniSite) -> None:
    reviewed = [
        ("1. Introduction", "Assessments are made by the team."),
        ("2. Review", "Panel review held on 2 November 2026."),
    ]
    site.pages["/a.html"] = chapter_html("Assessments", reviewed)
    for name, rules in (("plain", ()), ("ruled", (r"^Panel review held on",))):
        app = Amendwatch.open(Settings(db_path=tmp_path / f"{name}.db"), clock=lambda: T0)
        app.add_manual(name, f"{site.base_url}/", ignore_patterns=rules)
        app.snapshot(at=T0)
        site.pages["/a.html"] = site.pages["/a.html"].replace("2 November", "9 November")
        app.snapshot(at=T0 + DAY)
        site.pages["/a.html"] = site.pages["/a.html"].replace("9 November", "2 November")
        found = all_changes(app)
        app.close()
        assert found == ([] if rules else [("updated", "a.html")]), name


def test_versions_keep_their_capture_fingerprint(app: Amendwatch, site: MiniSite) -> None:
    def fingerprints() -> dict[int, str | None]:
        rows = app.db.execute("SELECT id, fingerprint FROM versions ORDER BY id").fetchall()
        return {int(row[0]): row[1] for row in rows}

    stored = fingerprints()
    assert stored and all(stored.values())  # written with each version
    app.db.execute("UPDATE versions SET fingerprint = NULL")  # as from an older release
    app.snapshot(at=T0 + DAY)
    assert fingerprints() == stored  # computed once from the stored capture, and kept
    site.pages["/a.html"] = site.pages["/a.html"].replace("45 working days", "40 working days")
    app.snapshot(at=T0 + 2 * DAY)
    after = fingerprints()
    (new_id,) = set(after) - set(stored)
    assert after[new_id] and after[new_id] not in stored.values()


def test_a_redirect_chain_is_recorded_with_the_observation(tmp_path: Path, site: MiniSite) -> None:
    site.pages["/"] = contents_html(
        [("1.1", "Assessments", "/old/a.html"), ("1.2", "Referrals", "/b.html")]
    )
    site.redirects["/old/a.html"] = "/moved/a.html"
    site.redirects["/moved/a.html"] = "/a.html"
    app = Amendwatch.open(Settings(db_path=tmp_path / "r.db"), clock=lambda: T0)
    app.add_manual("r", f"{site.base_url}/")
    app.snapshot(at=T0)
    (row,) = app.db.execute(
        "SELECT url, final_url, headers FROM observations WHERE url LIKE '%/old/a.html'"
    ).fetchall()
    app.close()
    assert row[1] == f"{site.base_url}/a.html"
    chain = [value for key, value in json.loads(row[2]) if key == "X-Amendwatch-Redirected-From"]
    assert chain == [f"{site.base_url}/old/a.html", f"{site.base_url}/moved/a.html"]
