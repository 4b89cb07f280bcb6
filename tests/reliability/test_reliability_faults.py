"""Bad days on the publisher's side: each fault injected by a loopback server, driven through
the real pipeline (``Amendwatch``) and a real SQLite file.

For every fault: the run completes for the other chapters, the faulty page is recorded as
failed/suspect and listed under "not checked" in the next report, and no version, section
or change (removal above all) is invented.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from amendwatch.api import Amendwatch
from amendwatch.config import Settings
from reports.periods import parse_range
from scraper.fetch import FetchPolicy
from store.versions import version_chapter
from tests.reliability.faultsite import CHAPTERS, MAX_BYTES, Fault, FaultSite, chapter_path

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
T1 = T0 + timedelta(days=1)
POLICY = FetchPolicy(
    connect_timeout=1.0,
    read_timeout=0.15,
    retries=2,
    backoff=0.001,
    max_retry_after=0.01,  # caps Retry-After and backoff: no real waiting in tests
    max_bytes=MAX_BYTES,
)
FAULTY = chapter_path(3)

# fault kind -> the outcomes it may be recorded with
NOT_CHECKED = {
    "503": {"failed"},
    "500": {"failed"},
    "429": {"failed"},
    "slow": {"failed"},
    "reset": {"failed"},
    "truncated": {"failed"},
    "cut-off": {"suspect"},
    "oversize": {"failed"},
    "oversize-chunked": {"failed"},
    "redirect-loop": {"failed"},
    "offsite": {"failed"},
    "404": {"failed"},
    "login-page": {"suspect"},
    "empty": {"suspect", "failed"},
}


@pytest.fixture(scope="module")
def running_site() -> Iterator[FaultSite]:
    with FaultSite() as running:
        running.slow_seconds = 0.4
        yield running


@pytest.fixture(scope="module")
def baseline(running_site: FaultSite, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database holding one clean snapshot (at T0) of the site, copied by each test."""
    path = tmp_path_factory.mktemp("baseline") / "aw.db"
    app = Amendwatch.open(Settings(db_path=path, fetch=POLICY), clock=lambda: T0)
    app.add_manual("faulty", f"{running_site.base_url}/")
    report = app.snapshot(["faulty"], at=T0)
    assert report.results[0].checked == CHAPTERS
    app.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    app.close()
    return path


@pytest.fixture
def site(running_site: FaultSite) -> Iterator[FaultSite]:
    yield running_site
    running_site.faults.clear()
    running_site.disallow.clear()
    running_site.hits.clear()


@pytest.fixture
def app(tmp_path: Path, baseline: Path, site: FaultSite) -> Iterator[Amendwatch]:
    path = tmp_path / "aw.db"
    shutil.copyfile(baseline, path)
    opened = Amendwatch.open(Settings(db_path=path, fetch=POLICY), clock=lambda: T1)
    yield opened
    opened.close()


def record_of(app: Amendwatch, url: str) -> dict[str, Any]:
    """Every stored fact about one chapter that a fault must not alter."""
    (chapter_id,) = app.db.execute("SELECT id FROM chapters WHERE url = ?", [url]).fetchone()
    rows = app.db.execute(
        "SELECT id, content_hash, valid_to FROM versions WHERE chapter_id = ? ORDER BY id",
        [chapter_id],
    ).fetchall()
    sections = app.db.execute(
        "SELECT s.id, s.lineage_id FROM sections s JOIN versions v ON v.id = s.version_id"
        " WHERE v.chapter_id = ? ORDER BY s.id",
        [chapter_id],
    ).fetchall() + [  # the sections' text, as the store reads it from each version's content
        section.text
        for row in app.db.query("SELECT * FROM versions WHERE chapter_id = ?", [chapter_id])
        for section in version_chapter(app.db, row).sections
    ]
    changes = app.db.execute(
        "SELECT COUNT(*) FROM changes WHERE chapter_id = ?", [chapter_id]
    ).fetchone()
    removed = app.db.execute(
        "SELECT removed_at, missing_count FROM chapters WHERE id = ?", [chapter_id]
    ).fetchone()
    return {"versions": rows, "sections": sections, "changes": changes, "removed": removed}


def last_outcome(app: Amendwatch, url: str) -> tuple[str, str]:
    row = app.db.execute(
        "SELECT outcome, reason FROM observations WHERE url = ? AND role = 'chapter'"
        " ORDER BY id DESC LIMIT 1",
        [url],
    ).fetchone()
    return row[0], row[1]


def not_checked_in_report(app: Amendwatch) -> set[str]:
    period = parse_range("2026-11-03", "2026-11-03")
    data = json.loads(app.report(period, fmt="json"))
    html = app.report(period, fmt="html")
    urls = {f["url"] for f in data["failures"]}
    for url in urls:
        assert url in html.split('id="not-checked"', 1)[1]
    return urls


def run_with_fault(app: Amendwatch, site: FaultSite, kind: str) -> dict[str, Any]:
    url = site.url(FAULTY)
    before = {n: record_of(app, site.url(chapter_path(n))) for n in range(1, CHAPTERS + 1)}
    site.faults[FAULTY] = Fault(kind)
    report = app.snapshot(["faulty"], at=T1)
    (result,) = report.results
    by_url = {o.url: o.outcome for o in result.outcomes}
    others = {u: o for u, o in by_url.items() if u != url}
    assert len(others) == CHAPTERS - 1
    assert set(others.values()) == {"unchanged"}, others
    for n in range(1, CHAPTERS + 1):
        assert record_of(app, site.url(chapter_path(n))) == before[n]
    return {"outcome": by_url[url], "result": result, "report": report}


@pytest.mark.parametrize("kind", sorted(NOT_CHECKED))
def test_a_faulty_chapter_is_not_checked_and_nothing_is_invented(
    app: Amendwatch, site: FaultSite, kind: str
) -> None:
    url = site.url(FAULTY)
    ran = run_with_fault(app, site, kind)
    outcome, reason = last_outcome(app, url)
    assert ran["outcome"] in NOT_CHECKED[kind]
    assert outcome == ran["outcome"] and reason
    assert ran["result"].failed == 1
    assert not_checked_in_report(app) == {url}


def test_binary_junk_is_suspect_and_invents_nothing(app: Amendwatch, site: FaultSite) -> None:
    ran = run_with_fault(app, site, "binary-junk")
    assert ran["outcome"] in ("suspect", "failed")


@pytest.mark.parametrize(
    "kind",
    [
        "malformed",
        "wrong-charset",
        "mixed-charset",
        "latin1-declared-utf8-sent",
    ],
)
def test_readable_damage_keeps_the_text_and_invents_no_version(
    app: Amendwatch, site: FaultSite, kind: str
) -> None:
    """Unclosed tags or a misdeclared charset still carry the same words: either the page is
    read as unchanged, or it is not checked; never a new version."""
    ran = run_with_fault(app, site, kind)
    if ran["outcome"] != "unchanged":
        assert ran["outcome"] in ("failed", "suspect")
        assert not_checked_in_report(app) == {site.url(FAULTY)}


def test_storms_that_pass_within_the_retries_are_checked(app: Amendwatch, site: FaultSite) -> None:
    site.faults[chapter_path(1)] = Fault("503", times=2)
    site.faults[chapter_path(2)] = Fault("429", times=1)
    site.faults[chapter_path(4)] = Fault("reset", times=1)
    site.hits.clear()
    (result,) = app.snapshot(["faulty"], at=T1).results
    assert result.failed == 0 and result.checked == CHAPTERS
    assert site.hits[chapter_path(1)] == 3
    assert site.hits[chapter_path(2)] == 2
    assert not_checked_in_report(app) == set()


def test_a_503_storm_is_retried_exactly_the_policy_number_of_times(
    app: Amendwatch, site: FaultSite
) -> None:
    site.hits.clear()
    run_with_fault(app, site, "503")
    assert site.hits[FAULTY] == POLICY.retries + 1


def test_robots_txt_disallowing_a_chapter(app: Amendwatch, site: FaultSite) -> None:
    url = site.url(FAULTY)
    before = record_of(app, url)
    site.disallow.append(FAULTY)
    (result,) = app.snapshot(["faulty"], at=T1).results
    assert last_outcome(app, url) == ("failed", "disallowed by robots.txt")
    assert result.count("unchanged") == CHAPTERS - 1
    assert record_of(app, url) == before
    assert not_checked_in_report(app) == {url}


def test_the_contents_page_failing_still_checks_the_known_chapters(
    app: Amendwatch, site: FaultSite
) -> None:
    before = {n: record_of(app, site.url(chapter_path(n))) for n in range(1, CHAPTERS + 1)}
    site.faults["/"] = Fault("503")
    (result,) = app.snapshot(["faulty"], at=T1).results
    assert not result.contents_ok
    assert result.count("unchanged") == CHAPTERS
    assert {n: record_of(app, site.url(chapter_path(n))) for n in before} == before
    assert not_checked_in_report(app) == {site.url("/")}


def test_a_bad_day_with_many_faults_at_once(app: Amendwatch, site: FaultSite) -> None:
    kinds = ["503", "slow", "reset", "truncated", "oversize", "redirect-loop", "404"]
    before = {n: record_of(app, site.url(chapter_path(n))) for n in range(1, CHAPTERS + 1)}
    for n, kind in enumerate(kinds, start=1):
        site.faults[chapter_path(n)] = Fault(kind)
    (result,) = app.snapshot(["faulty"], at=T1).results
    assert result.failed == len(kinds)
    assert result.count("unchanged") == CHAPTERS - len(kinds)
    assert {n: record_of(app, site.url(chapter_path(n))) for n in before} == before
    faulty = {site.url(chapter_path(n)) for n in range(1, len(kinds) + 1)}
    assert not_checked_in_report(app) == faulty
    # the next good day checks everything again
    site.faults.clear()
    (healed,) = app.snapshot(["faulty"], at=T1 + timedelta(hours=1)).results
    assert healed.count("unchanged") == CHAPTERS
