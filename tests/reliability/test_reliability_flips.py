"""Flips (issue 19, point 7): a page alternating between two contents from run to run is
reported as a reversion ("reverted to the version of 9 Nov 2026"), not as a fresh "updated"
change each time, through the real pipeline and command line on a loopback site."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from amendwatch.cli import cli
from tests.integration.minisite import MiniSite, chapter_html, contents_html

INTRO = ("1. Introduction", "This chapter sets out how agencies respond to concerns.")
A = chapter_html(
    "Assessments",
    [INTRO, ("2. Timescales", "The assessment must be completed within 45 working days.")],
)
B = A.replace("45 working days.", "45 working days. A manager must approve any extension.")
DAYS = ["2026-11-09", "2026-11-10", "2026-11-11", "2026-11-12"]


def run(db: Path, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def site() -> Iterator[MiniSite]:
    with MiniSite() as running:
        running.pages["/"] = contents_html(
            [("1.1", "Assessments", "/a.html"), ("1.2", "Referrals", "/b.html")]
        )
        running.pages["/b.html"] = chapter_html("Referrals", [("1. Referrals", "Refer at once.")])
        yield running


def snapshots(db: Path, site: MiniSite, pages: list[str], days: list[str]) -> None:
    run(db, "manual", "add", "mini", f"{site.base_url}/")
    for page, day in zip(pages, days, strict=True):
        site.pages["/a.html"] = page
        run(db, "snapshot", "--quiet", "--at", f"{day}T09:00:00+00:00")


def test_an_alternating_page_is_reported_as_reverted(tmp_path: Path, site: MiniSite) -> None:
    db = tmp_path / "aw.db"
    snapshots(db, site, [A, B, A, B], DAYS)

    text = run(db, "changes", "--since", "2026-11-01").output
    assert text.count("[updated]") == 1 and text.count("[reverted]") == 2
    assert "reverted to the version of 9 Nov 2026 (v1)" in text
    assert "reverted to the version of 10 Nov 2026" in text

    found = json.loads(run(db, "changes", "--since", "2026-11-01", "--format", "json").output)
    flips = [c["flip_of"] for c in found["changes"]]
    assert flips[0] is None
    assert flips[1]["valid_from"].startswith("2026-11-09") and flips[1]["version"] == 1
    assert flips[1]["text"] == "reverted to the version of 9 Nov 2026"

    drafted = json.loads(run(db, "draft", "--period", "2026-11", "--format", "json").output)
    (entry,) = drafted["entries"]  # one entry for the chapter, its net change A -> B
    assert entry["details"].count("This chapter has been updated to note that") == 1
    assert "remove" not in entry["details"]

    digest = run(db, "report", "--since", "2026-11-01", "--until", "2026-11-30", "--format", "md")
    assert "### Assessments (reverted)" in digest.output
    assert "This chapter has been reverted to the version of 9 Nov 2026" in digest.output
    assert "| Chapters reverted to an earlier version | 1 |" in digest.output

    runs = json.loads(run(db, "runs", "--format", "json").output)["runs"]
    counted = [(r["checked"], r["changed"], r["reverted"]) for r in reversed(runs)]
    assert counted == [(2, 0, 0), (2, 1, 0), (2, 1, 1), (2, 1, 1)]
    assert "changed 1 (1 reverted)" in run(db, "runs").output


def test_changes_that_net_out_in_the_period_draft_nothing(tmp_path: Path, site: MiniSite) -> None:
    db = tmp_path / "aw.db"
    snapshots(db, site, [A, B, A], DAYS[:3])
    drafted = json.loads(run(db, "draft", "--period", "2026-11", "--format", "json").output)
    assert drafted["entries"] == []  # back where the month began: nothing to publish


def test_a_revert_to_an_earlier_months_version_is_one_reverted_note(
    tmp_path: Path, site: MiniSite
) -> None:
    db = tmp_path / "aw.db"
    snapshots(db, site, [A, B, A], ["2026-10-05", "2026-10-20", "2026-11-03"])
    drafted = json.loads(run(db, "draft", "--period", "2026-11", "--format", "json").output)
    (entry,) = drafted["entries"]
    assert entry["details"] == (
        "This chapter has been reverted to the version of 5 Oct 2026 (see Section 2, Timescales)."
    )
    assert entry["sections_cited"] == ["Section 2, Timescales"]
    october = json.loads(run(db, "draft", "--period", "2026-10", "--format", "json").output)
    (first,) = october["entries"]
    assert "A manager must approve any extension" in first["details"]
