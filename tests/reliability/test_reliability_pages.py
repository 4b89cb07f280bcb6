"""Broken and hostile *pages* (issue 19, points 1, 4 and 5), through the real command line.

A ``FaultSite`` on loopback serves a manual of 8 chapters; one chapter (or all of them) is
replaced by a hostile or broken page served with status 200: deeply nested or unclosed markup,
a page over the element budget, maintenance and "not found" pages in English and German, the
same body for every chapter, a body cut at 75 % with a matching Content-Length. The real
``amendwatch snapshot`` command (click's runner over ``amendwatch.cli``, a real SQLite file)
must finish with exit 0 or 3, print no traceback, leave no run ``running``, check the other
chapters, and never store a version (or report a change) from the broken page.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from amendwatch.cli import cli
from scraper.analysis import MAX_PAGE_ELEMENTS
from tests.reliability.faultsite import CHAPTERS, FaultSite, chapter_html, chapter_path

T0 = "2026-11-09T09:00:00+00:00"
T1 = "2026-11-10T09:00:00+00:00"
BROKEN = 3  # the chapter that misbehaves
FILLER = "The practitioner records the decision and the reasons for it on the case file."


def run(db: Path, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["--db", str(db), *args])
    assert "Traceback" not in result.output, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    return result


def snapshot(db: Path, at: str) -> Result:
    result = run(db, "snapshot", "--at", at)
    assert result.exit_code in (0, 3), result.output
    return result


def query(db: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).fetchall()


def observations(db: Path, path: str) -> list[tuple[str, str, str]]:
    """(observed_at, outcome, reason) of every observation of the chapter at ``path``."""
    rows = query(
        db,
        "SELECT observed_at, outcome, reason FROM observations WHERE url LIKE ? ORDER BY id",
        f"%{path}",
    )
    return [(str(a), str(b), str(c)) for a, b, c in rows]


def versions(db: Path, path: str) -> int:
    (row,) = query(
        db,
        "SELECT count(*) FROM versions JOIN chapters ON chapters.id = versions.chapter_id "
        "WHERE chapters.url LIKE ?",
        f"%{path}",
    )
    return int(str(row[0]))


def assert_runs_finished(db: Path) -> None:
    assert query(db, "SELECT id FROM runs WHERE status = 'running'") == []


def assert_others_checked(db: Path, at: str) -> None:
    for n in range(1, CHAPTERS + 1):
        if n == BROKEN:
            continue
        outcomes = [
            o for when, o, _ in observations(db, chapter_path(n)) if when.startswith(at[:10])
        ]
        assert outcomes and outcomes[-1] not in ("failed", "suspect"), (n, outcomes)


def assert_not_a_version(db: Path, at: str, path: str = chapter_path(BROKEN)) -> str:
    """The last observation of ``path`` on ``at`` is suspect (or failed) with a reason and no
    version of the chapter started then; returns the reason."""
    seen = [(o, r) for when, o, r in observations(db, path) if when.startswith(at[:10])]
    assert seen, observations(db, path)
    outcome, reason = seen[-1]
    assert outcome in ("suspect", "failed"), seen
    assert reason, seen
    started = query(
        db,
        "SELECT count(*) FROM versions JOIN chapters ON chapters.id = versions.chapter_id "
        "WHERE chapters.url LIKE ? AND versions.valid_from LIKE ?",
        f"%{path}",
        f"{at[:10]}%",
    )
    assert started == [(0,)]
    return reason


@pytest.fixture
def site() -> Iterator[FaultSite]:
    with FaultSite() as served:
        yield served


@pytest.fixture
def db(tmp_path: Path, site: FaultSite) -> Path:
    path = tmp_path / "aw.db"
    added = run(path, "manual", "add", "faulty", site.url("/"))
    assert added.exit_code == 0, added.output
    return path


def chapter_page(body: str, title: str = "Chapter 3: Procedures for case type 3") -> str:
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body><main><h1>{title}</h1>{body}</main></body></html>"
    )


# -- deep nesting, unclosed tags and the element budget (point 1) -------------------------


def unclosed_spans(paragraphs: int = 500) -> str:
    body = "".join(
        (f"<h2>{p // 50 + 1}. Part {p // 50 + 1}</h2>" if p % 50 == 0 else "")
        + f"<p>{FILLER} Step {p}. <span>Note {p}: {FILLER}</p>"
        for p in range(paragraphs)
    )
    return chapter_page(body)


def nested_divs(depth: int = 20_000) -> str:
    body = f"<h2>1. Nested</h2>{'<div>' * depth}<p>{FILLER}</p>{'</div>' * depth}"
    return chapter_page(body)


def over_budget() -> str:
    cells = "<i>x</i>" * (MAX_PAGE_ELEMENTS + 1000)  # 3.2 MB, under the 5 MiB size limit
    return chapter_page(f"<h2>1. Many elements</h2><p>{FILLER}</p><div>{cells}</div>")


def test_five_hundred_unclosed_spans_do_not_crash_the_run(site: FaultSite, db: Path) -> None:
    site.overrides[chapter_path(BROKEN)] = unclosed_spans()
    snapshot(db, T0)
    assert_runs_finished(db)
    assert_others_checked(db, T0)
    seen = observations(db, chapter_path(BROKEN))
    outcome, reason = seen[-1][1], seen[-1][2]
    # ordinary CMS output: it is a chapter (or, at worst, a recorded observation with a reason)
    assert versions(db, chapter_path(BROKEN)) == 1 or (outcome in ("suspect", "failed") and reason)


def test_twenty_thousand_nested_divs_do_not_crash_the_run(site: FaultSite, db: Path) -> None:
    site.overrides[chapter_path(BROKEN)] = nested_divs()
    snapshot(db, T0)
    assert_runs_finished(db)
    assert_others_checked(db, T0)
    seen = observations(db, chapter_path(BROKEN))
    assert seen, "the nested chapter was never observed"
    outcome, reason = seen[-1][1], seen[-1][2]
    assert versions(db, chapter_path(BROKEN)) == 1 or (outcome in ("suspect", "failed") and reason)


def test_a_page_over_the_element_budget_is_suspect_with_the_reason(
    site: FaultSite, db: Path
) -> None:
    site.overrides[chapter_path(BROKEN)] = over_budget()
    result = snapshot(db, T0)
    assert "not checked: " in result.output, result.output
    assert_runs_finished(db)
    assert_others_checked(db, T0)
    reason = assert_not_a_version(db, T0)
    assert f"more than {MAX_PAGE_ELEMENTS:,} elements" in reason, reason
    assert observations(db, chapter_path(BROKEN))[-1][1] == "suspect"


# -- maintenance and soft 404 pages served with 200 (point 4) -----------------------------

MAINTENANCE = {
    "scheduled-maintenance": (
        "<html><head><title>Scheduled maintenance</title></head><body><main>"
        "<h1>Scheduled maintenance</h1><p>This site is being updated. Please come back later "
        "today.</p></main></body></html>"
    ),
    "soft-404": (
        "<html><head><title>Procedures manual</title></head><body><main>"
        "<h1>Sorry, we couldn't find that</h1><p>The page you asked for may have moved. "
        "Use the search box or go to the contents page.</p></main></body></html>"
    ),
    "temporarily-offline": (
        "<html><head><title>Temporarily offline</title></head><body><main>"
        "<h1>Temporarily offline</h1><p>We are making improvements to the manual.</p>"
        "</main></body></html>"
    ),
    "wartungsarbeiten": (
        "<html lang='de'><head><title>Wartungsarbeiten</title></head><body><main>"
        "<h1>Wartungsarbeiten</h1><p>Diese Seite ist wegen Wartungsarbeiten vorübergehend "
        "nicht erreichbar. Bitte versuchen Sie es später erneut.</p></main></body></html>"
    ),
}


@pytest.mark.parametrize("kind", sorted(MAINTENANCE))
def test_a_maintenance_page_on_a_first_snapshot_is_suspect(
    site: FaultSite, db: Path, kind: str
) -> None:
    site.overrides[chapter_path(BROKEN)] = MAINTENANCE[kind]
    result = snapshot(db, T0)
    assert "not checked: " in result.output, result.output
    assert_runs_finished(db)
    assert_others_checked(db, T0)
    assert_not_a_version(db, T0)
    assert observations(db, chapter_path(BROKEN))[-1][1] == "suspect"
    assert versions(db, chapter_path(BROKEN)) == 0


@pytest.mark.parametrize("kind", sorted(MAINTENANCE))
def test_a_maintenance_page_after_a_baseline_is_suspect_and_no_change(
    site: FaultSite, db: Path, kind: str
) -> None:
    assert snapshot(db, T0).exit_code == 0
    site.overrides[chapter_path(BROKEN)] = MAINTENANCE[kind]
    result = snapshot(db, T1)
    assert "not checked: " in result.output, result.output
    assert_runs_finished(db)
    assert_others_checked(db, T1)
    assert_not_a_version(db, T1)
    assert observations(db, chapter_path(BROKEN))[-1][1] == "suspect"
    assert versions(db, chapter_path(BROKEN)) == 1
    assert query(db, "SELECT count(*) FROM changes WHERE detected_at LIKE '2026-11-10%'") == [(0,)]
    changes = run(db, "changes", "--since", "2026-11-10")
    assert "removed" not in changes.output and "renamed" not in changes.output, changes.output


# -- the same body on every chapter (point 4, by structure) -------------------------------


def test_a_first_snapshot_where_every_chapter_is_the_same_body_stores_no_version(
    site: FaultSite, db: Path
) -> None:
    same = chapter_html(1)  # a real-looking chapter, served for every chapter of the manual
    for n in range(1, CHAPTERS + 1):
        site.overrides[chapter_path(n)] = same
    result = snapshot(db, T0)
    assert "not checked: " in result.output, result.output
    assert_runs_finished(db)
    assert query(db, "SELECT count(*) FROM versions") == [(0,)]
    for n in range(1, CHAPTERS + 1):
        outcome, reason = observations(db, chapter_path(n))[-1][1:]
        assert outcome == "suspect" and reason, (n, outcome, reason)


# -- a truncated body with a matching Content-Length (point 5) ----------------------------


def test_a_body_cut_at_three_quarters_is_no_version_and_removes_no_section(
    site: FaultSite, db: Path
) -> None:
    assert snapshot(db, T0).exit_code == 0
    whole = chapter_html(BROKEN)
    assert whole.rstrip().endswith("</html>")
    cut = whole.encode()[: len(whole.encode()) * 3 // 4].decode("utf-8", "ignore")
    # cut inside Section 3, mid-word: accepted, it read "Section 3 modified, Section 4 removed"
    assert "</html>" not in cut and "<h2>3." in cut and "<h2>4." not in cut
    site.overrides[chapter_path(BROKEN)] = cut  # served 200 with a matching Content-Length
    result = snapshot(db, T1)
    assert "not checked: " in result.output, result.output
    assert_runs_finished(db)
    assert_others_checked(db, T1)
    reason = assert_not_a_version(db, T1)
    assert "trunc" in reason or "</html>" in reason, reason
    assert versions(db, chapter_path(BROKEN)) == 1
    assert query(db, "SELECT count(*) FROM changes WHERE detected_at LIKE '2026-11-10%'") == [(0,)]
    changes = run(db, "changes", "--since", "2026-11-10", "--format", "json")
    assert "Section 4" not in changes.output and "removed" not in changes.output, changes.output


# -- a large change to a page whose title is not the chapter's (point 4, by structure) ----


def test_a_large_change_under_another_title_is_refused_as_unconfirmed(
    site: FaultSite, db: Path
) -> None:
    assert snapshot(db, T0).exit_code == 0
    site.overrides[chapter_path(BROKEN)] = chapter_page(
        f"<h2>1. Our new website</h2><p>{FILLER}</p>", title="Welcome to the Council website"
    )
    snapshot(db, T1)  # a large change: fetched again, still not the chapter's title
    assert_runs_finished(db)
    assert_others_checked(db, T1)
    reason = assert_not_a_version(db, T1)
    assert "unconfirmed" in reason and "title" in reason, reason
    assert versions(db, chapter_path(BROKEN)) == 1
    assert query(db, "SELECT count(*) FROM changes WHERE detected_at LIKE '2026-11-10%'") == [(0,)]
