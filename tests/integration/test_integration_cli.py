"""The command line end to end: CliRunner over a real database and the demo site on loopback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from amendwatch.cli import cli
from amendwatch.demo.server import DemoServer

AT1 = "2026-11-02T09:00:00+00:00"
AT2 = "2026-11-09T09:00:00+00:00"


def run(db: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--db", str(db), *args], catch_exceptions=False)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A database with two editions of the demo manual snapshotted through the CLI."""
    path = tmp_path_factory.mktemp("cli") / "aw.db"
    with DemoServer() as server:
        added = run(
            path,
            "manual",
            "add",
            "northmoor",
            f"{server.base_url}/",
            "--amendments-url",
            f"{server.base_url}/amendments.html",
        )
        assert added.exit_code == 0, added.output
        first = run(path, "snapshot", "--at", AT1)
        assert first.exit_code == 0, first.output
        server.set_edition(2)
        second = run(path, "snapshot", "--at", AT2)
        assert second.exit_code == 0, second.output
        assert "changed 3" in second.output  # incl. the cosmetic-only chapter
        yield path


def test_help_lists_every_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    for command in (
        "manual",
        "snapshot",
        "changes",
        "diff",
        "draft",
        "report",
        "history",
        "show",
        "verify",
        "schedule",
        "demo",
        "amendments",
        "runs",
    ):
        assert f"  {command} " in result.output or f"  {command}\n" in result.output, command


def test_manual_list(db: Path) -> None:
    result = run(db, "manual", "list")
    assert result.output.startswith("northmoor\thttp://127.0.0.1:")


def test_changes_json_has_the_design_shape(db: Path) -> None:
    result = run(
        db, "changes", "--since", "2026-11-09", "--until", "2026-11-15", "--format", "json"
    )
    data = json.loads(result.output)
    assert set(data) == {"changes", "unconfirmed"} and data["unconfirmed"] == []
    first = data["changes"][0]
    assert {"chapter_url", "kind", "old_version", "new_version", "sections"} <= set(first)
    section = first["sections"][0]
    assert {
        "kinds",
        "old",
        "new",
        "inserted",
        "deleted",
        "links_added",
        "links_removed",
        "cosmetic",
    } <= set(section)
    refs = [s["new"] or s["old"] for c in data["changes"] for s in c["sections"]]
    assert all(set(ref) == {"number", "title", "path"} for ref in refs)


def test_changes_text_names_sections(db: Path) -> None:
    result = run(db, "changes", "--since", "2026-11-09")
    assert "Initial Child Protection Conferences" in result.output
    assert "Section 5, Pre-birth Conferences: added" in result.output


def test_diff_text_shows_the_duration_edit(db: Path) -> None:
    result = run(db, "diff", "Initial Child Protection")
    assert result.exit_code == 0
    assert "10" in result.output and "15" in result.output
    assert "Pre-birth Conferences" in result.output


def test_draft_names_changed_sections(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "drafts.md"
    result = run(db, "draft", "--period", "2026-11", "--format", "md", "-o", str(out))
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert "Updated Chapters" in text
    assert "Section 4, Conference Timescales" in text
    assert "Domestic Abuse" in text
    assert "Agency Roles" not in text  # cosmetic only: no entry


def test_draft_edit_and_approve(db: Path) -> None:
    run(db, "draft", "--period", "2026-11", "--format", "json")
    draft_id = run(db, "draft", "--period", "2026-11", "--format", "json")
    assert draft_id.exit_code == 0
    stored = json.loads(draft_id.output)
    assert stored
    edited = run(db, "draft", "edit", "1", "--text", "Edited by hand.")
    assert edited.exit_code == 0, edited.output
    approved = run(db, "draft", "approve", "1")
    assert approved.exit_code == 0, approved.output
    missing = run(db, "draft", "approve", "999")
    assert missing.exit_code == 1
    assert "Error:" in missing.output and "Traceback" not in missing.output


def test_report_html_and_md(db: Path, tmp_path: Path) -> None:
    html_file = tmp_path / "r.html"
    result = run(
        db, "report", "--since", "2026-11-09", "--until", "2026-11-15", "-o", str(html_file)
    )
    assert result.exit_code == 0, result.output
    assert "Initial Child Protection Conferences" in html_file.read_text()
    md = run(db, "report", "--week", "2026-W46", "--format", "md")
    assert "Initial Child Protection Conferences" in md.output


def test_history_and_section_timeline(db: Path) -> None:
    result = run(db, "history", "Initial Child Protection")
    assert result.output.count("  v") == 2
    section = run(db, "history", "Initial Child Protection", "--section", "Involving the Child")
    assert "6 Involving the Child" in section.output and "7 Involving the Child" in section.output


def test_show_as_of_json_gives_the_version_sections(db: Path) -> None:
    before = run(
        db, "show", "Initial Child Protection", "--as-of", "2026-11-05", "--format", "json"
    )
    data = json.loads(before.output)
    numbers = [s["number"] for s in data["sections"]]
    assert "5" in numbers and data["version"] is not None
    titles = {s["number"]: s["title"] for s in data["sections"]}
    assert titles["5"] == "Who Should Attend"
    after = run(db, "show", "Initial Child Protection", "--as-of", "2026-11-10", "--format", "json")
    assert {s["number"]: s["title"] for s in json.loads(after.output)["sections"]}["5"] == (
        "Pre-birth Conferences"
    )
    early = run(db, "show", "Initial Child Protection", "--as-of", "2026-10-01")
    assert "not yet observed" in early.output


def test_verify_ok(db: Path) -> None:
    result = run(db, "verify")
    assert result.exit_code == 0
    assert result.output.startswith("verify ok")


def test_runs_lists_both_snapshots(db: Path) -> None:
    result = run(db, "runs")
    assert result.output.count("run ") >= 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("manual", "add", "x", "not a url"), "http"),
        (("snapshot", "nosuchmanual"), "nosuchmanual"),
        (("snapshot", "--at", "yesterday-ish"), "2026"),
        (("show", "Conferences", "--as-of", "2026-11-05"), "matches 2 chapters"),
        (("history", "No Such Chapter"), "No Such Chapter"),
        (("draft", "--period", "2026-13"), "YYYY-MM"),
        (("report", "--week", "2026-W99"), "W"),
    ],
)
def test_bad_input_is_a_one_line_error(db: Path, args: tuple[str, ...], message: str) -> None:
    result = run(db, *args)
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    error_lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1, result.output
    assert message.lower() in error_lines[0].lower()


def test_not_a_database(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.txt"
    bogus.write_text("hello, this is not a database\n" * 10)
    result = run(bogus, "manual", "list")
    assert result.exit_code == 1
    assert "Error:" in result.output and "Traceback" not in result.output
    assert bogus.read_text().startswith("hello")


def test_show_as_of_text_gives_honest_bounds(db: Path) -> None:
    before = run(db, "show", "Initial Child Protection", "--as-of", "2026-11-05")
    assert "seen unchanged from 2026-11-02 09:00 to 2026-11-02 09:00" in before.output
    assert "changed between 2026-11-02 09:00 and 2026-11-09 09:00" in before.output
    after = run(db, "show", "Initial Child Protection", "--as-of", "2026-11-12", "--section", "4")
    assert "seen unchanged from 2026-11-09 09:00" in after.output
    assert "no change observed since" in after.output
    assert "within 10 working days" in after.output
    assert "Section 5" not in after.output  # only the section asked for


def test_manual_rules_are_stored_and_listed(tmp_path: Path) -> None:
    db = tmp_path / "rules.db"
    added = run(
        db,
        "manual",
        "add",
        "m",
        "https://manual.example/",
        "--ignore",
        "div.sidebar",
        "--ignore-text",
        "^Page reviewed",
        "--allow-host",
        "docs.example",
        "--no-check",  # manual.example is not served
    )
    assert added.exit_code == 0, added.output
    listed = run(db, "manual", "list").output
    assert "ignore: div.sidebar" in listed
    assert "ignore text: ^Page reviewed" in listed
    assert "allow host: docs.example" in listed


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--ignore", "div[", "invalid CSS selector"),
        ("--ignore-text", "([x", "invalid pattern"),
        ("--allow-host", "bad host", "not a valid host"),
    ],
)
def test_bad_manual_rules_are_refused(
    tmp_path: Path, option: str, value: str, message: str
) -> None:
    db = tmp_path / "rules.db"
    result = run(db, "manual", "add", "m", "https://manual.example/", option, value)
    assert result.exit_code == 1
    assert message in result.output and "Traceback" not in result.output
    assert "m\t" not in run(db, "manual", "list").output


def test_snapshot_verbose_prints_each_chapter(tmp_path: Path) -> None:
    db = tmp_path / "v.db"
    with DemoServer() as server:
        run(db, "manual", "add", "northmoor", f"{server.base_url}/")
        result = CliRunner().invoke(
            cli, ["--db", str(db), "snapshot", "--verbose", "--at", AT1], catch_exceptions=False
        )
    assert result.exit_code == 0
    lines = [line for line in result.output.splitlines() if "/chapters/" in line]
    assert len(lines) == 12 and all(line.split()[0] == "new-version" for line in lines)
