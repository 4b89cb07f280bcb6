"""Large changes are confirmed in the run that sees them (amendwatch/confirm.py), through the
real pipeline over loopback: a rewrite is accepted the same run, an outage never becomes a
version, and what cannot be confirmed is shown as an unconfirmed large change."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from amendwatch.api import Amendwatch
from amendwatch.config import Settings
from amendwatch.confirm import UNCONFIRMED, UNCONFIRMED_CHANGE
from reports.periods import parse_range
from tests.integration.minisite import MiniSite, chapter_html, contents_html

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
LONG = [
    (f"{n}. Heading Number {n}", f"Paragraph {n} of the procedure. " + "The duty applies. " * 60)
    for n in range(1, 9)
]
REWRITE = [("1. Heading Number 1", "A much shorter procedure now applies to everyone.")] + [
    (f"{n}. New Part {n}", f"New text {n} for the rewritten chapter.") for n in range(2, 4)
]


@pytest.fixture
def site() -> Iterator[MiniSite]:
    with MiniSite() as running:
        running.pages["/"] = contents_html([("1.1", "Visits", "/a.html")])
        running.pages["/a.html"] = chapter_html("Visits", LONG)
        yield running


@pytest.fixture
def app(tmp_path: Path, site: MiniSite) -> Iterator[Amendwatch]:
    settings = Settings(db_path=tmp_path / "aw.db", confirm_delay=0.0)
    opened = Amendwatch.open(settings, clock=lambda: T0)
    opened.add_manual("m", f"{site.base_url}/")
    opened.snapshot(at=T0)
    yield opened
    opened.close()


def outcome(app: Amendwatch, at: datetime) -> tuple[str, str]:
    (result,) = app.snapshot(at=at).results
    (chapter,) = result.outcomes
    return chapter.outcome, chapter.reason


def versions(app: Amendwatch) -> int:
    return int(app.db.execute("SELECT count(*) FROM versions").fetchone()[0])


def test_a_real_rewrite_that_shrinks_is_accepted_the_same_run(
    app: Amendwatch, site: MiniSite
) -> None:
    site.pages["/a.html"] = chapter_html("Visits", REWRITE)
    assert outcome(app, T0 + WEEK)[0] == "new-version"
    assert versions(app) == 2
    (change,) = app.changes(parse_range("2026-11-01", "2026-12-31"))
    assert change.diff.kind == "updated" and change.diff.substantive


def test_a_rewrite_that_differs_between_fetches_but_keeps_its_structure_is_accepted(
    app: Amendwatch, site: MiniSite
) -> None:
    first = chapter_html("Visits", REWRITE)
    site.queued["/a.html"] = [first, first.replace("everyone", "every family")]
    site.pages["/a.html"] = first.replace("everyone", "all staff")
    assert outcome(app, T0 + WEEK)[0] == "new-version"
    assert versions(app) == 2


@pytest.mark.parametrize(
    ("title", "text"),
    [
        ("Scheduled maintenance", "The site is down for scheduled maintenance until 6pm."),
        ("Visits", "Sorry, we couldn't find that page."),
        ("Service temporairement indisponible", "Le site est en maintenance."),
        ("Visits", "Temporarily offline. We'll be back soon."),
    ],
)
def test_maintenance_and_soft_404_pages_never_become_versions(
    app: Amendwatch, site: MiniSite, title: str, text: str
) -> None:
    site.pages["/a.html"] = chapter_html(title, [("Notice", text)])
    for week in (1, 2):
        found, reason = outcome(app, T0 + week * WEEK)
        assert found == "suspect" and reason
    assert versions(app) == 1
    assert app.changes(parse_range("2026-11-01", "2026-12-31")) == ()


def test_a_large_change_the_second_fetch_contradicts_is_shown_unconfirmed(
    app: Amendwatch, site: MiniSite
) -> None:
    site.queued["/a.html"] = [chapter_html("Visits", REWRITE)]  # then the full page again
    found, reason = outcome(app, T0 + WEEK)
    assert found == "suspect" and reason.startswith(UNCONFIRMED)
    assert versions(app) == 1
    shown = app.changes_json(parse_range("2026-11-01", "2026-12-31"))
    (item,) = shown["unconfirmed"]
    assert item["url"].endswith("/a.html") and len(item["captures"]) == 2
    assert len(set(item["captures"])) == 2  # both captures, as evidence


def test_one_page_served_for_every_chapter_of_a_first_snapshot_is_refused(
    tmp_path: Path, site: MiniSite
) -> None:
    listed = [("1.1", f"Chapter {n}", f"/c{n}.html") for n in range(1, 5)]
    site.pages["/"] = contents_html(listed)
    generic = chapter_html("Welcome", [("Our Site", "We are improving our website. " * 20)])
    for n in range(1, 5):
        site.pages[f"/c{n}.html"] = generic
    app = Amendwatch.open(Settings(db_path=tmp_path / "first.db", confirm_delay=0.0))
    app.add_manual("m", f"{site.base_url}/")
    (result,) = app.snapshot(at=T0).results
    assert {o.outcome for o in result.outcomes} == {"suspect"}
    assert versions(app) == 0
    app.close()


def test_an_ordinary_change_two_fetches_disagree_on_is_shown_then_taken_next_run(
    app: Amendwatch, site: MiniSite
) -> None:
    edited = chapter_html("Visits", [(LONG[0][0], LONG[0][1] + " New duty."), *LONG[1:]])
    site.pages["/a.html"] = edited
    site.queued["/a.html"] = [edited, edited.replace("New duty.", "Other duty.")]
    found, reason = outcome(app, T0 + WEEK)
    assert found == "suspect" and reason.startswith(UNCONFIRMED_CHANGE)
    (item,) = app.changes_json(parse_range("2026-11-01", "2026-12-31"))["unconfirmed"]
    assert len(set(item["captures"])) == 2
    assert outcome(app, T0 + 2 * WEEK)[0] == "new-version"  # stable again: taken
