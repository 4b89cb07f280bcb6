"""The editor's workflow through the CLI: list, edit, approve, reject, history, export."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner, Result
from reports_builders import added, change, prebirth_change, section

from amendwatch.api import Amendwatch
from amendwatch.cli import cli
from amendwatch.config import Settings
from reports.draft import draft_entries
from reports.periods import parse_month
from store.drafts import save_drafts

NOVEMBER = parse_month("2026-11")
SAVED_AT = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def run(db: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", str(db), *args])


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """Three stored drafts for November 2026: updated, new and removed chapters."""
    path = tmp_path / "aw.db"
    new = change(
        (added(section(None, "Scope", "This chapter explains how to respond to dogs.")),),
        change_id=2,
        kind="new",
        title="Dogs",
        url="https://example.trixonline.co.uk/chapter/dogs",
    )
    gone = change((), change_id=3, kind="removed", title="Visits", url="https://x.test/visits")
    entries = draft_entries([prebirth_change(), new, gone], NOVEMBER)
    app = Amendwatch.open(Settings(db_path=path))
    try:
        save_drafts(app.db, entries, NOVEMBER, SAVED_AT)
    finally:
        app.close()
    return path


def _ids(db: Path) -> dict[str, int]:
    listed = json.loads(run(db, "draft", "list", "--period", "2026-11", "--format", "json").output)
    return {row["chapter"]: row["id"] for row in listed["drafts"]}


def test_list_shows_ids_status_and_who_changed_last(db: Path) -> None:
    result = run(db, "draft", "list", "--period", "2026-11")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:3] == ["ID", "STATUS", "CATEGORY"]
    icpc = next(line for line in lines if "Initial Child Protection Conferences" in line)
    assert icpc.split()[1:4] == ["draft", "updated", "amendwatch"]
    assert len(lines) == 4


def test_export_writes_only_approved_entries_with_the_edited_text(db: Path) -> None:
    ids = _ids(db)
    edited = "This chapter has been updated to add a note on first reviews (see Section 8)."
    assert run(db, "draft", "edit", str(ids["Initial Child Protection Conferences"]),
               "--text", edited, "--who", "alice").exit_code == 0  # fmt: skip
    for chapter in ("Initial Child Protection Conferences", "Dogs"):
        assert run(db, "draft", "approve", str(ids[chapter]), "--who", "bob").exit_code == 0
    assert run(db, "draft", "reject", str(ids["Visits"]), "--who", "bob").exit_code == 0

    page = run(db, "draft", "export", "--period", "2026-11", "--format", "md").output
    assert f"| Initial Child Protection Conferences | {edited} |" in page
    assert "| Dogs | This chapter explains how to respond to dogs. |" in page
    assert "Visits" not in page
    assert page.index("### Updated Chapters") < page.index("### New Chapters and Features")
    assert "Removed Chapters" not in page

    listed = run(db, "draft", "list", "--period", "2026-11").output
    assert "rejected" in listed and listed.count("approved") == 2 and "bob" in listed


def test_export_html_has_the_seeds_layout(db: Path, tmp_path: Path) -> None:
    ids = _ids(db)
    run(db, "draft", "approve", str(ids["Visits"]))
    out = tmp_path / "page.html"
    result = run(db, "draft", "export", "--period", "2026-11", "-o", str(out))
    assert result.exit_code == 0, result.output
    soup = BeautifulSoup(out.read_text(), "html.parser")
    assert soup.find("h2").get_text(strip=True) == "November 2026"
    assert [h.get_text(strip=True) for h in soup.find_all("h3")] == ["Removed Chapters"]
    headers = [th.get_text(strip=True) for th in soup.find("table").find_all("th")]
    assert headers == ["Chapter Name", "Details"]
    cells = [td.get_text(" ", strip=True) for td in soup.find("tbody").find_all("td")]
    assert cells == ["Visits", "This chapter has been removed."]


def test_export_with_nothing_approved_is_a_one_line_error(db: Path) -> None:
    result = run(db, "draft", "export", "--period", "2026-11")
    assert result.exit_code == 1
    assert "no approved entries for November 2026 (3 stored drafts)" in result.output
    assert "draft approve ID" in result.output


def test_history_records_who_did_what(db: Path) -> None:
    draft_id = _ids(db)["Dogs"]
    run(db, "draft", "edit", str(draft_id), "--text", "Rewritten.", "--who", "carol")
    run(db, "draft", "approve", str(draft_id), "--who", "dave")
    history = run(db, "draft", "history", str(draft_id)).output.splitlines()
    assert history[0].startswith(f"draft {draft_id} [approved] Dogs")
    assert history[2].split()[1:] == ["carol", "edit:", "Rewritten."]
    assert history[3].split()[1:] == ["dave", "approved"]
    assert history[-1] == "  current text: Rewritten."
